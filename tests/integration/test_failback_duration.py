"""failBack.mode duration (timeout 60 s, the least the advisory allows) with reRegisterOn=1 and
failRegistrationOn=1: the primary is partitioned (frozen) until everyone has failed over, then
heals. 60 s after failing over, Switchback registers each idle registrant on the primary again
(by replay, paced); a registrant in a call is retried every second and fails back within a
second or two of hanging up, whichever end of the call it is (carol calls, bob answers)."""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml="""
failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration, timeout: 60 } }
""")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
carol = h.register_phone(sb.port, "carol")


def on(aor, node):
    return bool(sb.binding(f"sip:{aor}@example.com")["nodes"].get(node, {}).get("registered"))


os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: all(on(x, "secondary") for x in ("alice", "bob", "carol")), 5, interval=0.02),
          "everyone failed over to the secondary")
failed_over = time.monotonic()
os.killpg(primary.process.pid, signal.SIGCONT)
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the primary heals")

# carol calls bob for 66 s: both are busy when the 60 s come.
callee = h.sipp_background("uas_answer_bye.xml", sb.port, bob, timeout=90, name="bob")
time.sleep(0.3)
caller = h.sipp_background("uac_long_call.xml", sb.port, carol, service="bob", keys={"caller": "carol"}, timeout=90,
                           extra=("-d", "66000"), name="carol")
h.require(wait_until(lambda: len(secondary.requests("INVITE")) == 1, 5), "carol's call to bob is up via the secondary")

h.check(not on("alice", "primary"), "alice stays on the secondary before the timeout")
back = wait_until(lambda: on("alice", "primary"), 70, interval=0.1)
alice_after = time.monotonic() - failed_over
h.check(back and 59.5 <= alice_after <= 62.5, f"idle alice failed back {alice_after:.1f} s after failing over")
h.check(sb.binding("sip:alice@example.com")["last_registered_by"] == "replay", "… registered on the primary by replay")
h.check(not on("bob", "primary"), "bob, called, in a call, did not fail back yet")
h.check(not on("carol", "primary"), "carol, calling, in a call, did not fail back yet")
caller.proc.wait(timeout=30)
ended = time.monotonic()
h.check(caller.proc.returncode == 0, "carol's call ended normally")
backs = {}


def back_both():
    for x in ("bob", "carol"):
        if x not in backs and on(x, "primary"):
            backs[x] = time.monotonic() - ended
    return len(backs) == 2


wait_until(back_both, 5, interval=0.05)
for x in ("bob", "carol"):
    h.check(backs.get(x, 99) <= 2.0, f"{x} failed back {backs.get(x, 99):.1f} s after hanging up (retried every second)")
h.figure(f"duration failback: idle registrant after {alice_after:.1f} s (timeout 60 s); busy registrants "
         f"{backs.get('bob', 99):.1f} s (callee) and {backs.get('carol', 99):.1f} s (caller) after the call ended")
callee.stop()
h.finish()
