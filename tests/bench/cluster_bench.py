"""The cluster's figures (issue 12), printed one per line, each with what it measured:

  1. replication delay A→B: a change written to Redis by node A until node B has applied it
     (median, p99 over every registration of a load), plus the wait for A's next flush;
  2. takeover: node A killed with SIGKILL holding N registrants (default 10,000); the time until
     node B has re-registered all of them upstream, paced at pacing.registrations_per_second;
  3. memory (RSS growth) and CPU per binding of one node with the Redis store and with SQLite,
     and Redis's own memory per binding.

    python3 tests/bench/cluster_bench.py --switchback build/proxy/switchback [--phones 10000] [--cap 500]

Everything on loopback; every load bounded in count and time; the processes it starts are
stopped by PID."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Harness, free_port, wait_until  # noqa: E402

parser = argparse.ArgumentParser(add_help=False)
parser.add_argument("--phones", type=int, default=10000)
parser.add_argument("--cap", type=int, default=500, help="pacing.registrations_per_second")
parser.add_argument("--rate", type=int, default=1000, help="registrations per second of the load")
ours, sys.argv[1:] = parser.parse_known_args()
PHONES, CAP, RATE = ours.phones, ours.cap, ours.rate

h = Harness(__doc__)
users = h.users([f"u{i}" for i in range(1, PHONES + 1)])
register_s = PHONES / RATE + 30


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def load(node, name):
    """PHONES registrations via `node` at RATE/s; returns (RSS growth bytes, CPU seconds, wall seconds)."""
    rss0, cpu0, t0 = rss_kb(node.process.pid), node.process.cpu_seconds(), time.monotonic()
    r = h.sipp("register.xml", node.port, free_port(), calls=PHONES, rate=RATE, inf=users, timeout=int(register_s),
               name=name)
    h.require(r.rc == 0 and r.successful == PHONES, f"{PHONES} phones registered via {node.name}", r)
    time.sleep(1.0)  # the last flush
    return (rss_kb(node.process.pid) - rss0) * 1024, node.process.cpu_seconds() - cpu0, time.monotonic() - t0


# 1 and 2: a pair on Redis.
redis = h.redis()
primary = h.kamailio("primary", shm_mb=512)
a, b = h.cluster([("primary", primary.uri)], redis, extra_yaml=f"pacing: {{ registrations_per_second: {CAP} }}\n")
h.require(wait_until(lambda: sum(n["alive"] for n in b.status()["cluster"]["nodes"]) == 2, 5), "pair up")
def redis_used():
    return int(redis.command("INFO", "memory").split("used_memory:")[1].split()[0])


used0 = redis_used()
grow_redis, cpu_redis, wall = load(a, "load-redis")
redis_per_binding = (redis_used() - used0) / PHONES
h.require(wait_until(lambda: b.status()["bindings"]["registrants"] == PHONES, 10), f"B knows all {PHONES}")
lag = b.status()["cluster"]["store"]["lag_ms"]
h.figure(f"replication A→B (Redis pub/sub, change written at A → applied at B) over {lag['samples']} changes: "
         f"median {lag['median']} ms, p99 {lag['p99']} ms; add A's wait for its next flush "
         f"(store.flush_interval_ms 20: 10 ms on average, 20 at most)")

t0 = time.monotonic()
a.kill()
detected = None
deadline = time.monotonic() + PHONES / CAP * 2 + 30
while time.monotonic() < deadline:
    st = b.status()
    if detected is None and st["cluster"]["taken_over"] > 0:
        detected = time.monotonic() - t0
    if st["cluster"]["taken_over"] == PHONES and st["failover"]["reregistration"]["queued"] == 0 and \
            st["failover"]["reregistration"]["registered"] >= PHONES:
        break
    time.sleep(0.1)
took = time.monotonic() - t0
st = b.status()
h.check(st["failover"]["reregistration"]["registered"] >= PHONES, "B re-registered every registrant", st["failover"])
h.figure(f"takeover of {PHONES} registrants at a cap of {CAP}/s: A's lapse seen by B {detected or 0:.1f} s after "
         f"kill -9, all re-registered by B {took:.1f} s after it ({PHONES / CAP:.1f} s is the cap's own minimum)")
h.figure(f"Redis store, one node: RSS +{grow_redis / PHONES:.0f} bytes and {cpu_redis / PHONES * 1e6:.0f} µs CPU "
         f"per registration ({PHONES} at {RATE}/s)")

# 3: the same load on one node with SQLite.
db = os.path.join(h.dir, "bench.db")
single = h.switchback([("primary", primary.uri)], name="switchback-sqlite",
                      extra_yaml=f"store: {{ kind: sqlite, path: \"{db}\" }}\n")
grow_sqlite, cpu_sqlite, _ = load(single, "load-sqlite")
h.figure(f"SQLite store, one node: RSS +{grow_sqlite / PHONES:.0f} bytes and {cpu_sqlite / PHONES * 1e6:.0f} µs CPU "
         f"per registration ({PHONES} at {RATE}/s)")
h.figure(f"Redis itself: +{redis_per_binding:.0f} bytes of used_memory per binding (a key with its record and TTL)")
h.finish()
