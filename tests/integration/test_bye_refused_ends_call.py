"""A BYE ends its call whatever its answer (issue 11, item 2: a refused BYE left both ends busy,
and a busy registrant never fails back with DNSTTL or duration). alice calls bob through
Switchback; while they talk /status shows each of them in one call. alice hangs up and bob's phone
refuses the BYE with 503: alice hears the refusal (as 500: a proxy passes a 503 on as 500, RFC 3261
§16.7 step 6), and both ends are idle on /status at once."""
from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failBack: { mode: duration, timeout: 3600 }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
callee = h.sipp_background("uas_answer_bye_503.xml", sb.port, bob, timeout=20, name="bob")
caller = h.sipp_background("uac_long_call.xml", sb.port, alice, service="bob", keys={"caller": "alice"}, timeout=20,
                           extra=("-d", "2000"), name="alice")


def dialogs(user):
    return (sb.binding(f"sip:{user}@example.com") or {}).get("dialogs")


h.require(wait_until(lambda: dialogs("alice") == 1 and dialogs("bob") == 1, 5, interval=0.05),
          "while they talk, /status shows alice and bob each in one call", (dialogs("alice"), dialogs("bob")))
h.check(wait_until(lambda: callee.proc.poll() is not None, 10) and callee.proc.returncode == 0,
        "bob's phone got the BYE and refused it", callee.output()[-1500:])
h.check(wait_until(lambda: dialogs("alice") == 0 and dialogs("bob") == 0, 2, interval=0.05),
        "after the refused BYE, /status shows both idle", (dialogs("alice"), dialogs("bob")))
caller.proc.wait(timeout=25)
with open(f"{h.dir}/alice-{alice}-messages.log", errors="replace") as f:
    h.check("SIP/2.0 500" in f.read(), "alice's phone heard the refusal, as 500")
h.finish()
