"""Health-gated failback, on and off (failBack.mode DNSTTL, 3 s TTL, the primary stays down):
gated (the default), Switchback does not try the primary while probes report it down; ungated,
it tries the primary when the TTL has passed (the attempt fails, and the registrant stays on the
secondary and keeps calling)."""
import os
import signal
import time

from harness import Harness, wait_until

TTL = 3

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
dns = h.registrar_srv(primary, secondary, TTL)


def start(gated):
    sb = h.switchback([("registrar", "sip:registrar.test")], name=f"switchback-gated{gated}", extra_yaml=f"""
dns: {{ resolv_conf: "{dns.resolv_conf}" }}
failover: {{ reRegisterOn: 1, failRegistrationOn: 1, failBack: {{ mode: DNSTTL }} }}
pacing: {{ health_gated_failback: {gated} }}
""")
    h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
    return sb


gated, ungated = start(1), start(0)
h.register_phone(gated.port, "alice")
h.register_phone(ungated.port, "bob")
os.killpg(primary.process.pid, signal.SIGSTOP)   # down for the rest of the test
for sb, aor in ((gated, "alice"), (ungated, "bob")):
    second = sb.status()["nodes"][1]["name"]
    h.require(wait_until(lambda: sb.binding(f"sip:{aor}@example.com")["nodes"].get(second, {}).get("registered"), 5),
              f"{aor} failed over")
sent = {id(sb): sb.status()["failover"]["reregistration"]["sent"] for sb in (gated, ungated)}
time.sleep(TTL + 2)
h.check(gated.status()["failover"]["reregistration"]["sent"] == sent[id(gated)],
        "gated: no attempt on the primary while probes report it down", gated.status()["failover"])
h.check(ungated.status()["failover"]["reregistration"]["sent"] > sent[id(ungated)],
        "ungated: the primary is tried when the TTL has passed", ungated.status()["failover"])
first = ungated.status()["nodes"][0]["name"]
h.check(not ungated.binding("sip:bob@example.com")["nodes"].get(first, {}).get("registered"),
        "… the attempt on the dead primary fails and bob stays on the secondary")
os.killpg(primary.process.pid, signal.SIGCONT)
h.finish()
