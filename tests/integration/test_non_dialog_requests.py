"""Requests that are not dialogs follow the advisory's rules too (reRegisterOn=1: "the phone must
complete a new registration with the failover server before communications can take place").
The secondary has another secret, so it refuses Switchback's replay of alice's registration when
the primary freezes: alice is registered nowhere usable until her phone registers again. Her
MESSAGE and her out-of-dialog NOTIFY are then answered 503 by Switchback, like a new call, and
nothing reaches the secondary; after her own REGISTER (via the secondary) her MESSAGE goes there."""
import os
import signal

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration, timeout: 3600 }",
                                         secondary_secret="another-secret")
alice = h.register_phone(sb.port, "alice")


def request(method, n):
    text = (f"{method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{alice};branch=z9hG4bKnd{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=nd{n}\r\nTo: <sip:bob@example.com>\r\n"
            f"Call-ID: nd-{n}\r\nCSeq: 1 {method}\r\n" + ("Event: dialog\r\nSubscription-State: active\r\n" if method == "NOTIFY" else "")
            + "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi")
    return h.send_udp(sb.port, text.encode(), expect_reply=True) or ""


os.killpg(primary.process.pid, signal.SIGSTOP)
try:
    h.require(wait_until(lambda: sb.status()["failover"]["reregistration"]["challenged"] >= 1, 5),
              "the secondary refused Switchback's replay of alice's registration")
    for i, method in enumerate(("MESSAGE", "NOTIFY")):
        reply = request(method, i)
        h.check(reply.startswith("SIP/2.0 503"), f"alice's {method} is answered 503: she is not registered on the secondary",
                reply)
    h.check(not secondary.requests("MESSAGE") and not secondary.requests("NOTIFY"), "nothing reached the secondary",
            secondary.requests())
    h.register_phone(sb.port, "alice", alice)
    h.require(sb.binding("sip:alice@example.com")["nodes"]["secondary"]["registered"], "alice's own REGISTER registered her there")
    request("MESSAGE", 9)
    h.check(wait_until(lambda: len(secondary.requests("MESSAGE")) == 1, 3), "now her MESSAGE goes to the secondary")
finally:
    os.killpg(primary.process.pid, signal.SIGCONT)
h.finish()
