"""failBack.mode newRequests with reRegisterOn=1: "all dialog-initiating requests are forwarded
to the primary server first, regardless of the last server that was used". The primary freezes
until alice and bob are registered on the secondary, then heals. alice's next call goes to the
primary: Switchback holds her INVITE while it registers her there (by replay, milliseconds) and
then sends it there; nothing of it goes via the secondary. (onlySignalWithRegistered 0, so that
bob, still on the secondary, takes the call the primary routes to him.)"""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 0, failBack: { mode: newRequests }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")


os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("bob", "secondary"), 5, interval=0.02),
          "alice and bob failed over to the secondary")
os.killpg(primary.process.pid, signal.SIGCONT)
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the primary heals")
invites_primary, invites_secondary = len(primary.requests("INVITE")), len(secondary.requests("INVITE"))

callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name="bob")
time.sleep(0.3)
start = time.monotonic()
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "alice's call to bob completes", r)
h.check(sb.registered_on("alice", "primary") and sb.binding("sip:alice@example.com")["last_registered_by"] == "replay",
        "alice was registered on the primary by Switchback's replay", sb.binding("sip:alice@example.com"))
h.check(len(primary.requests("INVITE")) > invites_primary, "the call went to the primary",
        primary.requests("INVITE")[invites_primary:])
h.check(len(secondary.requests("INVITE")) == invites_secondary, "nothing of it went via the secondary",
        secondary.requests("INVITE")[invites_secondary:])
h.figure(f"newRequests failback: call set up via the primary after registering the caller there ({r.wall:.1f} s for the call)")
h.finish()
