"""Which failover settings apply (the advisory: "If both outboundProxy and server.x failover
parameters are set, outboundProxy parameters supersede server.x parameters"). Each case freezes
the primary and looks at what a user sees: whether Switchback registers alice on the secondary
(reRegisterOn=1, by replaying her registration) or simply fails her over (reRegisterOn=0).
1. Upstreams with role outbound_proxy; the site's outboundProxy block says reRegisterOn 1, a
   registrant group's server settings say 0: the outboundProxy key wins, alice is replayed.
2. Servers; only the primary's own settings (upstreams[].failover, the advisory's server.x) say
   reRegisterOn 1: they apply to registrants working with the primary, alice is replayed.
3. Outbound proxies; the primary's own settings say reRegisterOn 0, the site's outboundProxy block
   says 1: the outboundProxy key wins over the per-server one, alice is replayed."""
import os
import signal

from harness import Harness, wait_until

h = Harness(__doc__)


def case(name, primary_extra, secondary_extra, yaml):
    primary = h.kamailio(f"primary-{name}")
    secondary = h.kamailio(f"secondary-{name}")
    sb = h.switchback([("primary", primary.uri, primary_extra), ("secondary", secondary.uri, secondary_extra)],
                      name=f"switchback-{name}", extra_yaml=yaml)
    h.require(wait_until(lambda: all(n["probe_latency_ms"] is not None for n in sb.status()["nodes"]), 5), f"[{name}] probed")
    h.register_phone(sb.port, "alice")
    before = len(secondary.requests("REGISTER"))
    os.killpg(primary.process.pid, signal.SIGSTOP)
    try:
        replayed = wait_until(lambda: (sb.binding("sip:alice@example.com")["nodes"].get("secondary", {}).get("registered")
                                       and sb.binding("sip:alice@example.com")["last_registered_by"] == "replay"), 4)
        h.check(replayed and len(secondary.requests("REGISTER")) > before,
                f"[{name}] reRegisterOn=1 applies: alice is registered on the secondary by Switchback's replay",
                sb.binding("sip:alice@example.com"))
    finally:
        os.killpg(primary.process.pid, signal.SIGCONT)


case("cross", "role: outbound_proxy", "role: outbound_proxy", """
failover: { outboundProxy: { reRegisterOn: 1, failRegistrationOn: 1 } }
registrant_groups: [{ name: everyone, match: "*", failover: { reRegisterOn: 0 } }]
""")
case("per-server", "failover: { reRegisterOn: 1, failRegistrationOn: 1 }", "", "")
case("proxy-over-server", "role: outbound_proxy, failover: { reRegisterOn: 0 }", "role: outbound_proxy",
     "failover: { outboundProxy: { reRegisterOn: 1, failRegistrationOn: 1 } }\n")
h.finish()
