#include "conf/config.h"
#include "tests/conf/config_error.h"

#include <catch2/catch.hpp>

using namespace switchback;
using switchback::test::errorOf;

namespace {

const std::string& kMinimal = switchback::test::kMinimalConfig;

} // namespace

TEST_CASE("nat: defaults keep pinholes open with OPTIONS every 25 s", "[config][nat]") {
  const Config c = loadConfigString(kMinimal);
  CHECK(c.nat.keepaliveInterval == Seconds(25));
  CHECK(c.nat.method == NatConfig::Method::Options);
  CHECK(c.nat.maxMissed == 3);
  CHECK_FALSE(c.nat.removeUnreachable);
  CHECK(c.nat.stun);
  CHECK(c.nat.flowTimer);
}

TEST_CASE("nat: every key is read", "[config][nat]") {
  const Config c = loadConfigString(kMinimal + "nat: { keepalive_interval_s: 0, keepalive_method: crlf, max_missed: 5, "
                                               "remove_unreachable: 1, stun: 0, flow_timer: false }\n");
  CHECK(c.nat.keepaliveInterval == Seconds(0));
  CHECK(c.nat.method == NatConfig::Method::Crlf);
  CHECK(c.nat.maxMissed == 5);
  CHECK(c.nat.removeUnreachable);
  CHECK_FALSE(c.nat.stun);
  CHECK_FALSE(c.nat.flowTimer);
}

TEST_CASE("nat: errors name file, line, key and what is allowed", "[config][nat]") {
  CHECK(errorOf(kMinimal + "nat: { keepalive_method: ping }\n") ==
        "test.yaml:4: nat.keepalive_method: 'ping' is not allowed; allowed: options, crlf");
  CHECK(errorOf(kMinimal + "nat: { keepalive_interval_s: 4000 }\n") ==
        "test.yaml:4: nat.keepalive_interval_s: '4000' is not allowed; allowed: 0-3600");
  CHECK(errorOf(kMinimal + "nat: { max_missed: 0 }\n") == "test.yaml:4: nat.max_missed: '0' is not allowed; allowed: 1-100");
  CHECK(errorOf(kMinimal + "nat: { remove_unreachable: maybe }\n") ==
        "test.yaml:4: nat.remove_unreachable: 'maybe' is not allowed; allowed: 0, 1");
  CHECK(errorOf(kMinimal + "nat: { interval: 5 }\n") ==
        "test.yaml:4: nat.interval: unknown key; allowed: flow_timer, keepalive_interval_s, keepalive_method, max_missed, "
        "remove_unreachable, stun");
}
