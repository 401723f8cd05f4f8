"""A call ended by onlySignalWithRegistered frees both of its ends (reRegisterOn=1,
failRegistrationOn=1, failBack.mode duration, timeout 60 s). alice calls bob via the primary;
the primary is frozen (SIGSTOP) until both are registered on the secondary, then thawed. alice's
hold is answered 481 by Switchback (the advisory: "the call will end"); bob, the other end, gets a
BYE from Switchback over his flow (nothing goes to the primary), so no phone sits in a dead call;
and both, idle again, fail back to the primary 60 s after failing over (a call left counted would
keep one on the secondary for ever)."""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 1, failBack: { mode: duration, timeout: 60 }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")


callee = h.sipp_background("uas_answer_bye.xml", sb.port, bob, timeout=30, name="bob")
time.sleep(0.3)
caller = h.sipp_background("uac_hold.xml", sb.port, alice, service="bob", timeout=30, name="alice")
h.require(wait_until(lambda: len(primary.requests("INVITE")) == 1, 5), "the call is set up via the primary")
time.sleep(0.3)
os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("bob", "secondary"), 3, interval=0.02),
          "alice and bob failed over and were registered on the secondary")
failed_over = time.monotonic()
os.killpg(primary.process.pid, signal.SIGCONT)
h.check(sb.binding("sip:alice@example.com").get("dialogs") == 1 and sb.binding("sip:bob@example.com").get("dialogs") == 1,
        "/status shows both ends of the call busy", [sb.binding("sip:alice@example.com"), sb.binding("sip:bob@example.com")])

caller.proc.wait(timeout=35)
with open(f"{h.dir}/alice-{alice}-messages.log", errors="replace") as f:
    alice_log = f.read()
h.check(caller.proc.returncode == 0 and "SIP/2.0 481" in alice_log, "alice's hold is answered 481: the call has ended",
        alice_log[-1500:])
bye_seen = wait_until(lambda: callee.proc.poll() is not None, 5)
h.check(bye_seen and callee.proc.returncode == 0, "bob, the other end, got a BYE and answered it (his call is over)",
        callee.output()[-1500:])
with open(f"{h.dir}/bob-{bob}-messages.log", errors="replace") as f:
    bob_log = f.read()
h.check("BYE sip:bob@" in bob_log, "… a BYE to bob's Contact", bob_log[-1500:])
h.check(len(primary.requests("INVITE")) == 1 and not primary.requests("BYE"),
        "nothing of the call but its first INVITE reached the primary (no hold, no BYE)", primary.requests())
h.check(all(sb.binding(f"sip:{x}@example.com").get("dialogs") == 0 for x in ("alice", "bob")),
        "/status shows both ends idle")
m = sb.metrics()
h.check(m.get("switchback_dialogs") == 0 and m.get("switchback_dialogs_ended_by_rule_total") == 1,
        "no call is left in Switchback's dialogs; the ended call is counted", m.get("switchback_dialogs"))

both = wait_until(lambda: sb.registered_on("alice", "primary") and sb.registered_on("bob", "primary"), 70, interval=0.1)
after = time.monotonic() - failed_over
h.check(both and after <= 62.5, f"alice and bob, both idle, failed back to the primary {after:.1f} s after failing over")
h.figure(f"call ended by the rule: both ends failed back {after:.1f} s after failing over (timeout 60 s)")
h.finish()
