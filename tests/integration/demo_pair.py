"""The pair demo (scripts/demo.sh --pair): two Switchback nodes, A and B, share their phones'
registrations through a local Redis in front of a local Kamailio registrar. Phones register via A;
B knows them at once and their calls via B go through; then A is killed (kill -9) and B takes
every one of A's phones over, re-registering them upstream with its own Path, paced; a call from
the registrar then reaches a phone that had registered via A. Prints a timeline with its figures.
Everything runs on loopback and stops by itself (about 20 s)."""
import time

from harness import Harness, free_port, wait_until

PHONES = 200
CAP = 100

h = Harness(__doc__)
print("== Switchback pair demo ==")
redis = h.redis()
primary = h.kamailio("primary")
a, b = h.cluster([("primary", primary.uri)], redis, extra_yaml=f"pacing: {{ registrations_per_second: {CAP} }}\n")
h.require(wait_until(lambda: sum(n["alive"] for n in b.status()["cluster"]["nodes"]) == 2, 5), "both nodes see each other")
print(f"Redis on 127.0.0.1:{redis.port}; Kamailio on 127.0.0.1:{primary.port}; node A on 127.0.0.1:{a.port} "
      f"(admin http://127.0.0.1:{a.admin_port}/status), node B on 127.0.0.1:{b.port} "
      f"(admin http://127.0.0.1:{b.admin_port}/status)")

t0 = time.monotonic()
bob = h.register_phone(a.port, "bob")
phones = free_port()
r = h.sipp("register.xml", a.port, phones, calls=PHONES, rate=200, inf=h.users([f"phone{i}" for i in range(1, PHONES + 1)]))
h.require(r.rc == 0, f"{PHONES} phones registered via A", r)
print(f"   t={time.monotonic() - t0:5.2f} s  {PHONES + 1} phones registered via node A")
h.require(wait_until(lambda: b.status()["bindings"]["registrants"] == PHONES + 1, 2), "B knows them")
lag = b.status()["cluster"]["store"]["lag_ms"]
print(f"   t={time.monotonic() - t0:5.2f} s  node B knows all of them (replication A→B median {lag['median']} ms, "
      f"p99 {lag['p99']} ms)")

ok, r = h.calls(b.port, [(f"phone{i}", "bob") for i in range(1, 11)], phones, bob, callee_target=a.port, rate=10)
h.check(ok, "10 phones registered via A call bob via B", r)
print(f"   t={time.monotonic() - t0:5.2f} s  10 phones registered via A called bob via node B: no 403, no REGISTER via B")

killed = time.monotonic()
a.kill()
print(f"   t={killed - t0:5.2f} s  kill -9 of node A")
h.require(wait_until(lambda: b.status()["cluster"]["taken_over"] > 0, 5), "B sees A lapse")
print(f"   t={time.monotonic() - t0:5.2f} s  node B sees A's heartbeat lapse and takes its {PHONES + 1} phones over")
h.require(wait_until(lambda: b.status()["failover"]["reregistration"]["registered"] >= PHONES + 1, 15),
          "B re-registered them all")
print(f"   t={time.monotonic() - t0:5.2f} s  all re-registered upstream with B's Path, paced at {CAP}/s")
ok, r = h.calls(b.port, [("phone1", "bob")], phones, bob)
h.check(ok, "a call from the registrar reaches bob (registered via A) through B", r)
print(f"   t={time.monotonic() - t0:5.2f} s  phone1 called bob: the registrar sent the call to B, B to bob")
for line in b.process.output().splitlines():
    if "cluster takeover" in line:
        print("   B's log: " + line.split("] ", 1)[-1])
h.finish()
