"""Upstream health: with the default probe settings a primary killed with kill -9 is seen down
within 1 s; phones' requests then go to the secondary (reRegisterOn=0: the nodes share
registration data, requests simply fail over); when the primary is back and answers its
probes, new requests go to it again."""
import time

from harness import Harness, free_port, wait_until

PHONES = 50

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")   # same nonce secret: a failover pair
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)])


def node(name):
    return next(n for n in sb.status()["nodes"] if n["name"] == name)


h.require(wait_until(lambda: node("primary")["probe_latency_ms"] is not None
                     and node("secondary")["probe_latency_ms"] is not None, 5), "both nodes answer probes")
users = h.users([f"u{i}" for i in range(1, PHONES + 1)])
phones_port = free_port()
r = h.sipp("register.xml", sb.port, phones_port, calls=PHONES, rate=500, inf=users)
h.check(r.rc == 0 and sb.status()["bindings"]["registered_by_node"]["primary"] == PHONES,
        f"{PHONES} phones registered via the primary", r)

# --- kill -9 the primary; poll the status until it is seen down.
t0 = time.monotonic()
primary.crash()
down = wait_until(lambda: not node("primary")["usable"], 5, interval=0.01)
detection = time.monotonic() - t0
h.check(down, "the primary is seen down", node("primary"))
h.check(detection <= 1.0, f"detected within 1 s of kill -9 ({detection * 1000:.0f} ms)")
h.figure(f"detection after kill -9 of the primary: {detection * 1000:.0f} ms (probe every 200 ms, timeout 300 ms, "
         f"2 misses to down)")
h.check("no answer to OPTIONS" in node("primary")["reason"], "the status says why", node("primary"))
log = sb.process.output()
h.check(log.count("node 'primary'") == 1 and "is DOWN" in log, "the edge is logged once", log[-1500:])

# --- requests fail over: phones re-register (their refresh) and call via the secondary.
r = h.sipp("register.xml", sb.port, phones_port, calls=PHONES, rate=500, inf=users)
h.check(r.rc == 0, "the phones' refreshes succeed via the secondary", r)
h.check(sb.status()["bindings"]["registered_by_node"]["secondary"] == PHONES, "bindings registered on the secondary")
bob_port = free_port()
h.sipp("register.xml", sb.port, bob_port, inf=h.users(["bob"], "bob"))
alice = h.register_phone(sb.port, "alice")
callee = h.sipp_background("uas_answer.xml", sb.port, bob_port, timeout=20, name="bob")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "a call works via the secondary", r)
h.check(len(secondary.requests("INVITE")) == 2, "the secondary carried the INVITE and the re-INVITE")

# --- the primary comes back: after successes_to_up answered probes, new requests go to it.
t1 = time.monotonic()
primary.restart()
up = wait_until(lambda: node("primary")["usable"], 5, interval=0.01)
h.check(up, f"the primary is seen up again ({(time.monotonic() - t1) * 1000:.0f} ms after restart)", node("primary"))
r = h.sipp("register.xml", sb.port, bob_port, inf=h.users(["bob"], "bob2"))
h.check(r.rc == 0 and len(primary.requests("REGISTER")) == 2, "new requests go to the primary again", r)
h.finish()
