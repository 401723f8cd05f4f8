"""An upstream reached over TCP (uri ...;transport=tcp): Switchback opens the connection itself,
probes and registers over it, and a call between two UDP phones goes through the registrar over
TCP (two Record-Route entries, one per transport)."""
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", f"sip:127.0.0.1:{primary.port};transport=tcp")])
h.require(wait_until(lambda: sb.status()["nodes"][0]["probe_latency_ms"] is not None, 5), "the TCP upstream answers probes")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
regs = primary.requests("REGISTER")
h.check(regs and all(x.get("proto") == "tcp" for x in regs), "the registrar got every REGISTER over TCP", regs[:2])
h.check(sb.status()["tcp_connections"] >= 1, "Switchback holds the connection to the upstream")
callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name="bob")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice calls bob through the registrar over TCP (re-INVITE, BYE)", r)
with open(f"{h.dir}/bob-{bob}-messages.log", errors="replace") as f:
    log = f.read()
h.check("transport=tcp;lr" in log, "the INVITE bob got carries our TCP-facing Record-Route too")
h.finish()
