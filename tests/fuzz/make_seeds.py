#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus (tests/fuzz/corpus): real REGISTER, INVITE, in-dialog and
upstream traffic in the input format of receive_path.h (pieces separated by NUL, each led by a
control byte: 0x00 phone UDP, 0x01|cut<<2 phone TCP, 0x02 upstream UDP; the top bits move the
clock). Run it again after changing the format: python3 tests/fuzz/make_seeds.py"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
PHONE_UDP, PHONE_TCP, UPSTREAM = 0x00, 0x01 | (4 << 2), 0x02
TOKEN = "sb-u0-0a010101-40000"


def req(method, ruri, extra="", via="SIP/2.0/UDP 192.168.0.10:5062;branch=z9hG4bKp1;rport", to_tag="",
        body="", cseq=1, frm="alice", to="bob"):
    if method == "REGISTER":
        to = frm
    headers = (f"{method} {ruri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
               f"From: \"A\" <sip:{frm}@example.com>;tag=a1\r\nTo: <sip:{to}@example.com>{to_tag}\r\n"
               f"Call-ID: c1@192.168.0.10\r\nCSeq: {cseq} {method}\r\nUser-Agent: Polycom/5.9\r\n{extra}")
    if body:
        headers += "Content-Type: application/sdp\r\n"
    return f"{headers}Content-Length: {len(body)}\r\n\r\n{body}"


SDP = ("v=0\r\no=- 1 1 IN IP4 192.168.0.10\r\ns=-\r\nc=IN IP4 192.168.0.10\r\nt=0 0\r\n"
       "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
REGISTER = req("REGISTER", "sip:example.com", "Contact: <sip:alice@192.168.0.10:5062>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
               "Expires: 3600\r\nSupported: path, outbound\r\n")
INVITE = req("INVITE", "sip:bob@example.com", "Contact: <sip:alice@192.168.0.10:5062>\r\n", body=SDP)
FROM_UP = (f"INVITE sip:alice@192.168.0.10:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKk1\r\n"
           f"Route: <sip:{TOKEN}@127.0.0.1:5060;lr>\r\nRecord-Route: <sip:127.0.0.1:5070;lr>\r\nMax-Forwards: 69\r\n"
           "From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>\r\nCall-ID: up1\r\nCSeq: 7 INVITE\r\n"
           f"Contact: <sip:bob@10.9.9.9>\r\nContent-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}")
RESPONSE = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsb0011223344556677.1\r\n"
            "Via: SIP/2.0/UDP 192.168.0.10:5062;branch=z9hG4bKp1;rport=40000;received=10.1.1.1\r\n"
            "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b2\r\nCall-ID: c1@192.168.0.10\r\n"
            "CSeq: 1 INVITE\r\nContact: <sip:bob@10.9.9.9>\r\nContent-Length: 0\r\n\r\n")

SEEDS = {
    "register_udp": [(PHONE_UDP, REGISTER)],
    "register_tcp": [(PHONE_TCP, REGISTER.replace("SIP/2.0/UDP", "SIP/2.0/TCP"))],
    "register_then_invite": [(PHONE_UDP, REGISTER), (PHONE_UDP | 0x20, INVITE)],
    "invite_cancel": [(PHONE_UDP, INVITE), (PHONE_UDP, req("CANCEL", "sip:bob@example.com"))],
    "invite_then_bye": [(PHONE_UDP, INVITE), (PHONE_UDP, req("ACK", "sip:bob@10.9.9.9", to_tag=";tag=up1")),
                        (PHONE_UDP | 0x40, req("BYE", "sip:bob@10.9.9.9", f"Route: <sip:{TOKEN}@127.0.0.1:5060;lr>\r\n",
                                               to_tag=";tag=up1", cseq=2))],
    "from_upstream_via_token": [(UPSTREAM, FROM_UP)],
    "response_stateless": [(UPSTREAM, RESPONSE)],
    "options_keepalive": [(PHONE_UDP, req("OPTIONS", "sip:127.0.0.1:5060")), (PHONE_TCP, "\r\n\r\n")],
    "tcp_two_messages": [(PHONE_TCP, INVITE.replace("SIP/2.0/UDP", "SIP/2.0/TCP") + REGISTER.replace("SIP/2.0/UDP", "SIP/2.0/TCP"))],
    "strict_route": [(PHONE_UDP, req("INFO", f"sip:{TOKEN}@127.0.0.1:5060", "Route: <sip:bob@10.9.9.9>\r\n", to_tag=";tag=x"))],
    "relay_attempt": [(PHONE_UDP, req("INVITE", "sip:victim@evil.example.net", "Route: <sip:203.0.113.9;lr>\r\n"))],
    "scanner": [(PHONE_UDP, req("OPTIONS", "sip:100@127.0.0.1", "").replace("Polycom/5.9", "friendly-scanner"))],
}

os.makedirs(OUT, exist_ok=True)
for name, pieces in SEEDS.items():
    data = b"\0".join(bytes([control]) + text.encode() for control, text in pieces)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {OUT}")
