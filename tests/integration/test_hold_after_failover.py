"""A call set up via the primary, then hold/resume after failover (reRegisterOn=1,
failRegistrationOn=1): with onlySignalWithRegistered=1 Switchback ends the call itself (481 to
the phone) and sends nothing to the primary; with 0 the hold goes to the primary and the call
goes on. The primary is frozen (SIGSTOP) long enough to fail over, then thawed (SIGCONT)."""
import os
import signal
import socket
import time

from harness import Harness, wait_until

h = Harness(__doc__)


def run(only_signal):
    primary = h.kamailio(f"primary{only_signal}")
    secondary = h.kamailio(f"secondary{only_signal}")
    sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], name=f"switchback{only_signal}",
                      extra_yaml=f"failover: {{ reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: "
                                 f"{only_signal}, failBack: {{ mode: duration, timeout: 3600 }} }}\n")

    def node(name):
        return next(n for n in sb.status()["nodes"] if n["name"] == name)

    h.require(wait_until(lambda: node("secondary")["probe_latency_ms"] is not None, 5), "both nodes probed")
    alice = h.register_phone(sb.port, "alice")
    bob = h.register_phone(sb.port, "bob")
    callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name=f"bob{only_signal}")
    time.sleep(0.3)
    caller = h.sipp_background("uac_hold.xml", sb.port, alice, service="bob", timeout=20, name=f"alice{only_signal}")
    h.require(wait_until(lambda: len(primary.requests("INVITE")) == 1, 5), "the call is set up via the primary")
    time.sleep(0.3)
    os.killpg(primary.process.pid, signal.SIGSTOP)
    failed_over = wait_until(lambda: sb.binding("sip:alice@example.com")["nodes"].get("secondary", {}).get("registered"), 3,
                             interval=0.02)
    os.killpg(primary.process.pid, signal.SIGCONT)
    h.check(failed_over, f"[only={only_signal}] alice failed over and was registered on the secondary")
    caller.proc.wait(timeout=25)
    with open(f"{h.dir}/alice{only_signal}-{alice}-messages.log", errors="replace") as f:
        log = f.read()
    holds_at_primary = [x for x in primary.requests("INVITE") if x["source"] == f"127.0.0.1:{sb.port}"]
    if only_signal:
        h.check(caller.proc.returncode == 0 and "SIP/2.0 481" in log,
                "onlySignalWithRegistered=1: the hold is answered 481 by Switchback and the call ends", log[-1200:])
        h.check(len(holds_at_primary) == 1, "nothing was sent to the primary after failover (only the original INVITE)",
                holds_at_primary)
        m = sb.metrics()
        h.check(m.get('switchback_rejected_total{reason="Call Ended: Not Registered via Node"}') == 1,
                "the ended call is counted by reason")
        # And nothing is accepted from that node: a new call for alice routed by the primary
        # (which still has her old binding) is refused by Switchback, not delivered.
        invite = ("INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKdave1;rport\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:dave@example.com>;tag=d1\r\nTo: <sip:alice@example.com>\r\n"
                  "Call-ID: dave-1\r\nCSeq: 1 INVITE\r\nContact: <sip:dave@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n")
        replies = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(3)
            s.sendto(invite.encode(), ("127.0.0.1", primary.port))
            try:
                while not replies or replies[-1].startswith("SIP/2.0 100"):  # past the registrar's 100 Trying
                    replies.append(s.recv(65535).decode(errors="replace"))
            except socket.timeout:
                pass
        final = next((r for r in replies if not r.startswith("SIP/2.0 100")), None)
        h.check(final is not None and final.startswith("SIP/2.0 403"),
                "a request from the primary for alice, not registered there any more, is refused (403)", replies)
    else:
        h.check(caller.proc.returncode == 0 and "SIP/2.0 481" not in log,
                "onlySignalWithRegistered=0: the hold goes through the primary and the call goes on to BYE", log[-1200:])
        h.check(len(holds_at_primary) == 2, "the re-INVITE reached the primary", holds_at_primary)
        callee.proc.wait(timeout=25)
        h.check(callee.proc.returncode == 0, "bob saw the hold and the BYE")
    callee.stop()


run(1)
run(0)
h.finish()
