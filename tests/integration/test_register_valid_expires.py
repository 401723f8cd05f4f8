"""Only "a 200 OK response with valid expires" registers (reRegisterOn=1, failRegistrationOn=1).
The secondary here is a Kamailio that authenticates REGISTERs and then answers oddly: alice's
with a 200 OK that lists no Contact, carol's with 202 Accepted (her contact, expires=60). When
the primary freezes, Switchback's replays to the secondary get those answers: neither phone is
taken as registered there, alice keeps her contact, and a new call from alice is not signalled
via the secondary (503 while Switchback keeps trying to register her)."""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
odd = ('if ($fU == "carol") { append_to_reply("Contact: $ct;expires=60\\r\\n"); sl_send_reply("202", "Accepted"); exit; }\n'
       '    sl_send_reply("200", "OK"); exit;')
primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration, timeout: 3600 }",
                                         secondary_hook=odd)
alice = h.register_phone(sb.port, "alice")
carol = h.register_phone(sb.port, "carol")


def binding(aor):
    return sb.binding(f"sip:{aor}@example.com") or {}


os.killpg(primary.process.pid, signal.SIGSTOP)
try:
    h.require(wait_until(lambda: not sb.status()["nodes"][0]["usable"], 3), "the frozen primary is seen down")
    h.require(wait_until(lambda: len(secondary.requests("REGISTER")) >= 2, 5),
              "Switchback replayed both registrations to the secondary", secondary.requests())
    time.sleep(0.5)
    a, c = binding("alice"), binding("carol")
    h.check(not a.get("nodes", {}).get("secondary", {}).get("registered"),
            "a 200 OK without the phone's contact and expiry does not register alice on the secondary", a)
    h.check(len(a.get("contacts", [])) == 1, "… and does not delete her contact", a)
    h.check(not c.get("nodes", {}).get("secondary", {}).get("registered"),
            "202 Accepted does not register carol on the secondary", c)
    invite = ("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKve1;rport\r\n"
              "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n"
              "Call-ID: ve-1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n")
    reply = h.send_udp(sb.port, invite.encode(), expect_reply=True)
    h.check(reply is not None and reply.startswith("SIP/2.0 503"),
            "a new call from alice is answered 503 (she is registered nowhere usable)", reply)
    h.check(not secondary.requests("INVITE"), "… and nothing was signalled via the secondary", secondary.requests("INVITE"))
    m = sb.metrics()
    h.check(m.get('switchback_rejected_total{reason="2xx to REGISTER without valid expires"}', 0) == 0,
            "(replays are Switchback's own: not counted as refused phone requests)")
finally:
    os.killpg(primary.process.pid, signal.SIGCONT)
h.finish()
