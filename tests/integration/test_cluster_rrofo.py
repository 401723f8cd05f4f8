"""Two pairs of Switchback nodes, one with cluster.shared_registrations true, one with false, and on
each a phone that behaves like the advisory's reRegisterOn=0 (it just sends its next call via the
other node) and one that behaves like reRegisterOn=1 (refused by a node it is not registered
through, it registers there, then calls). Each phone registers via node A and calls via node B.

Shared (true): both phones' calls via B simply work: B knows them from Redis, no 403, no REGISTER.
Own registration (false): B refuses both calls with "403 Not Registered via This Node" — the
answer the SBC gives a phone not registered through it, which a Polycom phone with reRegisterOn=1
takes as its cue to register via that node; the reRegisterOn=1 phone then registers via B and its
next call via B works. The reRegisterOn=0 phone, which never registers via B, stays refused: such
phones belong behind a pair with shared registrations."""
from harness import Harness, free_port, wait_until

h = Harness(__doc__, ports=(29900, 30199))  # this test's own port range
redis = h.redis()
primary = h.kamailio("primary")


def refused(node, caller, caller_port):
    r = h.sipp("uac_refused_403.xml", node.port, caller_port, inf=h.users([f"{caller};bob"], f"refused-{caller_port}"),
               timeout=5, name=f"refused-{caller}")
    return r.rc == 0


for shared in (True, False):
    label = "shared" if shared else "own"
    a, b = h.cluster([("primary", primary.uri)], redis, shared=shared, name=label)
    h.require(wait_until(lambda: sum(n["alive"] for n in b.status()["cluster"]["nodes"]) == 2, 5), f"{label}: pair up")
    bob = free_port()
    h.require(h.sipp("register.xml", a.port, bob, inf=h.users(["bob"], f"bob-{label}")).rc == 0, f"{label}: bob via A")
    rr0 = h.register_phone(a.port, "rr0")
    rr1 = h.register_phone(a.port, "rr1")
    h.require(wait_until(lambda: b.binding("sip:rr1@example.com") is not None, 2), f"{label}: B knows rr0 and rr1")
    regs_before = len(primary.requests("REGISTER"))
    if shared:
        for user, port in (("rr0", rr0), ("rr1", rr1)):
            ok, r = h.calls(b.port, [(user, "bob")], port, bob, callee_target=a.port)
            h.check(ok, f"shared: {user} (registered via A) calls via B at once and the call completes", r)
        h.check(len(primary.requests("REGISTER")) == regs_before, "shared: neither phone registered via B")
    else:
        h.check(refused(b, "rr0", rr0), "own: B refuses rr0's call with 403 Not Registered via This Node")
        h.check(refused(b, "rr1", rr1), "own: B refuses rr1's call with 403 Not Registered via This Node")
        # rr1 (reRegisterOn=1) takes the 403 as its cue: it registers via B, then calls again.
        h.register_phone(b.port, "rr1", rr1)
        h.check(wait_until(lambda: [n["owned"] for n in a.status()["cluster"]["nodes"] if n["id"] == "b"] == [1], 2),
                "own: rr1 is B's now, in A's /status too")
        ok, r = h.calls(b.port, [("rr1", "bob")], rr1, bob, callee_target=a.port)
        h.check(ok, "own: rr1, registered via B now, calls via B and the call completes", r)
        h.check(refused(b, "rr0", rr0), "own: rr0 (reRegisterOn=0), which never registers via B, is still refused")
        ok, r = h.calls(a.port, [("rr0", "bob")], rr0, bob)
        h.check(ok, "own: rr0's call via A, the node it is registered through, completes", r)
h.finish()
