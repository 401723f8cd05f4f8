"""SIGHUP re-reads the config. A bad file keeps the running config and says why; a good one
adds an upstream node and changes failover and pacing settings without dropping a binding or
the call in progress, and the new node then carries the failover."""
import re
import signal
import time

from harness import Harness, wait_until

h = Harness(__doc__)
primary = h.kamailio("primary")
secondary = h.kamailio("secondary")
sb = h.switchback([("primary", primary.uri)],
                  extra_yaml="health: { probe_interval_ms: 200, probe_timeout_ms: 300 }\n")
with open(sb.config) as f:
    original = f.read()

alice = h.register_phone(sb.port, "alice")
bob = h.register_phone(sb.port, "bob")
phones = h.users([f"p{i}" for i in range(1, 21)], "phones")
r = h.sipp("register.xml", sb.port, calls=20, rate=100, inf=phones)
h.require(r.rc == 0, "20 more phones registered", r)

callee = h.sipp_background("uas_answer_bye.xml", sb.port, bob, timeout=30, name="bob")
time.sleep(0.3)
caller = h.sipp_background("uac_long_call.xml", sb.port, alice, service="bob", keys={"caller": "alice"}, timeout=30,
                           extra=("-d", "3000"), name="alice")
h.require(wait_until(lambda: len(primary.requests("INVITE")) == 1, 5), "alice's call to bob is up via the primary")


def reloads(result):
    return sb.metrics().get(f'switchback_reloads_total{{result="{result}"}}', 0)


# A bad file: an out-of-range value. The running configuration stays.
with open(sb.config, "w") as f:
    f.write(original + "failover: { reRegisterOn: 7 }\n")
sb.signal(signal.SIGHUP)
h.check(wait_until(lambda: reloads("rejected") == 1, 5), "the bad file is rejected and counted")
log = sb.process.output()
h.check(re.search(r"reload of .* failed, the running configuration stays: .*reRegisterOn", log) is not None,
        "the log says the reload failed, why (the key), and that the running config stays", log[-800:])
h.check(len(sb.status()["nodes"]) == 1 and sb.status()["bindings"]["registrants"] == 22,
        "still one node and all 22 registrants")

# A good file: a secondary node, re-registration on failover, a different pacing rate.
with open(sb.config, "w") as f:
    f.write(original.replace("upstreams:\n", f'upstreams:\n').replace(
        f'  - {{ name: primary, uri: "{primary.uri}" }}\n',
        f'  - {{ name: primary, uri: "{primary.uri}" }}\n  - {{ name: secondary, uri: "{secondary.uri}" }}\n') +
        "failover: { reRegisterOn: 1, failRegistrationOn: 1 }\npacing: { registrations_per_second: 40 }\n")
sb.signal(signal.SIGHUP)
h.check(wait_until(lambda: reloads("applied") == 1, 5), "the good file is applied and counted")
m = re.search(r"reload of .* applied in ([0-9.]+) ms", sb.process.output())
h.check(m is not None, "the log says the reload was applied, and how long it took")
st = sb.status()
h.check([n["name"] for n in st["nodes"]] == ["primary", "secondary"], "the secondary node is in service", st["nodes"])
h.check(st["bindings"]["registrants"] == 22, "no binding was dropped", st["bindings"])
h.check(sb.metrics().get("switchback_pacing_rate_limit") == 40, "the new pacing rate is in force")
h.require(wait_until(lambda: next(n for n in sb.status()["nodes"] if n["name"] == "secondary")["probe_latency_ms"]
                     is not None, 5), "the new node is probed")

caller.proc.wait(timeout=30)
callee.proc.wait(timeout=30)
h.check(caller.proc.returncode == 0 and callee.proc.returncode == 0,
        "the call in progress during both reloads ended normally with its BYE", caller.output()[-800:])
h.check(len(primary.requests("BYE")) == 1, "the BYE went its way via the primary")

# The reloaded settings are the ones in force: the primary fails, all 22 are re-registered on
# the secondary (reRegisterOn=1), at no more than the new 40/s.
start = time.monotonic()
primary.crash()
done = wait_until(lambda: sb.status()["bindings"]["registered_by_node"].get("secondary") == 22, 10, interval=0.05)
took = time.monotonic() - start
h.check(done, "after the primary fails, all 22 registrants are re-registered on the secondary", sb.status()["bindings"])
# The dead primary is removed from the file: the secondary becomes the first node (its state
# and every registrant's follow it by name), and calls go on via it.
with open(sb.config, "w") as f:
    f.write(original.replace(f'  - {{ name: primary, uri: "{primary.uri}" }}\n',
                             f'  - {{ name: secondary, uri: "{secondary.uri}" }}\n') +
            "failover: { reRegisterOn: 1, failRegistrationOn: 1 }\npacing: { registrations_per_second: 40 }\n")
sb.signal(signal.SIGHUP)
h.check(wait_until(lambda: reloads("applied") == 2, 5), "the file without the primary is applied")
st = sb.status()
h.check([n["name"] for n in st["nodes"]] == ["secondary"] and st["nodes"][0]["usable"],
        "only the secondary is left, still up", st["nodes"])
h.check(st["bindings"]["registered_by_node"].get("secondary") == 22 and st["bindings"]["signaling_by_node"].get(
    "secondary") == 22, "all 22 registrants are still registered and signal via the secondary", st["bindings"])
callee = h.sipp_background("uas_answer.xml", sb.port, bob, timeout=20, name="bob2")
time.sleep(0.3)
r = h.sipp("uac_call.xml", sb.port, alice, service="bob", timeout=20, name="alice2")
callee.proc.wait(timeout=25)
h.check(r.rc == 0 and callee.proc.returncode == 0 and len(secondary.requests("INVITE")) >= 1,
        "alice calls bob via the secondary after the reload", r)

# Security settings apply at a reload too: a phone network list that leaves out 127.0.0.1 refuses
# alice's next REGISTER; the bindings stay.
with open(sb.config, "w") as f:
    f.write(original.replace(f'  - {{ name: primary, uri: "{primary.uri}" }}\n',
                             f'  - {{ name: secondary, uri: "{secondary.uri}" }}\n') +
            "failover: { reRegisterOn: 1, failRegistrationOn: 1 }\npacing: { registrations_per_second: 40 }\n"
            "security: { phone_networks: [\"10.0.0.0/8\"] }\n")
sb.signal(signal.SIGHUP)
h.check(wait_until(lambda: reloads("applied") == 3, 5), "the file with a phone network list is applied")
r = h.sipp("register.xml", sb.port, inf=h.users(["alice"], "alice3"), timeout=10, name="alice3")
h.check(r.rc != 0 and "SIP/2.0 403" in r.error_log,
        "after it, alice (127.0.0.1, not in 10.0.0.0/8) is refused with 403", r)
h.check(sb.status()["bindings"]["registrants"] == 22, "and every binding is still there")

h.figure(f"reload applied in {m.group(1) if m else '?'} ms (SIGHUP to new config in force, with 22 registrants and "
         f"a call up); failover with the reloaded settings: 22 re-registered on the new node in {took:.2f} s")
h.finish()
