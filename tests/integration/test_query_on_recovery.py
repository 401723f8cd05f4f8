"""failover.queryOnRecovery: 1 (not in the advisory; off by default) with reRegisterOn=1 and
failRegistrationOn=0: a node seen up again is asked (a REGISTER with no Contact, the last
credentials) whether it still holds each registration. The primary is killed (kill -9) and started
again; it challenges the query (it refuses nonces issued before it started). A challenge says
nothing about the registration, so the registrations there stay active (the advisory: they "remain
active")."""
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 0, onlySignalWithRegistered: 0, queryOnRecovery: 1, "
    "failBack: { mode: newRequests }")
alice = h.register_phone(sb.port, "alice")
time.sleep(1.2)  # Kamailio refuses nonces issued before it started, to the second
primary.crash()
h.require(wait_until(lambda: sb.registered_on("alice", "secondary"), 5), "alice failed over to the secondary")
primary.restart()
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the restarted primary is seen up")
h.check(wait_until(lambda: primary.requests("REGISTER"), 3), "the recovered primary is asked (a query REGISTER)")
time.sleep(1)  # room for the challenge to be handled
h.check(sb.registered_on("alice", "primary"), "a challenge to the query does not drop the registration there",
        sb.binding("sip:alice@example.com"))
h.finish()
