"""failBack.mode DNSTTL with upstreams given by IP address: there is no DNS record, so no TTL.
--check-config warns about it (and says which key sets the TTL taken instead); with
dns.ip_literal_ttl_s: 5 an idle registrant fails over (the primary frozen) and is registered on
the primary again 5 s after failing over, as with a DNS name whose record has that TTL."""
import os
import subprocess

from harness import Harness

TTL = 5

h = Harness(__doc__)
config = os.path.join(h.dir, "check.yaml")
with open(config, "w") as f:
    f.write('listen: ["udp:127.0.0.1:5060"]\nupstreams:\n  - { name: primary, uri: "sip:127.0.0.1:5070" }\n'
            "failover: { reRegisterOn: 1, failBack: { mode: DNSTTL } }\n")
p = subprocess.run([h.binary, "--check-config", config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
out = p.stdout.decode()
h.check(p.returncode == 0 and "warning: failBack.mode DNSTTL with upstream 'primary' given by IP address" in out
        and "dns.ip_literal_ttl_s" in out, "--check-config warns about DNSTTL over an IP literal", out)

primary, secondary, sb = h.failover_pair("reRegisterOn: 1, failRegistrationOn: 1, failBack: { mode: DNSTTL }",
                                         extra_yaml=f"dns: {{ ip_literal_ttl_s: {TTL} }}\n")
alice = h.register_phone(sb.port, "alice")


def on(node):
    return bool(sb.binding("sip:alice@example.com")["nodes"].get(node, {}).get("registered"))


back, after = h.time_failback(primary, lambda: on("secondary"), lambda: on("primary"), TTL + 10)
h.check(back and TTL - 0.5 <= after <= TTL + 2.5, f"alice failed back {after:.1f} s after failing over (TTL taken: {TTL} s)")
h.figure(f"DNSTTL over IP literals: failback {after:.1f} s after failover with dns.ip_literal_ttl_s {TTL}")
h.finish()
