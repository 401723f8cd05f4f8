"""The README's main job: two local Kamailio registrars (primary and secondary, sharing their
nonce secret), Switchback in front of them, and simulated SIPp phones that register (with
digest authentication) and call each other through it; then the primary dies (kill -9) and
Switchback fails over as the RRoFO advisory describes (reRegisterOn=1, failRegistrationOn=1),
paced; the primary comes back and, after failBack.timeout, the phones are moved back, paced
again. Prints a timeline with its figures and writes a PNG plot of bindings per node over time
(gnuplot) to demo-output/. Everything runs on loopback and stops by itself."""
import os
import subprocess
import threading
import time

from harness import Harness, free_port, wait_until

PHONES = 200
FAILBACK_S = 60        # failBack.timeout: the phones move back this long after the failover (the advisory's minimum)
OUT = os.path.join(os.getcwd(), "demo-output")

h = Harness(__doc__)
print("== Switchback demo ==")
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
print(f"Kamailio registrars: primary on 127.0.0.1:{primary.port}, secondary on 127.0.0.1:{secondary.port} "
      f"(digest auth, password 'secret', shared nonce secret)")
# A restarted Kamailio refuses nonces it issued before its restart, so moving the phones back
# to it needs their credentials (surrogate registration); the failover itself replays.
creds = os.path.join(h.dir, "credentials.txt")
with open(creds, "w") as f:
    for user in [f"phone{i}" for i in range(1, PHONES + 1)] + ["alice", "bob"]:
        f.write(f"sip:{user}@example.com {user} secret\n")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml=f'credentials: {{ file: "{creds}" }}\n' + """
failover: { reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 1,
            failBack: { mode: duration, timeout: FAILBACK_S } }
pacing: { registrations_per_second: 100 }
""".replace("FAILBACK_S", str(FAILBACK_S)))
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

print("\n-- failover: kill -9 the primary, then bring it back")
samples = []            # (t, registered on primary, on secondary, signaling via primary, via secondary)
stop_sampling = threading.Event()
t0 = time.monotonic()


def sample():
    while not stop_sampling.is_set():
        st = sb.status()
        reg, sig = st["bindings"]["registered_by_node"], st["bindings"]["signaling_by_node"]
        samples.append((time.monotonic() - t0, reg.get("primary", 0), reg.get("secondary", 0), sig.get("primary", 0),
                        sig.get("secondary", 0), st["nodes"][0]["usable"]))
        time.sleep(0.1)


sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
total = sb.status()["bindings"]["registrants"]
time.sleep(1)
killed = time.monotonic() - t0
primary.crash()
print(f"   t={killed:5.2f} s  primary killed (kill -9); {total} registrants signal via the primary")


def when(predicate, timeout, what):
    ok = wait_until(predicate, timeout, interval=0.02)
    h.check(ok, what)
    return time.monotonic() - t0


def on(node, key="registered_by_node"):
    return sb.status()["bindings"][key].get(node, 0)


seen = when(lambda: not sb.status()["nodes"][0]["usable"], 5, "the primary is seen down")
print(f"   t={seen:5.2f} s  Switchback sees it down ({(seen - killed) * 1000:.0f} ms after the kill): "
      f"{sb.status()['nodes'][0]['reason']}")
half = when(lambda: on("secondary") >= total // 2, 30, "half re-registered on the secondary")
print(f"   t={half:5.2f} s  {on('secondary')}/{total} registered on the secondary (each phone's last REGISTER "
      f"replayed, paced at 100/s)")
done = when(lambda: on("secondary") == total, 30, f"all {total} bindings re-registered on the secondary")
print(f"   t={done:5.2f} s  {total}/{total} on the secondary: {total / (done - seen):.0f} registrations/s "
      f"against a cap of 100/s")

callee = h.sipp_background("uas_answer.xml", sb.port, bob_port, timeout=20, name="bob2")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice2")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice calls bob again, now via the secondary", r)

primary.restart()
back = time.monotonic() - t0
print(f"   t={back:5.2f} s  primary restarted")
up = when(lambda: sb.status()["nodes"][0]["usable"], 10, "the primary is seen up again")
print(f"   t={up:5.2f} s  Switchback sees it up (3 probes answered); phones stay on the secondary until "
      f"failBack.timeout = {FAILBACK_S} s after the failover")
start_fb = when(lambda: on("primary") > 0, FAILBACK_S + 15, "failback starts")
print(f"   t={start_fb:5.2f} s  failback starts: registrations on the primary, paced at 100/s (the restarted "
      f"primary challenges the replayed nonces; Switchback answers with the configured credentials)")
end_fb = when(lambda: on("primary", "signaling_by_node") == total, 30, f"all {total} back on the primary")
print(f"   t={end_fb:5.2f} s  {total}/{total} signal via the primary again ({end_fb - start_fb:.2f} s for the failback)")
time.sleep(1)
stop_sampling.set()
sampler.join()

os.makedirs(OUT, exist_ok=True)
data = os.path.join(OUT, "failover-timeline.dat")
with open(data, "w") as f:
    f.write("# t_s registered_primary registered_secondary signaling_primary signaling_secondary primary_usable\n")
    for row in samples:
        f.write(" ".join(f"{x:.2f}" if isinstance(x, float) else str(int(x)) for x in row) + "\n")
png = os.path.join(OUT, "failover-timeline.png")
script = f"""set terminal pngcairo size 1000,520 font ',10'
set output '{png}'
set title 'Switchback: {total} phones, primary killed at {killed:.1f} s and restarted at {back:.1f} s (failBack duration {FAILBACK_S} s)'
set xlabel 'time (s)'
set ylabel 'registrants'
set key outside bottom center horizontal
set grid
set yrange [0:{total * 1.1:.0f}]
set object 1 rect from {killed:.2f},0 to {up:.2f},{total * 1.1:.0f} fc rgb '#ffdddd' fs solid 0.5 noborder behind
plot '{data}' using 1:2 with lines lw 2 title 'registered on primary', \\
     '' using 1:3 with lines lw 2 title 'registered on secondary', \\
     '' using 1:4 with lines dt 2 lw 2 title 'signaling via primary', \\
     '' using 1:5 with lines dt 2 lw 2 title 'signaling via secondary'
"""
r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
if r.returncode == 0 and os.path.exists(png):
    print(f"\nPlot of bindings per node over time: {png} (data: {data}; shaded: primary down)")
else:
    print(f"\n(no plot: gnuplot said {r.stderr.strip()[:300]}; the data is in {data})")
print(f"\nFigures: detection {(seen - killed) * 1000:.0f} ms; failover of {total} registrants in {done - seen:.2f} s "
      f"({total / (done - seen):.0f}/s, cap 100/s); failback of {total} in {end_fb - start_fb:.2f} s, "
      f"{start_fb - up:.1f} s after the primary was seen up.")
print(f"The primary saw {len(primary.requests('INVITE'))} INVITEs before it died; the secondary saw "
      f"{len(secondary.requests('REGISTER'))} REGISTERs (all from Switchback, none challenged) and "
      f"{len(secondary.requests('INVITE'))} INVITEs.")
h.finish()
