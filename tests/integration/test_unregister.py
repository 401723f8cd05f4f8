"""Expires: 0 removes the binding: Switchback forwards the un-REGISTER, and when the registrar
accepts it the registrant disappears from the binding table (and inbound calls find nobody)."""
from harness import Harness, free_port

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)])
users = h.users(["carol", "dave"], "users")
port = free_port()

r = h.sipp("register.xml", sb.port, port, calls=2, inf=users)
h.check(r.rc == 0, "carol and dave registered", r)
h.check(sb.status()["bindings"]["registrants"] == 2, "two registrants in the table")

r = h.sipp("register.xml", sb.port, port, calls=1, inf=h.users(["carol"], "carol"), keys={"expires": 0})
h.check(r.rc == 0, "carol's REGISTER with Expires: 0 got 200 OK", r)
h.check(sb.binding("sip:carol@example.com") is None, "carol is gone from the binding table")
h.check(sb.binding("sip:dave@example.com") is not None, "dave is still there")
st = sb.status()
h.check(st["bindings"]["registrants"] == 1 and st["bindings"]["registered_by_node"]["primary"] == 1,
        "the status counts one registrant on the primary", st["bindings"])

alice = h.register_phone(sb.port, "alice")
r = h.sipp("uac_busy.xml", sb.port, alice, service="carol", timeout=10)
h.check(r.rc != 0 and "404" in (r.error_log + r.stdout), "a call to carol now gets 404 from the registrar", r)

# The SBC side: carol is no longer registered through Switchback, so she may not start calls.
invite = ("INVITE sip:dave@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKcarol1;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:carol@example.com>;tag=c1\r\nTo: <sip:dave@example.com>\r\n"
          "Call-ID: carol-1\r\nCSeq: 1 INVITE\r\nContact: <sip:carol@127.0.0.1:9>\r\nContent-Length: 0\r\n\r\n")
reply = h.send_udp(sb.port, invite.encode(), expect_reply=True)
h.check(reply is not None and reply.startswith("SIP/2.0 403 Not Registered via This Node"),
        "an INVITE from a phone not registered through Switchback gets 403 Not Registered via This Node", reply)
h.check(not any(x["callid"] == "carol-1" for x in primary.requests("INVITE")), "and never reaches the registrar")
h.finish()
