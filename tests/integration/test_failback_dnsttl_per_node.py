"""failBack.mode DNSTTL with nodes whose DNS records have different TTLs: two upstreams by name
with a port (primary.test, A record TTL 30 s; secondary.test, TTL 3 s), served by a DNS server on
loopback. After alice fails over to the secondary, the current node's record decides (the advisory:
"the primary server will be selected as the first server ... after the DNS TTL of the current
working server expires"): she is registered on the primary again about 3 s after failing over,
long before the primary's 30 s."""
from harness import Harness, wait_until

PRIMARY_TTL = 30
SECONDARY_TTL = 3

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
dns = h.dns(srv=[], hosts=[("primary.test", "127.0.0.1", PRIMARY_TTL), ("secondary.test", "127.0.0.1", SECONDARY_TTL)],
            ttl=PRIMARY_TTL)
sb = h.switchback([("primary", f"sip:primary.test:{primary.port}"), ("secondary", f"sip:secondary.test:{secondary.port}")],
                  extra_yaml=f"""
dns: {{ resolv_conf: "{dns.resolv_conf}" }}
failover: {{ reRegisterOn: 1, failRegistrationOn: 1, failBack: {{ mode: DNSTTL }} }}
""")
nodes = sb.status()["nodes"]
h.check([(n["dns"] or {}).get("ttl_s") for n in nodes] == [PRIMARY_TTL, SECONDARY_TTL],
        f"each node keeps its own record's TTL ({PRIMARY_TTL} s, {SECONDARY_TTL} s)", nodes)
h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), "probed")
h.register_phone(sb.port, "alice")


def on(node):
    return bool(sb.binding("sip:alice@example.com")["nodes"].get(node, {}).get("registered"))


h.check(on("primary"), "alice is registered via the primary")
back, after = h.time_failback(primary, lambda: on("secondary"), lambda: on("primary"), SECONDARY_TTL + 6)
h.check(back and SECONDARY_TTL - 0.5 <= after <= SECONDARY_TTL + 2.5,
        f"alice failed back {after:.1f} s after failing over: the current node's TTL ({SECONDARY_TTL} s) counted, "
        f"not the primary's ({PRIMARY_TTL} s)")
h.figure(f"DNSTTL failback {after:.1f} s after failover (current node's TTL {SECONDARY_TTL} s, primary's {PRIMARY_TTL} s)")
h.finish()
