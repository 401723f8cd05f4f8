"""failRegistrationOn=0 (reRegisterOn=1): "existing registrations will remain active", but a
registrar that was down may have lost them. The primary is killed (kill -9) and restarted with
empty location tables after alice and bob moved to the secondary. When it is seen up again,
Switchback asks it whether it still holds their registrations (a REGISTER with no Contact, with
the last credentials); the restarted registrar refuses the old nonce, nothing is confirmed, and
the registrations there are no longer taken as live. alice's next call (newRequests) then does
not go to a primary that does not know bob (404): it goes via the secondary, where both are
registered, and completes."""
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
h.check(wait_until(lambda: not sb.registered_on("alice", "primary") and not sb.registered_on("bob", "primary"), 3),
        "Switchback asked the primary and no longer takes their registrations there as live",
        [sb.binding("sip:alice@example.com"), sb.binding("sip:bob@example.com")])
callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name="bob")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice's call to bob completes", r)
h.check(not any(x for x in primary.requests("INVITE")), "… not via the restarted primary", primary.requests("INVITE"))
h.finish()
