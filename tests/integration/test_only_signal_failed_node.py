"""onlySignalWithRegistered is about a server that has failed (the advisory: "no signaling is
accepted from or sent to a server that has failed until failback is attempted or failover
occurs"), not about every node a phone is not registered on through Switchback. alice is
registered through Switchback on the primary, and (directly, with a Path back through
Switchback) on the secondary, which is healthy and has never failed. A call for alice routed by
the secondary reaches her (she answers 486 Busy); a request from a node that has failed is still
refused (test_hold_after_failover)."""
import socket

from harness import Harness, free_port, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 1, failBack: { mode: duration, timeout: 3600 }")
alice = h.register_phone(sb.port, "alice")
h.require(sb.binding("sip:alice@example.com")["nodes"]["primary"]["registered"], "alice is registered via Switchback on the primary")
path = f"<sip:sb-u0-7f000001-{alice}@127.0.0.1:{sb.port};lr;ob>"   # Switchback's flow token for alice's UDP flow
r = h.sipp("register_path.xml", secondary.port, alice, inf=h.users(["alice"], "alice-direct"), keys={"path": path},
           name="alice-direct")
h.require(r.rc == 0, "alice registered directly on the secondary, with a Path through Switchback", r)
h.check(not sb.binding("sip:alice@example.com")["nodes"].get("secondary", {}).get("registered"),
        "(Switchback does not see her registered on the secondary)")

busy = h.sipp_background("uas_busy.xml", sb.port, alice, timeout=15, name="alice-busy")
invite = ("INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKos1;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:dave@example.com>;tag=d1\r\nTo: <sip:alice@example.com>\r\n"
          "Call-ID: os-1\r\nCSeq: 1 INVITE\r\nContact: <sip:dave@127.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n")
replies = []
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", free_port()))
    s.settimeout(4)
    s.sendto(invite.format(port=s.getsockname()[1]).encode(), ("127.0.0.1", secondary.port))
    try:
        while not replies or replies[-1].startswith("SIP/2.0 1"):
            replies.append(s.recv(65535).decode(errors="replace"))
    except socket.timeout:
        pass
final = next((x for x in replies if not x.startswith("SIP/2.0 1")), "")
h.check(final.startswith("SIP/2.0 486"),
        "a call for alice from the secondary (healthy, never failed) reaches her: she answers 486", replies)
h.check(not final.startswith("SIP/2.0 403"), "… it is not refused as from a node she is not registered on")
busy.stop()
h.finish()
