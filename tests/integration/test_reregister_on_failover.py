"""reRegisterOn=1, failRegistrationOn=1: 500 phones registered via the primary; kill -9 the
primary; Switchback registers every binding on the secondary itself, replaying each
registrant's last REGISTER with its last Authorization (the pair shares its nonce secret),
at the configured pace, before any signaling goes there. Calls then work via the secondary,
and no dialog-initiating request ever reaches a node the phone is not registered on."""
import time

from harness import Harness, free_port, wait_until

PHONES = 500
CAP = 200            # pacing.registrations_per_second

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml=f"""
failover:
  reRegisterOn: 1
  failRegistrationOn: 1
  onlySignalWithRegistered: 1
  failBack: {{ mode: newRequests }}
pacing: {{ registrations_per_second: {CAP} }}
""")


def node(name):
    return next(n for n in sb.status()["nodes"] if n["name"] == name)


h.require(wait_until(lambda: node("secondary")["probe_latency_ms"] is not None, 5), "both nodes probed")
phones_port = free_port()
r = h.sipp("register.xml", sb.port, phones_port, calls=PHONES, rate=1000, inf=h.users([f"u{i}" for i in range(1, PHONES + 1)]))
h.check(r.rc == 0, f"{PHONES} phones registered via the primary", r)
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
total = PHONES + 2
h.check(sb.status()["bindings"]["registered_by_node"] == {"primary": total, "secondary": 0},
        "every binding is registered on the primary only", sb.status()["bindings"])

t0 = time.monotonic()
primary.crash()
h.require(wait_until(lambda: not node("primary")["usable"], 5, interval=0.01), "the primary is seen down")
detected = time.monotonic()
h.figure(f"detection after kill -9: {(detected - t0) * 1000:.0f} ms")

# Watch the re-registrations complete, sampling the count to find the highest rate per second.
samples = []
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    st = sb.status()
    samples.append((time.monotonic(), st["failover"]["reregistration"]["registered"]))
    if st["bindings"]["registered_by_node"].get("secondary") == total:
        break
    time.sleep(0.05)
done = time.monotonic()
st = sb.status()
h.check(st["bindings"]["registered_by_node"].get("secondary") == total,
        f"all {total} bindings registered on the secondary", st)
h.check(st["bindings"]["registered_by_node"].get("primary") == 0,
        "failRegistrationOn=1: the registrations on the failed primary were invalidated", st["bindings"])
peak = h.peak_rate(samples)
wall = done - detected
h.figure(f"re-registered {total} bindings on the secondary in {wall:.2f} s after detection "
         f"({total / wall:.0f}/s average, highest over any 1 s window {peak:.0f}/s, cap {CAP}/s)")
h.check(wall >= 0.8 * total / CAP, f"paced: no faster than the cap allows ({wall:.2f} s ≥ {0.8 * total / CAP:.2f} s)")
h.check(peak <= CAP * 1.1, f"the highest 1-second rate stays at the cap ({peak:.0f} ≤ {CAP * 1.1:.0f})")
b = sb.binding("sip:u7@example.com")
h.check(b["last_registered_by"] == "replay" and b["nodes"]["secondary"]["registered"],
        "each binding says how it was registered: replay", b)
regs = secondary.requests("REGISTER")
h.check(len(regs) == total and all(x["source"] == f"127.0.0.1:{sb.port}" for x in regs),
        f"the secondary got exactly {total} REGISTERs, all from Switchback, none challenged", len(regs))

# Calls now work via the secondary.
callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name="bob")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice calls bob via the secondary", r)

# No dialog-initiating request ever reached a node where the phone was not registered: the
# secondary's INVITEs all came after that phone's registration there.
invites = secondary.requests("INVITE")
h.check(len(invites) == 2, "the secondary saw the INVITE and re-INVITE", invites)
reg_index = max(i for i, x in enumerate(secondary.process.output().splitlines()) if "REQ REGISTER" in x)
inv_index = min(i for i, x in enumerate(secondary.process.output().splitlines()) if "REQ INVITE" in x)
h.check(inv_index > reg_index, "the INVITE reached the secondary only after the registrations")
h.finish()
