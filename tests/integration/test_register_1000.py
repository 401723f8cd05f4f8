"""1,000 SIPp phones register through Switchback to a Kamailio registrar with digest
authentication (the 401 round trip passes through); all get 200 OK, and Switchback's binding
table then holds 1,000 registrants, each registered on the primary, with its flow."""
import time

from harness import Harness

PHONES = 1000
RATE = 1000         # registrations started per second

h = Harness(__doc__)
primary = h.kamailio("primary")
sb = h.switchback([("primary", primary.uri)])
users = h.users([f"u{i}" for i in range(1, PHONES + 1)])

cpu_before = sb.process.cpu_seconds()
start = time.monotonic()
r = h.sipp("register.xml", sb.port, calls=PHONES, rate=RATE, inf=users,
           timeout=60)
wall = time.monotonic() - start
cpu = sb.process.cpu_seconds() - cpu_before
h.check(r.rc == 0, f"all {PHONES} phones got 200 OK (sipp rc={r.rc})", r)
h.figure(f"{PHONES} registrations with digest auth in {wall:.2f} s wall = {PHONES / wall:.0f} registrations/s "
         f"(SIPp paced at {RATE}/s); Switchback used {cpu:.2f} CPU s = {cpu * 1e6 / PHONES:.0f} µs per registration "
         f"(two transactions: challenge and answer)")

st = sb.status()
h.check(st["bindings"]["registrants"] == PHONES, f"binding table holds {PHONES} registrants",
        f"status: {st['bindings']}")
h.check(st["bindings"]["registered_by_node"].get("primary") == PHONES,
        f"each registered on the primary", f"status: {st['bindings']}")

b = sb.binding("sip:u417@example.com")
h.check(b is not None and b["nodes"]["primary"]["registered"], "u417 is registered on the primary", b)
h.check(b is not None and b["has_authorization"] and b["cseq"] == 2,
        "u417 keeps its last REGISTER's Authorization and CSeq", b)
h.check(b is not None and b["contacts"][0]["flow"]["transport"] == "UDP" and 500 < b["contacts"][0]["expires_in"] <= 600,
        "u417's contact has its flow and the expiry the phone was granted (capped at 600 s)", b)
h.check(b is not None and 3500 < b["nodes"]["primary"]["expires_in"] <= 3600, "the primary granted 3600 s", b)

regs = primary.requests("REGISTER")
h.check(len(regs) == 2 * PHONES, f"the registrar saw {2 * PHONES} REGISTERs (challenge and answer)", len(regs))
h.check(all(x["source"] == f"127.0.0.1:{sb.port}" for x in regs), "every REGISTER came from Switchback")
h.check(all(x.get("path", "").startswith("<sip:sb-u0-") for x in regs), "every REGISTER carried our Path with a flow token",
        regs[:2])
m = sb.metrics()
h.check(m.get("switchback_parse_errors_total") == 0, "no parse errors")
h.finish()
