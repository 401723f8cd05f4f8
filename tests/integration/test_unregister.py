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

r = h.sipp("uac_busy.xml", sb.port, service="carol", timeout=10)
h.check(r.rc != 0 and "404" in (r.error_log + r.stdout), "a call to carol now gets 404 from the registrar", r)
h.finish()
