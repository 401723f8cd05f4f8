"""Inbound calls reach phones over the flow they registered from: a UDP phone whose Contact
names a port it does not listen on (behind NAT: only its source port reaches it), and a TCP
phone on its own connection."""
import os
import time

from harness import SCENARIOS, Harness, free_port

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)])

# --- UDP behind NAT: the Contact (and Via) say port 9, the packets come from nat_port.
nat_port = free_port()
r = h.sipp("register.xml", sb.port, nat_port, inf=h.users(["natphone"], "nat"), keys={"contact_port": 9})
h.check(r.rc == 0, "the NATed phone registered", r)
b = sb.binding("sip:natphone@example.com")
h.check(b is not None and b["contacts"][0]["uri"].endswith(":9;transport=UDP"), "its Contact names port 9", b)
h.check(b is not None and b["contacts"][0]["flow"]["remote"] == f"127.0.0.1:{nat_port}",
        "its flow is the observed source address", b)

alice = h.register_phone(sb.port, "alice")
callee = h.sipp_background("uas_answer.xml", sb.port, nat_port, timeout=20, name="nat-uas")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="natphone", timeout=20, name="nat-uac")
callee.proc.wait(timeout=25)
h.check(r.rc == 0, "a call to the NATed phone completes (INVITE/180/200/ACK, re-INVITE, BYE)", r)
h.check(callee.proc.returncode == 0, "the NATed phone received the call on its source port", callee.output()[-1500:])

# --- TCP: registers, stays connected, answers the call on the same connection (-oocsf).
tcp_port = free_port()
tcp_phone = h.sipp_background("register_stay.xml", sb.port, tcp_port, inf=h.users(["tcpphone"], "tcp"),
                              transport="t1", timeout=20, name="tcp-phone",
                              extra=["-oocsf", os.path.join(SCENARIOS, "uas_answer.xml")])
reg = None
for _ in range(100):
    reg = sb.binding("sip:tcpphone@example.com")
    if reg:
        break
    time.sleep(0.05)
h.check(reg is not None and reg["contacts"][0]["flow"]["transport"] == "TCP", "the TCP phone registered over TCP", reg)
h.check(sb.status()["tcp_connections"] >= 1, "its connection is open")

r = h.sipp("uac_call.xml", sb.port, alice, service="tcpphone", timeout=15, name="tcp-uac")
h.check(r.rc == 0, "a UDP phone's call to the TCP phone completes, with two Record-Route entries", r)
with open(f"{h.dir}/tcp-phone-{tcp_port}-messages.log", errors="replace") as f:
    invite_to_tcp = f.read()
h.check("transport=tcp;lr" in invite_to_tcp, "the INVITE the TCP phone got has our TCP-facing Record-Route")
tcp_phone.stop()
h.finish()
