"""SIGTERM during calls: Switchback stops accepting new dialogs (503 with Retry-After, /healthz
says draining), lets the call being set up finish its INVITE transaction, then exits 0 well
within the drain time. A call established before the restart goes on: after Switchback is
started again, its BYE finds its way through the Record-Route flow tokens."""
import signal
import time

from harness import Harness, wait_until

ANSWER_MS = 1500

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)], extra_yaml="shutdown: { drain_timeout_ms: 5000 }\n")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")

callee = h.sipp_background("uas_answer_late.xml", sb.port, bob, timeout=30, extra=("-d", str(ANSWER_MS)), name="bob")
time.sleep(0.3)
caller = h.sipp_background("uac_long_call.xml", sb.port, alice, service="bob", keys={"caller": "alice"}, timeout=30,
                           extra=("-d", "4000"), name="alice")
h.require(wait_until(lambda: len(primary.requests("INVITE")) == 1, 5), "alice's INVITE reached the registrar")
time.sleep(0.3)  # bob is ringing

term_at = time.monotonic()
sb.signal(signal.SIGTERM)
time.sleep(0.1)
status, body = sb.http("GET", "/healthz")
h.check(status == 503 and "draining" in body, "/healthz answers 503 draining", (status, body))
status, body = sb.http("GET", "/healthz/live")
h.check(status == 200, "/healthz/live: still live while draining", (status, body))
invite = ("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKdrain1;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\nTo: <sip:bob@example.com>\r\n"
          "Call-ID: drain-1\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n")
reply = h.send_udp(sb.port, invite.encode(), expect_reply=True) or ""
h.check(reply.startswith("SIP/2.0 503") and "Retry-After:" in reply,
        "a new dialog while draining gets 503 with Retry-After", reply[:300])

exited = wait_until(lambda: not sb.process.alive(), 8)
took = time.monotonic() - term_at
rc = sb.process.stop()
h.check(exited and rc == 0, f"Switchback exited by itself with status 0 (exit {rc})")
h.check(ANSWER_MS / 1000 - 0.5 < took < 5, f"it waited for the ringing call's INVITE transaction, not for the full "
        f"drain time ({took:.2f} s after SIGTERM)")
h.check("drained: no transaction in progress" in sb.process.output(), "the log says it drained")

# The call was answered during the drain; Switchback comes back before its BYE.
sb.start()
caller.proc.wait(timeout=30)
callee.proc.wait(timeout=30)
h.check(caller.proc.returncode == 0 and callee.proc.returncode == 0,
        "the call answered during the drain ends normally with a BYE through the restarted Switchback",
        caller.output()[-800:])
h.check(len(primary.requests("BYE")) == 1, "the BYE went via the registrar, along the call's route set")
h.figure(f"SIGTERM with a call ringing: exit 0 after {took:.2f} s (answer came {ANSWER_MS} ms after the INVITE; "
         f"drain limit 5 s)")
h.finish()
