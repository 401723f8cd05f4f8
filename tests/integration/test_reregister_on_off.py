"""reRegisterOn=0 end to end (the advisory: "When set to 0, the phone won't attempt to register
with the secondary server, since the phone will assume that the primary and secondary servers share
registration information"). alice and bob register via the primary; bob is also known to the
secondary (registered there directly, standing in for the shared registration data). kill -9 of
the primary: Switchback sends no REGISTER of its own to the secondary (no replay), and alice's new
call simply fails over: her INVITE goes from Switchback to the secondary, which reaches bob, and the
call completes."""
import time

from harness import Harness, free_port, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair("reRegisterOn: 0, failBack: { mode: newRequests }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
# The registrars "share registration information": bob's binding is on the secondary too, put
# there by bob himself (from his own port), not by Switchback.
h.register_phone(secondary.port, "bob", local_port=bob)
sb_source = f"127.0.0.1:{sb.port}"
h.check(not [r for r in secondary.requests("REGISTER") if r["source"] == sb_source],
        "before the failover the secondary heard no REGISTER from Switchback", secondary.requests("REGISTER"))

primary.crash()
h.require(wait_until(lambda: not sb.status()["nodes"][0]["usable"], 5, interval=0.02), "the primary is seen down")
time.sleep(1.5)  # a replay (reRegisterOn=1) starts at once on detection: give it the time to show
replayed = [r for r in secondary.requests("REGISTER") if r["source"] == sb_source]
h.check(not replayed, "reRegisterOn=0: Switchback sent the secondary no REGISTER of its own on failover", replayed)
h.check(not sb.registered_on("alice", "secondary") and not sb.registered_on("bob", "secondary"),
        "/status shows no registration made on the secondary", sb.binding("sip:alice@example.com"))

callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=15, name="bob")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=15, name="alice")
callee.proc.wait(timeout=20)
invites = [x for x in secondary.requests("INVITE") if x["source"] == sb_source]
h.check(invites, "alice's INVITE failed over: it went from Switchback to the secondary", secondary.requests())
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice's call to bob completes via the secondary", r)
h.check(not [x for x in secondary.requests("REGISTER") if x["source"] == sb_source],
        "still no REGISTER from Switchback at the secondary after the call")
h.finish()
