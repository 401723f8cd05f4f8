"""Failback when the primary comes back (reRegisterOn=1, failRegistrationOn=1), per
failBack.mode: newRequests — a new call tries the primary first: Switchback holds it while it
tries to register the caller there (by replay); the restarted primary refuses the old nonce, so
the call goes via the secondary, where the caller is registered, and the phone's own refresh (it
was granted at most 300 s) registers it on the primary; the next call goes via the primary (a
replay the primary accepts: test_failback_new_requests). registration — calls stay on the secondary; the phone's next REGISTER
(its renewal) goes to the primary. In both, the primary is used only once probes report it
up (health-gated)."""
import time

from harness import Harness, free_port, wait_until

h = Harness(__doc__)


def setup(mode):
    primary = h.kamailio(f"primary-{mode}")
    secondary = h.kamailio(f"secondary-{mode}")
    sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], name=f"switchback-{mode}",
                      extra_yaml="failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: %s } }\n"
                                 "sbc: { max_phone_expires_s: 300 }\n" % mode)
    h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
    alice = h.register_phone(sb.port, "alice")
    bob = h.register_phone(sb.port, "bob")
    # Kamailio refuses nonces issued before it started, to the second: let the clock move on so
    # that the restarted primary always refuses the replay (the phone-driven path below).
    time.sleep(1.2)
    primary.crash()
    h.require(wait_until(lambda: sb.binding("sip:alice@example.com")["nodes"].get("secondary", {}).get("registered")
                         and sb.binding("sip:bob@example.com")["nodes"].get("secondary", {}).get("registered"), 5),
              f"[{mode}] both phones failed over to the secondary")
    primary.restart()
    h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), f"[{mode}] the primary is back up")
    return primary, secondary, sb, alice, bob


def call(sb, alice, bob, tag):
    callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name=f"bob-{tag}")
    time.sleep(0.3)
    r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name=f"alice-{tag}")
    callee.proc.wait(timeout=25)
    return r.rc == 0 and callee.proc.returncode == 0


# --- newRequests
primary, secondary, sb, alice, bob = setup("newRequests")
# bob refreshes his registration: under newRequests it goes to the primary first.
regs = len(primary.requests("REGISTER"))
h.register_phone(sb.port, "bob", bob)
h.check(len(primary.requests("REGISTER")) == regs + 2, "bob's refresh went to the primary (challenge and answer)")
before = len(secondary.requests("INVITE"))
h.check(call(sb, alice, bob, "nr1"), "the first new call after recovery completes")
h.check(len(secondary.requests("INVITE")) > before,
        "… carried via the secondary, where alice is registered, once the primary refused to register her by replay")
# The restarted primary refuses nonces from before its restart: the replay is challenged, and
# alice is left to her phone's own refresh (the phone-driven path).
h.check(wait_until(lambda: sb.status()["failover"]["reregistration"]["challenged"] >= 1, 5),
        "the restarted primary refused the replayed credentials (counted)", sb.status()["failover"])
h.check(not sb.binding("sip:alice@example.com")["nodes"].get("primary", {}).get("registered"),
        "alice is not registered on the primary yet")
b = sb.binding("sip:alice@example.com")
h.check(b["contacts"][0]["expires_in"] <= 300, "phones are granted at most 300 s, so their refresh comes soon", b)
h.register_phone(sb.port, "alice", alice)
h.check(sb.binding("sip:alice@example.com")["nodes"]["primary"]["registered"], "alice's own refresh registered her on the primary")
h.check(sb.binding("sip:alice@example.com")["last_registered_by"] == "phone", "… as the status says: phone")
invites_primary = len(primary.requests("INVITE"))
h.check(call(sb, alice, bob, "nr2"), "the next call completes")
h.check(len(primary.requests("INVITE")) == invites_primary + 2, "… via the primary (INVITE and re-INVITE)",
        primary.requests("INVITE"))
st = sb.status()["failover"]
h.check(st["failbacks"] >= 1 and st["failovers"] >= 2, "failovers and failbacks are counted", st)

# --- registration
primary, secondary, sb, alice, bob = setup("registration")
before_p = len(primary.requests("INVITE"))
h.check(call(sb, alice, bob, "reg1"), "a call after recovery completes")
h.check(len(primary.requests("INVITE")) == before_p, "… via the secondary: the registration mode waits for renewal")
regs_before = len(primary.requests("REGISTER"))
h.register_phone(sb.port, "alice", alice)
h.check(len(primary.requests("REGISTER")) > regs_before, "alice's renewal goes to the primary")
h.check(sb.binding("sip:alice@example.com")["nodes"]["primary"]["registered"], "alice is registered on the primary again")
h.finish()
