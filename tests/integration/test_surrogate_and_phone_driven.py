"""When the new node refuses the replayed credentials (it does not share the primary's nonce
secret): (b) a registrant with configured credentials is registered by Switchback answering the
challenge itself (surrogate registration, password never logged); (c) one without is
phone-driven: it is pending, its new calls get 503 with Retry-After and never reach the new
node, until its phone's own refresh registers it there."""
import os
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary", secret="primary-secret")
secondary = h.kamailio("secondary", secret="another-secret")   # refuses the primary's nonces
creds = os.path.join(h.dir, "credentials.txt")
with open(creds, "w") as f:
    f.write("# AOR username password\nsip:alice@example.com alice secret\n")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml=f"""
failover: {{ reRegisterOn: 1, failRegistrationOn: 1 }}
credentials: {{ file: "{creds}" }}
""")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")

primary.crash()
h.check(wait_until(lambda: sb.binding("sip:alice@example.com")["nodes"].get("secondary", {}).get("registered"), 5),
        "(b) alice is registered on the secondary by Switchback")
h.check(sb.binding("sip:alice@example.com")["last_registered_by"] == "surrogate", "… by surrogate registration",
        sb.binding("sip:alice@example.com"))
h.check("secret" not in sb.process.output(), "the password never appears in the log")
h.check(wait_until(lambda: sb.status()["failover"]["reregistration"]["challenged"] >= 1, 5)
        and sb.status()["failover"]["pending_registrants"] == 1,
        "(c) bob's replay was challenged and he is pending", sb.status()["failover"])
h.check(not sb.binding("sip:bob@example.com")["nodes"].get("secondary", {}).get("registered"), "bob is not on the secondary")

invite = ("INVITE sip:alice@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKbob1;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>\r\n"
          "Call-ID: bob-pending-1\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:{p}>\r\nContent-Length: 0\r\n\r\n")
reply = h.send_udp(sb.port, invite.format(p=bob).encode(), expect_reply=True)
h.check(reply is not None and reply.startswith("SIP/2.0 503") and "Retry-After: 5" in reply,
        "a pending registrant's new call gets 503 with Retry-After", reply)
h.check(not any(x.get("callid") == "bob-pending-1" for x in secondary.requests("INVITE")),
        "… and never reaches the node it is not registered on")

h.register_phone(sb.port, "bob", bob)
b = sb.binding("sip:bob@example.com")
h.check(b["nodes"]["secondary"]["registered"] and b["last_registered_by"] == "phone",
        "bob's own refresh registered him on the secondary", b)
h.check(sb.status()["failover"]["pending_registrants"] == 0, "no one is pending any more")

callee = h.sipp_background("uas_answer.xml", sb.port, alice, timeout=20, name="alice")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, bob, service="alice", timeout=20, name="bob")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0, "bob calls alice via the secondary", r)
h.finish()
