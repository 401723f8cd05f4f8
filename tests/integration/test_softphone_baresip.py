"""Real softphones: two baresip 1.0 phones (Debian's) register through Switchback to a Kamailio
pair and call each other; the primary is killed (-9) and, without touching the phones, the next
call goes through via the secondary (Switchback registered both there by replay, reRegisterOn=1);
the primary comes back and the phones' own refreshes register them there again (failBack
newRequests: a phone's REGISTER tries the primary first), and the next call goes via the primary.
alice is a plain account; bob uses RFC 5626 outbound (sipnat=outbound: reg-id, keep-alives).
Asserted from the phones' own ctrl_tcp events (REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED) and
from what each registrar logged."""
from harness import Harness
from softphones import Baresip, failover_and_failback, registered_on, softphone_pair, stop_phones

REGINT = 15          # the phones' registration interval (s): libre refreshes at 90 %, every ~13.5 s

h = Harness(__doc__)
primary, secondary, sb = softphone_pair(h)
alice = Baresip(h, "alice", sb.port, regint=REGINT)
bob = Baresip(h, "bob", sb.port, regint=REGINT, extra_account=";sipnat=outbound")
h.require(alice.wait_event("REGISTER_OK", 20) and bob.wait_event("REGISTER_OK", 20),
          "both baresip phones say REGISTER_OK", alice.log()[-2000:] + bob.log()[-2000:])
h.check(registered_on(sb, (alice, bob), "primary"), "/status: both registered on the primary",
        sb.binding("sip:alice@example.com"))
contact_a = sb.binding("sip:alice@example.com")["contacts"][0]
contact_b = sb.binding("sip:bob@example.com")["contacts"][0]
h.check(contact_a["instance"] and contact_a["reg_id"] is None,
        "alice's Contact carries +sip.instance (baresip's uuid) and no reg-id", contact_a)
h.check(contact_b["instance"] and contact_b["reg_id"] is not None,
        "bob (sipnat=outbound) registers with +sip.instance and reg-id (RFC 5626)", contact_b)
for c in (contact_a, contact_b):
    h.figure(f"baresip Contact: <{c['uri']}> +sip.instance={c['instance']} reg-id={c['reg_id']} "
             f"over {c['flow']['transport']}, expires {c['expires_in']} s")
regs = primary.requests("REGISTER")
h.check(regs and all(r["source"] == f"127.0.0.1:{sb.port}" for r in regs),
        "the primary got the phones' REGISTERs from Switchback only", regs)

failover_and_failback(h, primary, secondary, sb, alice, bob, REGINT)

# Keep-alives: Switchback pings each phone's flow with an OPTIONS every 3 s, and baresip answers
# them. bob asked for RFC 5626 outbound and was given Flow-Timer: 3, but libre starts its own
# keep-alives only when the 2xx to REGISTER says Require: outbound (RFC 5626 §4.2.1, §6: the
# registrar's word, and these Kamailios do not load the outbound module), so it sends none here:
# Switchback's OPTIONS are what keep both flows (the README's softphone compatibility section).
m = sb.metrics()
h.check(m.get("switchback_nat_keepalives_sent_total", 0) >= 4 and m.get("switchback_nat_keepalives_missed_total", 1) == 0,
        "Switchback's OPTIONS keep-alives to both phones were all answered",
        {k: v for k, v in m.items() if "nat" in k})
h.check(all(sb.binding(f"sip:{u}@example.com")["contacts"][0]["reachable"] for u in ("alice", "bob")),
        "/status: both phones reachable")
h.figure(f"keep-alives: {m.get('switchback_nat_keepalives_sent_total', 0):.0f} OPTIONS sent and answered, "
         f"{m.get('switchback_stun_answered_total', 0):.0f} STUN from bob")
stop_phones(h, sb, (alice, bob))
h.finish()
