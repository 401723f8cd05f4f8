"""failBack.mode registration: "the primary server is retried when the current working server's
registration requires renewal" — not only when the phone happens to refresh. Phones register for
60 s; the primary freezes until Switchback has registered them on the secondary (by replay, 60 s
granted), then heals. 32 s before the secondary's registration ends, Switchback registers alice
(registration mode) on the primary again, by replay, though her phone sent nothing; carol (a
group with duration 3600) stays, and Switchback renews her replayed registration on the secondary
instead of letting it lapse."""
import os
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: registration }", """
registrant_groups: [{ name: stay, match: "sip:carol@*", failover: { failBack: { mode: duration, timeout: 3600 } } }]
""")
h.register_phone(sb.port, "alice", keys={"expires": 60})
h.register_phone(sb.port, "carol", keys={"expires": 60})
os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: sb.registered_on("alice", "secondary") and sb.registered_on("carol", "secondary"), 5,
                     interval=0.02), "alice and carol failed over to the secondary (60 s granted)")
failed_over = time.monotonic()
os.killpg(primary.process.pid, signal.SIGCONT)
h.require(wait_until(lambda: sb.status()["nodes"][0]["usable"], 5), "the primary heals")
h.check(not sb.registered_on("alice", "primary"), "alice stays on the secondary until its registration needs renewal")
back = wait_until(lambda: sb.registered_on("alice", "primary"), 38, interval=0.1)
after = time.monotonic() - failed_over
h.check(back and 25 <= after <= 33, f"alice was registered on the primary again {after:.1f} s after failing over "
        "(the secondary's 60 s registration needed renewal)")
h.check(sb.binding("sip:alice@example.com")["last_registered_by"] == "replay", "… by Switchback, her phone sent nothing")
# carol's renewal falls due at the same time as alice's failback, not necessarily before it.
wait_until(lambda: sb.binding("sip:carol@example.com")["nodes"]["secondary"]["expires_in"] > 40, 3, interval=0.1)
c = sb.binding("sip:carol@example.com")
h.check(c["nodes"]["secondary"]["registered"] and c["nodes"]["secondary"]["expires_in"] > 40,
        f"carol's replayed registration on the secondary was renewed ({after:.0f} s after failover it has "
        f"{c['nodes']['secondary']['expires_in']} s left)", c)
h.check(not sb.registered_on("carol", "primary"), "carol (duration 3600) did not fail back")
h.figure(f"registration-mode failback {after:.1f} s after failover with a 60 s registration")
h.finish()
