"""A BYE refused by onlySignalWithRegistered still ends the call, at both ends (reRegisterOn=1,
failRegistrationOn=1). alice calls bob via the primary; the primary freezes until both are
registered on the secondary, then heals; alice hangs up. Her BYE would go via the primary, the
node she failed over from: Switchback answers it 481 and sends nothing there, bob gets a BYE from
Switchback over his flow, and neither counts as in a call any more."""
import os
import signal

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 1, failBack: { mode: duration, timeout: 3600 }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
callee = h.sipp_background("uas_answer_bye.xml", sb.port, bob, timeout=20, name="bob")
caller = h.sipp_background("uac_long_call.xml", sb.port, alice, service="bob", keys={"caller": "alice"}, timeout=20,
                           extra=("-d", "4000"), name="alice")
# The call is answered and acknowledged before the primary freezes: a 200 OK still in the
# primary when it froze would come from it after the failover, and end the call then.
h.require(wait_until(lambda: len(primary.requests("INVITE")) == 1 and len(primary.requests("ACK")) == 1, 5),
          "the call is set up via the primary (INVITE and ACK through it)")
os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("bob", "secondary"), 3,
                     interval=0.02), "alice and bob failed over to the secondary")
os.killpg(primary.process.pid, signal.SIGCONT)
h.check(wait_until(lambda: callee.proc.poll() is not None, 10) and callee.proc.returncode == 0,
        "bob got a BYE (from Switchback) and his call is over", callee.output()[-1500:])
caller.proc.wait(timeout=25)
with open(f"{h.dir}/alice-{alice}-messages.log", errors="replace") as f:
    h.check("SIP/2.0 481" in f.read(), "alice's BYE was answered 481 by Switchback")
h.check(not primary.requests("BYE"), "no BYE reached the primary", primary.requests("BYE"))
h.check(all(sb.binding(f"sip:{x}@example.com").get("dialogs") == 0 for x in ("alice", "bob")),
        "/status shows both idle")
h.finish()
