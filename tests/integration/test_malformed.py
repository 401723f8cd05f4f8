"""Malformed datagrams, a garbage TCP stream and an oversized message: Switchback does not crash,
counts each, answers what it can answer with 400 and a reason, and serves well-formed traffic
before and after."""
import socket

from harness import Harness, free_port

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)], extra_yaml="limits: { max_message_bytes: 4096 }\n")


def register(user):
    r = h.sipp("register.xml", sb.port, free_port(), inf=h.users([user], user))
    return r.rc == 0


h.check(register("before"), "a phone registers before the bad input")

GOOD_HEAD = ("OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKbad{n}\r\n"
             "Max-Forwards: 70\r\nFrom: <sip:x@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\n"
             "Call-ID: bad{n}\r\nCSeq: 1 OPTIONS\r\n")

garbage = [
    b"\x00\x01\x02\x03 not sip at all",
    b"INVITE\r\n\r\n",
    b"SIP/2.0 200 OK\r\n\r\n",                                   # a response with nothing to route it by
    b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\x00;branch=z9hG4bK1\r\n\r\n",  # NUL byte
    (GOOD_HEAD.format(n=1) + "Content-Length: 5000\r\n\r\nshort").encode(),  # Content-Length past the end
    b"\xff" * 3000,
    b"OPTIONS sip:x@example.com SIP/2.0\r\nVia: \r\nFrom: \r\nTo: \r\n\r\n",
]
for g in garbage:
    h.send_udp(sb.port, g)
h.check(sb.process.alive(), f"alive after {len(garbage)} malformed datagrams")

oversized = (GOOD_HEAD.format(n=2) + "X-Pad: " + "a" * 6000 + "\r\nContent-Length: 0\r\n\r\n").encode()
h.send_udp(sb.port, oversized)
h.check(sb.process.alive(), "alive after an oversized datagram")

# Requests sofia-sip parses but a proxy must refuse get an answer that says why.
bad_cseq = (GOOD_HEAD.format(n=3).replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE") + "Content-Length: 0\r\n\r\n").encode()
reply = h.send_udp(sb.port, bad_cseq, expect_reply=True)
h.check(reply is not None and reply.startswith("SIP/2.0 400 CSeq Method Does Not Match"),
        "CSeq method ≠ request method is answered 400 with a reason", reply)
no_callid = "\r\n".join(l for l in GOOD_HEAD.format(n=4).split("\r\n") if not l.startswith("Call-ID")) + \
    "Content-Length: 0\r\n\r\n"
reply = h.send_udp(sb.port, no_callid.encode(), expect_reply=True)
h.check(reply is not None and reply.startswith("SIP/2.0 400 Missing or Bad Call-ID"), "a missing Call-ID is answered 400", reply)
bad_version = GOOD_HEAD.format(n=5).replace("SIP/2.0\r\n", "SIP/7.0\r\n", 1) + "Content-Length: 0\r\n\r\n"
reply = h.send_udp(sb.port, bad_version.encode(), expect_reply=True)
h.check(reply is not None and reply.startswith("SIP/2.0 505"), "a wrong SIP version is answered 505", reply)

# A garbage TCP stream: the connection is closed, the process stays.
_, closed = h.send_tcp(sb.port, b"GARBAGE GARBAGE\r\nno framing here\r\n\r\n")
h.check(closed, "a garbage TCP stream is closed by Switchback")
_, closed = h.send_tcp(sb.port, b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n")
h.check(closed, "a TCP message announcing more than the maximum size is closed")
# A TCP stream with a CRLF keep-alive gets its pong.
with socket.create_connection(("127.0.0.1", sb.port), timeout=3) as s:
    s.sendall(b"\r\n\r\n")
    s.settimeout(2)
    h.check(s.recv(16) == b"\r\n", "a CRLF keep-alive on TCP is answered with CRLF")

h.check(sb.process.alive(), "alive after the TCP abuse")
h.check(register("after"), "a phone registers after the bad input")
st = sb.status()
h.check(st["bindings"]["registrants"] == 2, "both registrations are in the binding table", st["bindings"])

m = sb.metrics()
h.check(m["switchback_parse_errors_total"] >= 4, f"parse errors counted ({m['switchback_parse_errors_total']:.0f})")
h.check(m["switchback_oversized_total"] >= 1, "the oversized datagram counted")
h.check(m["switchback_stream_errors_total"] >= 2, f"bad TCP streams counted ({m['switchback_stream_errors_total']:.0f})")
h.check(m.get('switchback_rejected_total{reason="CSeq Method Does Not Match"}') == 1, "400 rejections counted by reason")
h.finish()
