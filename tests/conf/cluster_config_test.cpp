#include "conf/config.h"
#include "tests/conf/config_error.h"

#include <catch2/catch.hpp>

using namespace switchback;
using switchback::test::errorOf;
using switchback::test::kMinimalConfig;
using Catch::Matchers::Contains;

TEST_CASE("store and cluster fill their structs", "[config][cluster]") {
  const Config c = loadConfigString(kMinimalConfig + R"(store: { kind: redis, url: "redis://127.0.0.1:6390", timeout_ms: 500 }
cluster: { name: east, node_id: sb-a, shared_registrations: false, advertise: "sip:127.0.0.9:5060", heartbeat_ms: 200 }
)");
  CHECK(c.store.kind == StoreConfig::Kind::Redis);
  CHECK(c.store.url == "redis://127.0.0.1:6390");
  CHECK(c.store.timeout == Millis(500));
  CHECK(c.cluster.enabled);
  CHECK(c.cluster.name == "east");
  CHECK(c.cluster.nodeId == "sb-a");
  CHECK_FALSE(c.cluster.sharedRegistrations);
  CHECK(c.cluster.advertise == "sip:127.0.0.9:5060");
  CHECK(c.cluster.advertiseHost == "127.0.0.9");
  CHECK(c.cluster.advertisePort == 5060);
  CHECK(c.cluster.heartbeatInterval == Millis(200));
}

TEST_CASE("store kind sqlite is the persistence block by another name", "[config][cluster]") {
  const Config c = loadConfigString(kMinimalConfig + "store: { kind: sqlite, path: /tmp/b.db }\n");
  CHECK(c.store.kind == StoreConfig::Kind::Sqlite);
  CHECK(c.persistence.path == "/tmp/b.db");
  CHECK_FALSE(c.cluster.enabled);
}

TEST_CASE("store and cluster errors name the file, the line and what is allowed", "[config][cluster]") {
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: memcached }\n"),
             Contains("test.yaml:4") && Contains("store.kind") && Contains("allowed: sqlite, redis"));
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: redis, url: \"http://x\" }\n"),
             Contains("test.yaml:4") && Contains("store.url"));
  CHECK_THAT(errorOf(kMinimalConfig + "cluster: { node_id: a }\n"), Contains("test.yaml:4") && Contains("kind: redis"));
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: redis }\ncluster: { name: x }\n"),
             Contains("test.yaml:5") && Contains("cluster.node_id"));
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: redis }\ncluster: { node_id: \"a b\" }\n"),
             Contains("test.yaml:5") && Contains("cluster.node_id"));
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: redis }\ncluster: { node_id: a, advertise: \"127.0.0.1\" }\n"),
             Contains("test.yaml:5") && Contains("cluster.advertise"));
  // The port is read as the listen addresses' are: 99999 is refused, not cut to 16 bits.
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: redis }\ncluster: { node_id: a, advertise: \"sip:192.0.2.10:99999\" }\n"),
             Contains("test.yaml:5") && Contains("cluster.advertise") && Contains("allowed: 1-65535"));
  const Config v6 = loadConfigString(kMinimalConfig + "store: { kind: redis }\ncluster: { node_id: a, advertise: \"sip:[::1]\" }\n");
  CHECK(v6.cluster.advertiseHost == "::1");
  CHECK(v6.cluster.advertisePort == 5060);
  CHECK_THAT(errorOf(kMinimalConfig + "store: { kind: redis }\ncluster: { node_id: a, heartbeat_ms: 500, dead_after_ms: 600 }\n"),
             Contains("test.yaml:5") && Contains("cluster.dead_after_ms"));
  CHECK_THAT(errorOf(kMinimalConfig + "persistence: { path: /tmp/a.db }\nstore: { kind: sqlite, path: /tmp/b.db }\n"),
             Contains("test.yaml:5") && Contains("keep one"));
}
