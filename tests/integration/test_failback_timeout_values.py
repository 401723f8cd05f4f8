"""failBack.timeout end to end, and per-line settings over site settings with values that differ
(the advisory: "If you set a value between 1 and 59, the timeout will be 60 seconds. If you set a
value of 0, the primary server won't be selected as the first server to forward new requests to
until a failover event occurs with the current working server"; "reg parameters supersede voipProt
parameters"). The site says duration with timeout 3600; bob's group says timeout 30, alice's
group timeout 0, carol has the site's. The primary is partitioned (frozen) until all three failed
over, then heals. bob fails back 60 s after the failover (30 acts as 60); carol (3600) and alice (0)
stay on the secondary. Then the secondary fails: alice and carol fail over to the primary."""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri), ("secondary", secondary.uri)], extra_yaml="""
failover: { reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: duration, timeout: 3600 } }
registrant_groups:
  - { name: short, match: "sip:bob@*", failover: { failBack: { timeout: 30 } } }
  - { name: never, match: "sip:alice@*", failover: { failBack: { timeout: 0 } } }
""")
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
PHONES = ("alice", "bob", "carol")
for user in PHONES:
    h.register_phone(sb.port, user)


def on(aor, node):
    return bool(sb.binding(f"sip:{aor}@example.com")["nodes"].get(node, {}).get("registered"))


def stays_on_secondary(aor):
    return on(aor, "secondary") and not on(aor, "primary")


def call_id(aor):
    return sb.binding(f"sip:{aor}@example.com")["call_id"]


os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: all(on(x, "secondary") for x in PHONES), 5, interval=0.02),
          "everyone failed over to the secondary")
failed_over = time.monotonic()
os.killpg(primary.process.pid, signal.SIGCONT)
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the primary heals")
primary_registers = len(primary.requests("REGISTER"))

back = wait_until(lambda: on("bob", "primary"), 70, interval=0.1)
bob_after = time.monotonic() - failed_over
h.check(back and 59.5 <= bob_after <= 62.5,
        f"bob (his group's timeout 30, which acts as 60) failed back {bob_after:.1f} s after failing over")
h.figure(f"failBack.timeout 30 failed back after {bob_after:.1f} s (acts as 60)")
time.sleep(max(0.0, 68 - (time.monotonic() - failed_over)))
h.check(stays_on_secondary("alice"),
        "alice (her group's timeout 0) is still on the secondary 68 s after failing over: no timed failback",
        sb.binding("sip:alice@example.com"))
h.check(stays_on_secondary("carol"),
        "carol (the site's timeout 3600) is still on the secondary: the group's 30 did not apply to her",
        sb.binding("sip:carol@example.com"))
sent = {r["callid"] for r in primary.requests("REGISTER")[primary_registers:]}
h.check(call_id("bob") in sent and call_id("alice") not in sent and call_id("carol") not in sent,
        "the primary heard a REGISTER for bob and none for alice or carol since it healed",
        [sent, {x: call_id(x) for x in PHONES}])

# A failover event with the current working server: alice and carol go back to the primary.
os.killpg(secondary.process.pid, signal.SIGSTOP)
try:
    h.check(wait_until(lambda: on("alice", "primary") and on("carol", "primary"), 6, interval=0.05),
            "the secondary fails: alice (timeout 0) and carol fail over to the primary",
            [sb.binding(f"sip:{x}@example.com") for x in ("alice", "carol")])
finally:
    os.killpg(secondary.process.pid, signal.SIGCONT)
h.finish()
