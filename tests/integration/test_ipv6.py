"""IPv6: phones on ::1 register and take calls through Switchback, which reaches an IPv4
registrar on its IPv4 listener (so dialogs get two Record-Route entries, one per family)."""
import time

from harness import Harness, free_port

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)], ipv6=True)

bob_port = free_port()
r = h.sipp("register.xml", sb.port, bob_port, inf=h.users(["bob6"], "bob6"), ipv6=True)
h.check(r.rc == 0, "an IPv6 phone registered through Switchback to the IPv4 registrar", r)
b = sb.binding("sip:bob6@example.com")
h.check(b is not None and b["contacts"][0]["flow"]["remote"] == f"[::1]:{bob_port}", "its flow is [::1]", b)

alice = h.register_phone(sb.port, "alice", ipv6=True)
callee = h.sipp_background("uas_answer.xml", sb.port, bob_port, timeout=20, name="bob6", ipv6=True)
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob6", timeout=20, name="alice6", ipv6=True)
callee.proc.wait(timeout=25)
h.check(r.rc == 0, "an IPv6 phone calls another through the IPv4 registrar (re-INVITE, BYE)", r)
h.check(callee.proc.returncode == 0, "the callee answered on [::1]", callee.output()[-1500:])
with open(f"{h.dir}/bob6-{bob_port}-messages.log", errors="replace") as f:
    msgs = f.read()
h.check("@[::1]:" in msgs and "@127.0.0.1:" in msgs, "the callee's INVITE carries Record-Routes for both families")
h.finish()
