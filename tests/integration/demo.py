"""The README's main job: a local Kamailio registrar, Switchback in front of it, and simulated
SIPp phones that register (with digest authentication) and call each other through it.
Prints what happened. Everything runs on loopback and stops by itself."""
import time

from harness import Harness, free_port

PHONES = 200

h = Harness(__doc__)
print("== Switchback demo ==")
primary = h.kamailio("primary")
print(f"Kamailio registrar 'primary' on udp/tcp 127.0.0.1:{primary.port} (digest auth, password 'secret')")
sb = h.switchback([("primary", primary.uri)])
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
print(f"\nThe registrar saw {len(primary.requests('REGISTER'))} REGISTERs and "
      f"{len(primary.requests('INVITE'))} INVITEs, all from Switchback.")
h.finish()
