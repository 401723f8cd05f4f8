"""The cluster's Redis is killed under a registration load and started again, empty. Both nodes
keep serving from memory (every registration of the load succeeds, calls between them go on), say
so (/metrics switchback_store_up 0, errors counted, one warning per edge in the log), take no one
over (a store that has just come back judges nobody), and converge once Redis is back: each writes
its registrants again and loads the other's, so both know every phone and Redis holds them all."""
import time

from harness import Harness, free_port, wait_until

PER_NODE = 300
RATE = 100

h = Harness(__doc__, ports=(29600, 29899))  # this test's own port range
redis = h.redis()
primary = h.kamailio("primary")
a, b = h.cluster([("primary", primary.uri)], redis)
h.require(wait_until(lambda: sum(n["alive"] for n in b.status()["cluster"]["nodes"]) == 2, 5), "both nodes alive")
bob_port = free_port()
h.require(h.sipp("register.xml", a.port, bob_port, inf=h.users(["bob"], "bob")).rc == 0, "bob registered via A")
carol = h.register_phone(b.port, "carol")

port_a, port_b = free_port(), free_port()
load_a = h.sipp_background("register.xml", a.port, port_a, calls=PER_NODE, rate=RATE,
                           inf=h.users([f"a{i}" for i in range(1, PER_NODE + 1)], "users-a"), timeout=15, name="load-a")
load_b = h.sipp_background("register.xml", b.port, port_b, calls=PER_NODE, rate=RATE,
                           inf=h.users([f"b{i}" for i in range(1, PER_NODE + 1)], "users-b"), timeout=15, name="load-b")
time.sleep(0.8)
redis.stop()
down_at = time.monotonic()
h.check(wait_until(lambda: a.metrics().get("switchback_store_up") == 0 and b.metrics().get("switchback_store_up") == 0,
                   3), "both nodes' /metrics say the store is down (switchback_store_up 0)")
time.sleep(1.0)
# Meanwhile phones registered via A and via B call each other: each node serves from memory.
ok, r = h.calls(b.port, [("carol", "bob")], carol, bob_port, callee_target=a.port)
h.check(ok, "while Redis is down, carol (registered via B) calls bob (registered via A) via B", r)
redis.start()
up_at = time.monotonic()
load_a.proc.wait(timeout=30)
load_b.proc.wait(timeout=30)
h.check(load_a.proc.returncode == 0 and load_b.proc.returncode == 0,
        f"every one of the {2 * PER_NODE} registrations of the load succeeded, Redis down or not")

total = 2 * PER_NODE + 2
converged = wait_until(lambda: a.status()["bindings"]["registrants"] == total and
                       b.status()["bindings"]["registrants"] == total, 10, interval=0.1)
took = time.monotonic() - up_at
h.check(converged, f"both nodes know all {total} registrants {took:.1f} s after Redis came back",
        (a.status()["bindings"]["registrants"], b.status()["bindings"]["registrants"]))
keys = int(redis.command("EVAL", "return #redis.call('KEYS', 'sb:test:b:*')", "0")[1:] or 0)
h.check(keys == total, f"the restarted Redis holds every registrant again ({keys})")
for name, node in (("A", a), ("B", b)):
    m, st = node.metrics(), node.status()["cluster"]
    h.check(m.get("switchback_store_up") == 1 and m.get("switchback_store_errors_total", 0) > 0 and
            st["store"]["unsent"] == 0, f"{name}: store up again, errors counted "
            f"({m.get('switchback_store_errors_total')}), nothing left unsent", st["store"])
    h.check(st["taken_over"] == 0, f"{name} took nobody over: the outage was Redis's, not a node's", st)
    log = node.process.output()
    h.check(log.count("cluster store: Redis at") == 2 and "is back" in log,
            f"{name} logged one warning when Redis was lost and one when it came back",
            [l for l in log.splitlines() if "cluster store" in l])
ok, r = h.calls(b.port, [("a1", "b2")], port_a, port_b, callee_target=b.port)
h.check(ok, "after it, a1 (registered via A during the outage) calls b2 (registered via B) via B", r)
h.figure(f"Redis down {up_at - down_at:.1f} s under a load of {2 * RATE} registrations/s over two nodes: no "
         f"registration failed; converged {took:.1f} s after it came back")
h.finish()
