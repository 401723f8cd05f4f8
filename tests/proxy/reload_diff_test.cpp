#include "conf/config.h"
#include "proxy/reload_diff.h"

#include <catch2/catch.hpp>

using namespace switchback;

namespace {

const std::string kBase = "listen: [\"udp:127.0.0.1:5060\"]\n"
                          "upstreams: [{ name: primary, uri: \"sip:127.0.0.1:5070\" }]\n";

} // namespace

TEST_CASE("a reload applies the policy at once and names what waits for a restart", "[reload]") {
  const Config running = loadConfigString(kBase);
  SECTION("failover, health, pacing and log changes apply: nothing waits") {
    const Config fresh = loadConfigString(kBase + "failover: { reRegisterOn: 1 }\nlog: { level: debug }\n"
                                                  "pacing: { registrations_per_second: 50 }\n");
    CHECK(restartOnlyChanges(running, fresh).empty());
    const Config applied = appliedConfig(running, fresh);
    CHECK(applied.log.level == "debug");
    CHECK(applied.routing.pacing.registrationsPerSecond == 50);
  }
  SECTION("sockets, admin, store, limits and resolver wait for a restart, and keep their running values") {
    const Config fresh = loadConfigString(
        "listen: [\"udp:127.0.0.1:5062\"]\n"
        "upstreams: [{ name: primary, uri: \"sip:127.0.0.1:5070\" }]\n"
        "admin: { listen: \"127.0.0.1:9090\" }\n"
        "persistence: { path: /tmp/elsewhere.db }\n"
        "limits: { max_message_bytes: 8192 }\n"
        "dns: { resolv_conf: /tmp/resolv.conf }\n");
    CHECK(restartOnlyChanges(running, fresh) ==
          std::vector<std::string>{"listen", "admin", "persistence.path", "limits", "dns"});
    const Config applied = appliedConfig(running, fresh);
    CHECK(applied.transport.listen == running.transport.listen);
    CHECK(applied.admin.port == running.admin.port);
    CHECK(applied.persistence.path == running.persistence.path);
    CHECK(applied.transport.maxMessageBytes == running.transport.maxMessageBytes);
    CHECK(applied.dns.resolvConf == running.dns.resolvConf);
  }
  SECTION("the cluster's store and membership wait for a restart") {
    const Config fresh = loadConfigString(
        "listen: [\"udp:127.0.0.1:5060\"]\n"
        "upstreams: [{ name: primary, uri: \"sip:127.0.0.1:5070\" }]\n"
        "store: { kind: redis }\ncluster: { node_id: b }\n");
    CHECK(restartOnlyChanges(running, fresh) == std::vector<std::string>{"store", "cluster"});
    const Config applied = appliedConfig(running, fresh);
    CHECK(applied.store.kind == StoreConfig::Kind::Sqlite);
    CHECK_FALSE(applied.cluster.enabled);
  }
}
