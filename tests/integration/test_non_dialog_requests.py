"""Requests that are not dialogs follow the advisory's rules too (reRegisterOn=1: "the phone must
complete a new registration with the failover server before communications can take place").
The secondary has another secret, so it refuses Switchback's replay of alice's registration when
the primary freezes: alice is registered nowhere usable until her phone registers again. Her
MESSAGE, her out-of-dialog NOTIFY and PUBLISH, and the refresh of a subscription (a SUBSCRIBE with a
To tag and no route set naming a node) are then answered 503 by Switchback, like a new call, and
nothing reaches the secondary; after her own REGISTER (via the secondary) each of them goes there."""
import os
import signal

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration, timeout: 3600 }",
                                         secondary_secret="another-secret")
alice = h.register_phone(sb.port, "alice")


METHODS = ("MESSAGE", "NOTIFY", "PUBLISH", "SUBSCRIBE")
EXTRA = {"NOTIFY": "Event: dialog\r\nSubscription-State: active\r\n", "PUBLISH": "Event: presence\r\nExpires: 60\r\n",
         # a refresh: inside the subscription's dialog (To tag), with no route set
         "SUBSCRIBE": "Event: presence\r\nExpires: 60\r\nContact: <sip:alice@127.0.0.1>\r\n"}


def request(method, n):
    to_tag = ";tag=sub-refresh" if method == "SUBSCRIBE" else ""
    text = (f"{method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{alice};branch=z9hG4bKnd{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=nd{n}\r\nTo: <sip:bob@example.com>{to_tag}\r\n"
            f"Call-ID: nd-{n}\r\nCSeq: 2 {method}\r\n" + EXTRA.get(method, "")
            + "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi")
    return h.send_udp(sb.port, text.encode(), expect_reply=True) or ""


os.killpg(primary.process.pid, signal.SIGSTOP)
try:
    h.require(wait_until(lambda: sb.status()["failover"]["reregistration"]["challenged"] >= 1, 5),
              "the secondary refused Switchback's replay of alice's registration")
    for i, method in enumerate(METHODS):
        reply = request(method, i)
        h.check(reply.startswith("SIP/2.0 503"), f"alice's {method} is answered 503: she is not registered on the secondary",
                reply)
    h.check(not any(secondary.requests(m) for m in METHODS), "nothing reached the secondary", secondary.requests())
    h.register_phone(sb.port, "alice", alice)
    h.require(sb.binding("sip:alice@example.com")["nodes"]["secondary"]["registered"], "alice's own REGISTER registered her there")
    for i, method in enumerate(METHODS):
        request(method, 10 + i)
        h.check(wait_until(lambda: len(secondary.requests(method)) == 1, 3), f"now her {method} goes to the secondary",
                secondary.requests())
finally:
    os.killpg(primary.process.pid, signal.SIGCONT)
h.finish()
