"""A node that wants longer registrations: the secondary refuses the replayed REGISTER (Expires 60)
with 423 Interval Too Brief and Min-Expires 300; Switchback asks again at once for 300 s, and
the binding is registered there."""
from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary", min_expires=300)
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)],
                  extra_yaml="failover: { reRegisterOn: 1, failRegistrationOn: 1 }\n")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
alice = h.register_phone(sb.port, "alice", keys={"expires": 60})
primary.crash()
ok = wait_until(lambda: sb.binding("sip:alice@example.com")["nodes"].get("secondary", {}).get("registered"), 5)
b = sb.binding("sip:alice@example.com")
h.check(ok, "alice is registered on the secondary", b)
h.check(b["nodes"]["secondary"]["expires_in"] > 250, "… for the 300 s the node asked for", b)
regs = secondary.requests("REGISTER")
h.check(len(regs) == 2, "two REGISTERs reached the secondary: the refused one and the retry", regs)
h.check(sb.status()["failover"]["reregistration"]["failed"] == 0, "the 423 did not count as a failure")
h.finish()
