"""Real softphones: two linphonec phones (Debian's linphone-cli 5.1) register through Switchback
to a Kamailio pair and call each other; the primary is killed (-9) and, without touching the
phones, the next call goes through via the secondary (Switchback registered both there by
replay, reRegisterOn=1); the primary comes back, the phones' own refreshes register them there
again (failBack newRequests) and the next call goes via the primary. Asserted from what the
phones report (liblinphone's registration state, linphonec's "Call N … connected/ended"), what
they sent (their -d 4 log holds every SIP message) and what each registrar logged."""
import re

from harness import Harness, wait_until
from softphones import Linphonec, failover_and_failback, registered_on, softphone_pair, stop_phones

EXPIRES = 15         # the phones' registration (s): belle-sip refreshes at 90 %, every ~13.5 s

h = Harness(__doc__)
primary, secondary, sb = softphone_pair(h)
# keepalive_period: liblinphone's own UDP keep-alives to its proxy, every 2 s here (30 s by default).
alice = Linphonec(h, "alice", sb.port, expires=EXPIRES, sip_extra="keepalive_period=2000")
bob = Linphonec(h, "bob", sb.port, expires=EXPIRES, sip_extra="keepalive_period=2000")
h.require(wait_until(lambda: alice.registered() and bob.registered(), 20),
          "both linphonec phones say LinphoneRegistrationOk", alice.log()[-2000:] + bob.log()[-2000:])
h.check(registered_on(sb, (alice, bob), "primary"), "/status: both registered on the primary",
        sb.binding("sip:alice@example.com"))
register = re.search(r"^REGISTER sip:.*?\n\n", alice.log(), re.MULTILINE | re.DOTALL).group(0)
h.check(re.search(r"^Supported:.*\boutbound\b", register, re.MULTILINE) is not None,
        "linphonec's REGISTER says Supported: outbound (and gruu)", register)
contact = sb.binding("sip:alice@example.com")["contacts"][0]
h.check(contact["instance"] and contact["reg_id"] is None,
        "its Contact carries +sip.instance and no reg-id", contact)
h.figure(f"linphonec Contact: <{contact['uri']}> +sip.instance={contact['instance']} reg-id={contact['reg_id']} "
         f"over {contact['flow']['transport']}, expires {contact['expires_in']} s")
granted = sb.binding("sip:alice@example.com")["nodes"]["primary"]["granted"][0]
h.check("pub-gruu=" in granted, "the registrar granted it a GRUU (RFC 5627), which it uses as its dialog Contact", granted)
regs = primary.requests("REGISTER")
h.check(regs and all(r["source"] == f"127.0.0.1:{sb.port}" for r in regs),
        "the primary got the phones' REGISTERs from Switchback only", regs)

failover_and_failback(h, primary, secondary, sb, alice, bob, EXPIRES)

# In-dialog requests to a linphonec go to its GRUU (sip:bob@example.com;gr=…), which only the
# registrar can resolve: the ACK and BYE of each call went via the registrar.
h.check(any(";gr=" in r["ruri"] for r in primary.requests("BYE")),
        "in-dialog requests were addressed to the phone's GRUU, through the registrar", primary.requests("BYE"))
m = sb.metrics()
h.check(m.get("switchback_keepalives_total", 0) > 0,
        "linphonec's own CRLF keep-alives reached Switchback (counted as keep-alives)",
        {k: v for k, v in m.items() if "keepalive" in k})
h.check(m.get("switchback_nat_keepalives_sent_total", 0) >= 4 and m.get("switchback_nat_keepalives_missed_total", 1) == 0,
        "Switchback's OPTIONS keep-alives to both phones were all answered",
        {k: v for k, v in m.items() if "nat" in k})
h.figure(f"keep-alives: {m.get('switchback_keepalives_total', 0):.0f} CRLF from the phones, "
         f"{m.get('switchback_nat_keepalives_sent_total', 0):.0f} OPTIONS to them, all answered")
stop_phones(h, sb, (alice, bob))
h.finish()
