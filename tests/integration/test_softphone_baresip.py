"""Real softphones: two baresip 1.0 phones (Debian's) register through Switchback to a Kamailio
pair and call each other; the primary is killed (-9) and, without touching the phones, the next
call goes through via the secondary (Switchback registered both there by replay, reRegisterOn=1);
the primary comes back and the phones' own refreshes register them there again (failBack
newRequests: a phone's REGISTER tries the primary first), and the next call goes via the primary.
alice is a plain account; bob uses RFC 5626 outbound (sipnat=outbound: reg-id, keep-alives).
Asserted from the phones' own ctrl_tcp events (REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED) and
from what each registrar logged."""
import time

from harness import Harness, wait_until
from softphones import Baresip

REGINT = 15          # the phones' registration interval (s): their refresh comes every ~13.5 s

h = Harness(__doc__)
primary = h.kamailio("primary", min_expires=10)
secondary = h.kamailio("secondary", min_expires=10)
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml="""
failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: newRequests } }
nat: { keepalive_interval_s: 3 }
""")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 10),
          "both nodes probed")

alice = Baresip(h, "alice", sb.port, regint=REGINT)
bob = Baresip(h, "bob", sb.port, regint=REGINT, extra_account=";sipnat=outbound")
h.require(alice.wait_event("REGISTER_OK", 20) and bob.wait_event("REGISTER_OK", 20),
          "both baresip phones say REGISTER_OK", alice.log()[-2000:] + bob.log()[-2000:])
h.check(sb.registered_on("alice", "primary") and sb.registered_on("bob", "primary"),
        "/status: both registered on the primary", sb.binding("sip:alice@example.com"))
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


def call(caller, callee, via, other, tag):
    """caller dials callee; both phones report the call established, then closed after the
    caller hangs up. Returns (whether it all happened, setup seconds); checks the INVITE
    reached `via` and not `other`."""
    before = (caller.count("CALL_ESTABLISHED"), callee.count("CALL_ESTABLISHED"),
              caller.count("CALL_CLOSED"), callee.count("CALL_CLOSED"))
    start = time.monotonic()
    caller.dial(callee.user)
    established = wait_until(lambda: caller.count("CALL_ESTABLISHED") > before[0]
                             and callee.count("CALL_ESTABLISHED") > before[1], 30)
    setup = time.monotonic() - start
    h.check(established, f"[{tag}] {caller.user} calls {callee.user}: both phones say CALL_ESTABLISHED",
            caller.log()[-2500:] + callee.log()[-2500:])
    call_id = next((e["id"] for e in reversed(caller.events) if e.get("type") == "CALL_ESTABLISHED"), None)
    h.check(any(r["callid"] == call_id for r in via.requests("INVITE")),
            f"[{tag}] … the INVITE went via the {via.name}", via.requests("INVITE"))
    h.check(all(r["callid"] != call_id for r in other.requests("INVITE")),
            f"[{tag}] … and not via the {other.name}")
    time.sleep(0.5)
    caller.hangup()
    closed = wait_until(lambda: caller.count("CALL_CLOSED") > before[2] and callee.count("CALL_CLOSED") > before[3], 20)
    h.check(closed, f"[{tag}] {caller.user} hangs up: both phones say CALL_CLOSED")
    h.check(wait_until(lambda: any(r["callid"] == call_id for r in via.requests("BYE")), 5),
            f"[{tag}] … the BYE went via the {via.name} too")
    h.figure(f"[{tag}] call setup (dial to both CALL_ESTABLISHED): {setup * 1000:.0f} ms")
    return established and closed


call(alice, bob, primary, secondary, "before")
h.check(call(bob, alice, primary, secondary, "before, the other way"), "calls work both ways before the failover")

# The primary dies. Nothing is sent to the phones: Switchback registers them on the secondary.
commands_before = len(alice.commands) + len(bob.commands)
registering_before = alice.count("REGISTERING") + bob.count("REGISTERING")
time.sleep(1.2)      # Kamailio refuses nonces from before its start, to the second (failback below)
t0 = time.monotonic()
primary.crash()
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("bob", "secondary"), 15),
          "both phones are registered on the secondary (by Switchback) after kill -9 of the primary",
          sb.status()["failover"])
h.figure(f"kill -9 of the primary to both phones registered on the secondary: {time.monotonic() - t0:.2f} s")
h.check(all(sb.binding(f"sip:{u}@example.com")["last_registered_by"] == "replay" for u in ("alice", "bob")),
        "… by replaying each phone's last REGISTER (the phones did nothing)")
call(alice, bob, secondary, primary, "failover")
h.check(len(alice.commands) + len(bob.commands) == commands_before + 2,
        "the phones were only asked to dial and hang up (no re-registration asked for)")
regs = secondary.requests("REGISTER")
h.check(regs and all(r["source"] == f"127.0.0.1:{sb.port}" for r in regs),
        "the secondary got the REGISTERs from Switchback only", regs)

# Failback: the primary restarts with empty tables; the phones' own refreshes go to it first.
primary.restart()
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 10), "the primary is back up")
t1 = time.monotonic()
h.require(wait_until(lambda: sb.registered_on("alice", "primary") and sb.registered_on("bob", "primary"), 3 * REGINT),
          f"both phones are registered on the primary again within {3 * REGINT} s (their own refreshes)",
          [sb.binding(f"sip:{u}@example.com") for u in ("alice", "bob")])
h.figure(f"primary back to both phones registered on it: {time.monotonic() - t1:.1f} s (regint {REGINT} s)")
h.check(all(sb.binding(f"sip:{u}@example.com")["last_registered_by"] == "phone" for u in ("alice", "bob")),
        "… by the phones' own REGISTERs")
call(alice, bob, primary, secondary, "failback")
h.check(alice.alive() and bob.alive(), "both baresip processes are still running")
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
st = sb.status()["failover"]
h.check(st["failovers"] >= 2 and st["failbacks"] >= 1, "/status counts the failovers and the failback", st)
h.finish()
