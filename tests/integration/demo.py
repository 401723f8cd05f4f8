"""The README's main job: two local Kamailio registrars (primary and secondary, sharing their
nonce secret), Switchback in front of them, and simulated SIPp phones that register (with
digest authentication) and call each other through it; then the primary dies (kill -9) and
Switchback fails over as the RRoFO advisory describes (reRegisterOn=1, failRegistrationOn=1),
paced. Prints a timeline of what happened. Everything runs on loopback and stops by itself."""
import time

from harness import Harness, free_port, wait_until

PHONES = 200

h = Harness(__doc__)
print("== Switchback demo ==")
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
print(f"Kamailio registrars: primary on 127.0.0.1:{primary.port}, secondary on 127.0.0.1:{secondary.port} "
      f"(digest auth, password 'secret', shared nonce secret)")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml="""
failover: { reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 1, failBack: { mode: newRequests } }
pacing: { registrations_per_second: 100 }
""")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5),
          "both registrars answer Switchback's OPTIONS probes")
print(f"Switchback on udp/tcp 127.0.0.1:{sb.port}, admin http://127.0.0.1:{sb.admin_port}/status")

print(f"\n-- {PHONES} phones register through Switchback")
start = time.monotonic()
r = h.sipp("register.xml", sb.port, calls=PHONES, rate=200, inf=h.users([f"phone{i}" for i in range(1, PHONES + 1)]))
wall = time.monotonic() - start
h.check(r.rc == 0, f"{PHONES} phones registered in {wall:.2f} s ({PHONES / wall:.0f}/s), each after a 401 challenge", r)
st = sb.status()
print(f"   binding table: {st['bindings']['registrants']} registrants, "
      f"registered on primary: {st['bindings']['registered_by_node']['primary']}")

print("\n-- bob registers from a NATed UDP port and answers a call from alice")
bob_port = free_port()
h.check(h.sipp("register.xml", sb.port, bob_port, inf=h.users(["bob"], "bob"), keys={"contact_port": 9}).rc == 0,
        "bob registered (his Contact says port 9; only his source port reaches him)")
b = sb.binding("sip:bob@example.com")
print(f"   bob: contact {b['contacts'][0]['uri']}, flow {b['contacts'][0]['flow']['transport']} "
      f"{b['contacts'][0]['flow']['remote']}, registered on primary for {b['nodes']['primary']['expires_in']} s")
alice = h.register_phone(sb.port, "alice")
callee = h.sipp_background("uas_answer.xml", sb.port, bob_port, timeout=20, name="bob")
time.sleep(0.3)
start = time.monotonic()
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0,
        f"alice → Switchback → registrar → Switchback → bob: INVITE/180/200/ACK, re-INVITE, BYE in "
        f"{(time.monotonic() - start) * 1000:.0f} ms", r)

print("\n-- what Switchback counted (GET /metrics)")
for k, v in sorted(sb.metrics().items()):
    if v and ("requests_total" in k or "responses_total" in k or k.startswith("switchback_registrants")
              or "parse_errors" in k):
        print(f"   {k} {v:.0f}")
print(f"\nThe primary saw {len(primary.requests('REGISTER'))} REGISTERs and "
      f"{len(primary.requests('INVITE'))} INVITEs, all from Switchback.")

print("\n-- failover: kill -9 the primary")
total = sb.status()["bindings"]["registrants"]
t0 = time.monotonic()
primary.crash()
print(f"   t=0.00 s  primary killed")
h.require(wait_until(lambda: not sb.status()["nodes"][0]["usable"], 5, interval=0.01), "the primary is seen down")
print(f"   t={time.monotonic() - t0:.2f} s  Switchback sees it down: {sb.status()['nodes'][0]['reason']}")
last = -1
while time.monotonic() - t0 < 30:
    st = sb.status()
    done = st["bindings"]["registered_by_node"].get("secondary", 0)
    if done != last and (done == total or int(done / total * 4) != int(max(last, 0) / total * 4)):
        print(f"   t={time.monotonic() - t0:.2f} s  {done}/{total} bindings registered on the secondary "
              f"(replaying each phone's last REGISTER, paced at 100/s; queue {st['failover']['reregistration']['queued']})")
    last = done
    if done == total:
        break
    time.sleep(0.05)
h.check(last == total, f"all {total} bindings re-registered on the secondary, none on a node they are not registered on")
callee = h.sipp_background("uas_answer.xml", sb.port, bob_port, timeout=20, name="bob2")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice2")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice calls bob again, now via the secondary", r)
print(f"\nThe secondary saw {len(secondary.requests('REGISTER'))} REGISTERs (all from Switchback, none challenged) "
      f"and {len(secondary.requests('INVITE'))} INVITEs.")
h.finish()
