"""Takeover: three Switchback nodes share registrations through Redis. Under a load of
registrations via node A, A is killed with SIGKILL. When its heartbeat lapses, B and C split A's
registrants by rendezvous hash (each AOR to exactly one of them) and re-register their share
upstream with their own Path, each paced at pacing.registrations_per_second (the highest 1-s rate
within 5 % of the cap). Nothing Redis had acknowledged is lost: every phone with a 200 OK more
than the flush interval before the kill is re-registered. Calls from the registrar then reach
A's phones through their new owner. A restarted A does not grab them back."""
import os
import time

from harness import Harness, free_port, wait_until

PHONES = 1000
RATE = 500
CAP = 100              # pacing.registrations_per_second, per node and upstream
FLUSH_MS = 20          # store.flush_interval_ms (the default)

h = Harness(__doc__, ports=(29300, 29599))  # this test's own port range
redis = h.redis()
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
a, b, c = h.cluster([("primary", primary.uri), ("secondary", secondary.uri)], redis, ids=("a", "b", "c"),
                    extra_yaml=f"pacing: {{ registrations_per_second: {CAP} }}\n")
h.require(wait_until(lambda: sum(n["alive"] for n in b.status()["cluster"]["nodes"]) == 3, 5), "three nodes alive")

bob_port = free_port()
h.require(h.sipp("register.xml", a.port, bob_port, inf=h.users(["bob"], "bob")).rc == 0, "bob registered via A")
alice = h.register_phone(b.port, "alice")

users = h.users([f"u{i}" for i in range(1, PHONES + 1)])
load = h.sipp_background("register.xml", a.port, free_port(), calls=PHONES, rate=RATE, inf=users, timeout=6,
                         name="load")
h.require(wait_until(lambda: b.status()["bindings"]["registrants"] >= 2 + PHONES // 2, 10), "half of the load registered")


def from_b_and_c():
    return [r for r in primary.requests("REGISTER") if r["source"] in (f"127.0.0.1:{b.port}", f"127.0.0.1:{c.port}")]


regs_before = len(from_b_and_c())
killed_at = time.time()
t0 = time.monotonic()
a.kill()
in_redis = int(redis.command("DBSIZE")[1:] or 0)

# B and C each take their share, paced.
samples = {"b": [], "c": []}
deadline = time.monotonic() + 25
while time.monotonic() < deadline:
    done = True
    for name, node in (("b", b), ("c", c)):
        st = node.status()
        samples[name].append((time.monotonic(), st["failover"]["reregistration"]["registered"]))
        rr = st["failover"]["reregistration"]
        done = done and st["cluster"]["taken_over"] > 0 and rr["queued"] == 0 and rr["registered"] >= st["cluster"]["taken_over"]
    if done:
        break
    time.sleep(0.05)
took = time.monotonic() - t0
load.proc.wait(timeout=30)
acked = h.acked_registrations(load, killed_at - (FLUSH_MS + 50) / 1000)
sb, sc = b.status()["cluster"], c.status()["cluster"]
taken = sb["taken_over"] + sc["taken_over"]
owned_by_a = [n["owned"] for n in sb["nodes"] if n["id"] == "a"]
h.check(sb["taken_over"] > 0 and sc["taken_over"] > 0, f"B and C both took a share ({sb['taken_over']} and "
        f"{sc['taken_over']})", (sb, sc))
h.check(owned_by_a == [0], "B's /status: A owns nothing any more", sb["nodes"])
regs = from_b_and_c()[regs_before:]
h.check(len(regs) == taken, f"each of the {taken} registrants was re-registered once, by one node ({len(regs)} REGISTERs "
        "from B and C)")
missing = [u for u in acked if not (b.registered_on(u, "primary") and (b.binding(f"sip:{u}@example.com") or {})
                                     .get("last_registered_by") in ("replay", "phone"))]
h.check(len(acked) > 100 and not missing, f"all {len(acked)} phones acknowledged more than {FLUSH_MS + 50} ms before the "
        "kill are registered after the takeover", missing[:10])
for name, node in (("b", b), ("c", c)):
    peak = h.peak_rate(samples[name])
    h.check(abs(peak - CAP) <= CAP * 0.05, f"{name.upper()}'s highest 1-s re-registration rate is within 5 % of the cap "
            f"({peak:.0f}/s, cap {CAP}/s)", samples[name][-5:])
log = b.process.output()
h.check(log.count("cluster takeover: node 'a' lapsed") == 1, "B logs the takeover once, with counts",
        [l for l in log.splitlines() if "takeover" in l])
h.figure(f"kill -9 of A with {taken} registrants: B and C re-registered their shares ({sb['taken_over']} and "
         f"{sc['taken_over']}) at {CAP}/s each, done {took:.1f} s after the kill; Redis held {in_redis} keys at the kill")

# Calls to A's phones now reach them through their new owner: alice (via B) calls bob.
ok, r = h.calls(b.port, [("alice", "bob")], alice, bob_port)
h.check(ok, "after the takeover a call to bob (registered via A) reaches him", r)

# A comes back: it loads the registrants, owns none of them and re-registers nothing.
a.start()
h.require(wait_until(lambda: a.status()["bindings"]["registrants"] >= taken, 5), "the restarted A loaded the registrants")
time.sleep(1.5)
sa = a.status()
h.check([n["owned"] for n in sa["cluster"]["nodes"] if n["id"] == "a"] == [0] and
        a.metrics().get("switchback_reregistrations_sent_total", 0) == 0,
        "the returning A owns none of them and sends no registration", sa["cluster"])
h.finish()
