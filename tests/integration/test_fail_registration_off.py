"""failRegistrationOn=0 (reRegisterOn=1), the advisory to the letter: "existing registrations will
remain active. This means that the phone will attempt failback without first attempting to register
with the primary server to determine if it has recovered." The primary is killed (kill -9) after
alice and bob registered there, they fail over to the secondary, and the primary is started again.
When it is seen up, Switchback sends it no REGISTER (no query), still takes alice's and bob's
registrations there as live, and alice's next call (failBack.mode newRequests) goes back to the
primary. (The restarted registrar has lost bob, so that call is refused there: the price the
advisory states; failover.queryOnRecovery, off by default, asks first.)"""
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 0, onlySignalWithRegistered: 0, failBack: { mode: newRequests }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
time.sleep(1.2)  # Kamailio refuses nonces issued before it started, to the second
primary.crash()
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("bob", "secondary"), 5),
          "alice and bob failed over to the secondary")
h.check(sb.registered_on("alice", "primary"), "(failRegistrationOn=0: the primary registration stays active meanwhile)")
primary.restart()
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the restarted primary is seen up")
time.sleep(2)  # room for a query (paced) and its answer, had one been sent
h.check(not primary.requests("REGISTER"), "no REGISTER (no query) is sent to the recovered primary",
        primary.requests("REGISTER"))
h.check(sb.registered_on("alice", "primary") and sb.registered_on("bob", "primary"),
        "alice's and bob's registrations on the primary remain active",
        [sb.binding("sip:alice@example.com"), sb.binding("sip:bob@example.com")])
h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=10, name="alice")
h.check(wait_until(lambda: primary.requests("INVITE"), 3), "alice's next call fails back to the primary (newRequests)",
        [primary.requests("INVITE"), secondary.requests("INVITE")])
h.finish()
