"""A start does not depend on the resolver being up first (in a container or at boot it often is
not): with an upstream named by DNS and no DNS server answering yet, Switchback retries each
second, says so, and starts once the name resolves; with none by dns.startup_timeout_s it stops
with the reason (exit 1). Seen in CI: under podman-compose, Switchback once asked before the
network's DNS knew the registrar's name and gave up at once."""
import os
import threading
import time

from harness import Harness, free_port, wait_until

h = Harness(__doc__)
k = h.kamailio("primary")
resolv = os.path.join(h.dir, "resolv.conf")
with open(resolv, "w") as f:
    f.write(f"nameserver 127.0.0.1\nport {free_port()}\n")   # nothing answers there yet
late = {}


def dns_comes_up():
    time.sleep(2.5)
    dns = h.dns(srv=[], hosts=[("registrar.test", "127.0.0.1")], ttl=60)
    with open(resolv, "w") as f:
        f.write(f"nameserver 127.0.0.1\nport {dns.port}\n")
    late["at"] = time.monotonic()


threading.Thread(target=dns_comes_up, daemon=True).start()
start = time.monotonic()
sb = h.switchback([("primary", f"sip:registrar.test:{k.port}")],
                  extra_yaml=f'dns: {{ resolv_conf: "{resolv}", startup_timeout_s: 20 }}\n')
h.check(wait_until(lambda: sb.http("GET", "/healthz")[0] == 200, 10), "Switchback starts once the name resolves")
h.check("at" in late and time.monotonic() - start >= 2.5, "… and not before the DNS server was up")
log = sb.process.output()
h.check("retrying each second for up to 20 s (dns.startup_timeout_s)" in log, "the log says it waits for DNS, and how long",
        log[-1500:])
h.check(sb.status()["nodes"][0]["address"] == f"127.0.0.1:{k.port}", "the upstream has the address DNS gave",
        sb.status()["nodes"])
r = h.sipp("register.xml", sb.port, inf=h.users(["alice"]))
h.check(r.rc == 0, "a phone registers through it", r)

# No DNS at all: it gives up after dns.startup_timeout_s, naming the reason.
dead = os.path.join(h.dir, "dead-resolv.conf")
with open(dead, "w") as f:
    f.write(f"nameserver 127.0.0.1\nport {free_port()}\n")
t0 = time.monotonic()
try:
    h.switchback([("primary", f"sip:registrar.test:{k.port}")], name="switchback-nodns",
                 extra_yaml=f'dns: {{ resolv_conf: "{dead}", startup_timeout_s: 2 }}\n')
    h.check(False, "without DNS, the start gives up")
except RuntimeError as e:
    took = time.monotonic() - t0
    h.check("cannot start: DNS" in str(e) and took < 15,
            f"without DNS it gives up after dns.startup_timeout_s, with the reason ({took:.1f} s)", str(e)[-800:])
h.finish()
