"""Upstreams by DNS name (RFC 3263): one upstream, registrar.test, whose SRV records (served by a
DNS server on loopback with a 5 s TTL) name the primary (priority 10) and the secondary
(priority 20). failBack.mode DNSTTL: after failing over, an idle registrant is registered on the
primary again once the TTL of the current node's DNS record has passed."""
import os
import signal
import time

from harness import Harness, wait_until

TTL = 5

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
dns = h.registrar_srv(primary, secondary, TTL)
sb = h.switchback([("registrar", "sip:registrar.test")], extra_yaml=f"""
dns: {{ resolv_conf: "{dns.resolv_conf}" }}
failover: {{ reRegisterOn: 1, failRegistrationOn: 1, failBack: {{ mode: DNSTTL }} }}
""")
nodes = sb.status()["nodes"]
h.check([n["address"] for n in nodes] == [f"127.0.0.1:{primary.port}", f"127.0.0.1:{secondary.port}"],
        "the SRV records ordered the nodes by priority", nodes)
h.check(all(n["dns"] and n["dns"]["ttl_s"] == TTL for n in nodes), f"each node keeps its DNS TTL ({TTL} s)", nodes)
first, second = nodes[0]["name"], nodes[1]["name"]
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
alice = h.register_phone(sb.port, "alice")


def on(node):
    return bool(sb.binding("sip:alice@example.com")["nodes"].get(node, {}).get("registered"))


h.check(on(first), "alice is registered via the SRV primary")
os.killpg(primary.process.pid, signal.SIGSTOP)
h.require(wait_until(lambda: on(second), 5, interval=0.02), "alice failed over to the SRV secondary")
failed_over = time.monotonic()
os.killpg(primary.process.pid, signal.SIGCONT)
back = wait_until(lambda: on(first), TTL + 5, interval=0.05)
after = time.monotonic() - failed_over
h.check(back and TTL - 0.5 <= after <= TTL + 2.5,
        f"alice failed back to the primary {after:.1f} s after failing over (DNS TTL {TTL} s)")
h.figure(f"DNSTTL failback {after:.1f} s after failover with a {TTL} s TTL")
time.sleep(TTL + 1.5)
h.check("SRV" in dns.process.output() and dns.process.output().count("_sip._udp.registrar.test") >= 2,
        "Switchback re-resolved the name when its TTL expired", dns.process.output()[-800:])
h.finish()
