"""A request sent to the primary in the window before its failure is detected is sent once more,
to the secondary, when the primary is seen down (within a second), instead of being
retransmitted to the dead primary until it times out (32 s) and answered 408. alice's REGISTER
refresh leaves just after the primary freezes: it completes via the secondary (challenge, answer)
well within SIPp's 8 s (the unfixed proxy kept retransmitting it to the frozen primary)."""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration, timeout: 3600 }")
# carol's registration makes the primary the node Switchback works with; alice is new.
h.register_phone(sb.port, "carol")
os.killpg(primary.process.pid, signal.SIGSTOP)
try:
    start = time.monotonic()
    r = h.sipp("register.xml", sb.port, inf=h.users(["alice"], "alice"), timeout=8, name="alice")
    took = time.monotonic() - start
    h.check(r.rc == 0, f"alice's REGISTER, sent before the primary was seen down, succeeded ({took:.1f} s)", r)
    b = sb.binding("sip:alice@example.com") or {}
    h.check(b.get("nodes", {}).get("secondary", {}).get("registered"), "… on the secondary", b)
    h.check(sb.metrics().get("switchback_requests_retried_total", 0) >= 1, "the retry is counted")
    h.figure(f"REGISTER sent to a dead primary before detection: completed via the secondary in {took:.1f} s")
finally:
    os.killpg(primary.process.pid, signal.SIGCONT)
h.finish()
