"""Phone A calls phone B through Switchback → registrar → Switchback → B: INVITE/180/200/ACK, a
re-INVITE and BYE; a CANCEL before answer; a 486 from B reaches A. Both phones register over
UDP with digest authentication first."""
import time

from harness import Harness, free_port

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)])

b_port = free_port()
r = h.sipp("register.xml", sb.port, b_port, inf=h.users(["bob"], "bob"))
h.check(r.rc == 0, "phone B registered through Switchback", r)
alice = h.register_phone(sb.port, "alice")


def call(uas, uac, what):
    callee = h.sipp_background(uas, sb.port, b_port, timeout=20, name=uas)
    time.sleep(0.3)  # let B's SIPp bind its port
    start = time.monotonic()
    r = h.sipp(uac, sb.port, alice, service="bob", timeout=20, name=uac)
    wall = time.monotonic() - start
    callee.proc.wait(timeout=25)
    h.check(r.rc == 0, f"{what}: caller's scenario passed", r)
    h.check(callee.proc.returncode == 0, f"{what}: callee's scenario passed", callee.output()[-1500:])
    return wall


wall = call("uas_answer.xml", "uac_call.xml", "INVITE/180/200/ACK, re-INVITE, BYE")
h.figure(f"call with re-INVITE and BYE (two 100 ms pauses) completed in {wall * 1000:.0f} ms wall")
invites = primary.requests("INVITE")
h.check(len(invites) == 2, "the registrar saw the INVITE and the re-INVITE", invites)
h.check(all(i["source"] == f"127.0.0.1:{sb.port}" for i in invites), "every INVITE reached the registrar from Switchback")
byes = primary.requests("BYE")
h.check(len(byes) == 1, "the BYE went through the registrar (loose routing both ways)", byes)

wall = call("uas_ring.xml", "uac_cancel.xml", "CANCEL before answer")
h.figure(f"ring and cancel completed in {wall * 1000:.0f} ms wall")
h.check(len(primary.requests("CANCEL")) == 1, "the CANCEL was forwarded to the registrar once")

wall = call("uas_busy.xml", "uac_busy.xml", "486 Busy Here")
h.figure(f"busy call completed in {wall * 1000:.0f} ms wall")

st = sb.status()
h.check(st["counters"]["parse_errors"] == 0, "no parse errors")
m = sb.metrics()
h.check(m.get('switchback_responses_total{class="4xx"}', 0) >= 3, "4xx responses counted (401, 487, 486)")
h.finish()
