"""A primary that flaps every few seconds (frozen 2 s, running 2 s, four times): hysteresis
and sticky registrants keep bindings from toggling — no binding changes node more than twice,
and Switchback does not re-register anyone on each flap."""
import os
import signal
import time

from harness import Harness, free_port, wait_until

PHONES = 50

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml="""
failover: { reRegisterOn: 1, failRegistrationOn: 0, failBack: { mode: newRequests } }
""")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
r = h.sipp("register.xml", sb.port, free_port(), calls=PHONES, rate=500, inf=h.users([f"u{i}" for i in range(PHONES)]))
h.check(r.rc == 0, f"{PHONES} phones registered via the primary", r)

for _ in range(4):
    os.killpg(primary.process.pid, signal.SIGSTOP)
    time.sleep(2)
    os.killpg(primary.process.pid, signal.SIGCONT)
    time.sleep(2)
log = sb.process.output()
downs = log.count("is DOWN")
h.figure(f"the primary flapped 4 times; Switchback saw it go down {downs} times")
st = sb.status()["failover"]
h.check(st["failovers"] + st["failbacks"] <= 2 * PHONES,
        f"no binding changed node more than twice ({st['failovers']} failovers, {st['failbacks']} failbacks "
        f"for {PHONES} bindings)", st)
regs = len(secondary.requests("REGISTER"))
h.check(regs == PHONES, f"each binding was registered on the secondary once, not once per flap ({regs})")
h.check(st["reregistration"]["sent"] == PHONES, "Switchback sent one registration per binding", st)
h.finish()
