"""A forked call: only the phone that answers is busy (issue 21 item 4). The registrar forks
alice's INVITE to bob to two phones (bob's, and bob2's, whose REGISTER Kamailio saves as a second
contact of bob). Both ring and /status shows each busy; bob2 answers, Kamailio CANCELs bob's
branch (487), and at once /status shows bob idle and bob2 in the call, until it ends. Main kept
one callee slot named by the To: bob stayed busy for the whole call and bob2 was never busy."""
from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary", register_hook='if ($tU=="bob2") { save("location","0","sip:bob@example.com"); exit; }')
sb = h.switchback([("primary", primary.uri)])
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
bob2 = h.register_phone(sb.port, "bob2")
ringer = h.sipp_background("uas_ring.xml", sb.port, bob, timeout=20, name="bob")
answerer = h.sipp_background("uas_answer_late.xml", sb.port, bob2, timeout=20, extra=("-d", "1500"), name="bob2")
caller = h.sipp_background("uac_long_call_forked.xml", sb.port, alice, service="bob", keys={"caller": "alice"}, timeout=20,
                           extra=("-d", "3000"), name="alice")


def dialogs(user):
    return (sb.binding(f"sip:{user}@example.com") or {}).get("dialogs")


h.check(wait_until(lambda: dialogs("bob") == 1 and dialogs("bob2") == 1, 1.4, interval=0.05),
        "while both phones ring, /status shows each busy", (dialogs("bob"), dialogs("bob2")))
h.require(wait_until(lambda: ringer.proc.poll() is not None, 5) and ringer.proc.returncode == 0,
          "bob's phone rang and was CANCELled (487)", ringer.output()[-1500:])
h.check(wait_until(lambda: dialogs("bob") == 0 and dialogs("bob2") == 1 and dialogs("alice") == 1, 0.5, interval=0.05),
        "after bob2 answered, /status shows bob idle and bob2 and alice in the call",
        (dialogs("bob"), dialogs("bob2"), dialogs("alice")))
caller.proc.wait(timeout=25)
h.check(caller.proc.returncode == 0, "alice's call went through", caller.output()[-1500:])
h.check(wait_until(lambda: dialogs("bob2") == 0 and dialogs("alice") == 0 and dialogs("bob") == 0, 2, interval=0.05),
        "after the BYE, /status shows all three idle", (dialogs("bob"), dialogs("bob2"), dialogs("alice")))
h.finish()
