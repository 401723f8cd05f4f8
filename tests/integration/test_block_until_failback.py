"""onlySignalWithRegistered: "phones won't communicate with failed servers that recover until
failback succeeds" (the advisory's overview), not merely until it is attempted. reRegisterOn=1,
failRegistrationOn=1, failBack.mode newRequests. alice calls bob via the primary; the primary is
killed and both move to the secondary; the primary is restarted (empty, refusing the old nonces).
alice's next new call makes Switchback try the primary first: its replay of her registration
there is challenged, so failback has been attempted but has not succeeded. Her hold of the old
call, set up via the primary, is then answered 481 by Switchback and nothing of that call reaches
the restarted primary."""
import socket
import time

from harness import Harness, free_port, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair(
    "reRegisterOn: 1, failRegistrationOn: 1, onlySignalWithRegistered: 1, failBack: { mode: newRequests }")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=40, name="bob")
time.sleep(0.3)
caller = h.sipp_background("uac_hold_late.xml", sb.port, alice, service="bob", timeout=40, name="alice")
h.require(wait_until(lambda: len(primary.requests("INVITE")) == 1, 5), "the call is set up via the primary")
old_call = primary.requests("INVITE")[0]["callid"]
time.sleep(1.2)  # Kamailio refuses nonces issued before it started, to the second
primary.crash()
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("bob", "secondary"), 5),
          "alice and bob failed over and were registered on the secondary")
primary.restart()
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the restarted primary is seen up")

# alice's new call (to nobody in particular): newRequests tries the primary first.
invite = ("INVITE sip:nobody@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKbf1;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=bf1\r\nTo: <sip:nobody@example.com>\r\n"
          "Call-ID: bf-1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n")
replies = []
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind(("127.0.0.1", free_port()))
    s.settimeout(4)
    s.sendto(invite.format(port=s.getsockname()[1]).encode(), ("127.0.0.1", sb.port))
    try:
        while not replies or replies[-1].startswith("SIP/2.0 1"):
            replies.append(s.recv(65535).decode(errors="replace"))
    except socket.timeout:
        pass
h.require(wait_until(lambda: any(r["callid"] != old_call for r in primary.requests("REGISTER")), 3),
          "Switchback tried to register alice on the restarted primary (failback attempted)", primary.requests())
h.check(not sb.registered_on("alice", "primary"), "… and was refused (challenged): failback has not succeeded",
        sb.binding("sip:alice@example.com"))

caller.proc.wait(timeout=45)
with open(f"{h.dir}/alice-{alice}-messages.log", errors="replace") as f:
    log = f.read()
h.check(caller.proc.returncode == 0 and "SIP/2.0 481" in log,
        "alice's hold of the old call is answered 481: the call ends", log[-1500:])
old_at_primary = [r for r in primary.requests() if r.get("callid") == old_call]
h.check(not old_at_primary, "nothing of the old call reached the restarted primary", old_at_primary)
callee.stop()
h.finish()
