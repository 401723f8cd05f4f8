"""Two Switchback nodes share their registrations through Redis (cluster.shared_registrations:
true, the advisory's reRegisterOn=0 world). 1,000 phones register via node A; node B knows every
one of them within 1 s, from the changes A publishes (no lookup per request). 100 of those phones
then call via B and their calls complete (B accepts them as registered: no 403), and calls from
the registrar to phones registered via A reach them (the registrar follows A's Path)."""
import time

from harness import Harness, free_port, wait_until

PHONES = 1000
RATE = 500
CALLS = 100

h = Harness(__doc__, ports=(29000, 29299))  # this test's own port range
redis = h.redis()
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
a, b = h.cluster([("primary", primary.uri), ("secondary", secondary.uri)], redis)
h.require(wait_until(lambda: len([n for n in b.status()["cluster"]["nodes"] if n["alive"]]) == 2, 5),
          "B sees both nodes alive in /status", b.status()["cluster"])

# bob answers calls; he registers via A.
bob_port = free_port()
h.require(h.sipp("register.xml", a.port, bob_port, inf=h.users(["bob"], "bob")).rc == 0, "bob registered via A")

load_port = free_port()
users = [f"u{i}" for i in range(1, PHONES + 1)]
r = h.sipp("register.xml", a.port, load_port, calls=PHONES, rate=RATE, inf=h.users(users), timeout=20, name="load")
done = time.monotonic()
h.require(r.rc == 0 and r.successful == PHONES, f"{PHONES} phones registered via A", r)
seen = wait_until(lambda: b.status()["bindings"]["registrants"] >= PHONES + 1, 5, interval=0.02)
seen_after = time.monotonic() - done
h.check(seen and seen_after <= 1.0, f"B knows all {PHONES + 1} registrants {seen_after * 1000:.0f} ms after the last "
        "200 OK (within 1 s)", b.status()["bindings"])
lag = b.status()["cluster"]["store"]["lag_ms"]
h.figure(f"replication A→B over Redis pub/sub: median {lag['median']} ms, p99 {lag['p99']} ms over {lag['samples']} "
         f"changes; all {PHONES} seen by B {seen_after * 1000:.0f} ms after the load ended")
u1 = b.binding("sip:u1@example.com")
h.check(u1 is not None and u1["nodes"]["primary"]["registered"], "B's /status/bindings shows u1 registered on the primary",
        u1)
cl = b.status()["cluster"]
owners = {n["id"]: n["owned"] for n in cl["nodes"]}
h.check(owners.get("a") == PHONES + 1 and owners.get("b") == 0, "B's /status says A owns every registrant", cl)

# 100 of them call bob via B.
regs_before = len(primary.requests("REGISTER"))
ok, r = h.calls(b.port, [(f"u{i}", "bob") for i in range(1, CALLS + 1)], load_port, bob_port, callee_target=a.port,
                rate=50, timeout=25)
h.check(ok, f"{CALLS} phones registered via A call via B and every call completes", r)
invites = [q for q in primary.requests("INVITE") if q["source"].endswith(f":{b.port}")]
h.check(len(invites) >= CALLS, f"the registrar got their INVITEs from B ({len(invites)})")
h.check(len(primary.requests("REGISTER")) == regs_before, "no phone had to register via B first")
h.check(b.metrics().get("switchback_cluster_nodes") == 2, "B's /metrics: switchback_cluster_nodes 2")

# Calls from the registrar towards phones registered via A: bob calls u1..u20 via B.
INBOUND = 20
ok, r = h.calls(b.port, [("bob", f"u{i}") for i in range(1, INBOUND + 1)], bob_port, load_port, callee_target=a.port,
                rate=20, timeout=25)
h.check(ok, f"{INBOUND} calls from the registrar to phones registered via A reach them", r)
h.finish()
