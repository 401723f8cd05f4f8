#include "health/node_health.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;

TEST_CASE("the default probe settings see a dead node within one second", "[health]") {
  const HealthConfig c;
  // Worst case: the node dies just after answering; each probe needs its interval to be sent
  // and its timeout to be declared lost.
  const auto worst = c.probeInterval * c.failuresToDown + c.probeTimeout;
  CHECK(worst <= 1000ms);
}

TEST_CASE("a node goes down only after failuresToDown misses in a row, with one edge", "[health]") {
  NodeHealth h(HealthConfig{});
  const TimePoint t0{};
  CHECK_FALSE(h.onFailure(t0, "probe timeout"));
  CHECK(h.state() == NodeState::Trying);
  CHECK(h.usable(t0));
  CHECK_FALSE(h.onSuccess(t0 + 200ms));  // an answer resets the count
  CHECK(h.state() == NodeState::Up);
  CHECK_FALSE(h.onFailure(t0 + 400ms, "probe timeout"));
  auto edge = h.onFailure(t0 + 600ms, "probe timeout");
  REQUIRE(edge);
  CHECK_FALSE(edge->nowUp);
  CHECK(edge->reason == "probe timeout");
  CHECK(h.state() == NodeState::Down);
  CHECK_FALSE(h.usable(t0 + 600ms));
  CHECK_FALSE(h.onFailure(t0 + 800ms, "probe timeout"));  // no second edge
}

TEST_CASE("hysteresis: a flapping node does not come back until successesToUp answers in a row", "[health]") {
  NodeHealth h(HealthConfig{});
  TimePoint t{};
  h.onFailure(t, "x");
  REQUIRE(h.onFailure(t, "x"));
  int edges = 0;
  for (int i = 0; i < 10; ++i) {  // answers and misses alternate
    t += 200ms;
    edges += h.onSuccess(t) ? 1 : 0;
    edges += h.onSuccess(t) ? 1 : 0;
    edges += h.onFailure(t, "x") ? 1 : 0;
  }
  CHECK(edges == 0);
  CHECK(h.state() == NodeState::Down);
  h.onSuccess(t);
  h.onSuccess(t);
  auto up = h.onSuccess(t);
  REQUIRE(up);
  CHECK(up->nowUp);
}

TEST_CASE("503 with Retry-After holds a node off for that long", "[health]") {
  NodeHealth h(HealthConfig{});
  const TimePoint t0{};
  auto edge = h.onRetryAfter(t0, 30s);
  REQUIRE(edge);
  CHECK_FALSE(edge->nowUp);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(h.onSuccess(t0 + 10s));
  CHECK_FALSE(h.usable(t0 + 10s));
  h.onSuccess(t0 + 31s);
  h.onSuccess(t0 + 31s);
  CHECK(h.onSuccess(t0 + 31s));
  CHECK(h.usable(t0 + 31s));
}

TEST_CASE("an operator's disable takes the node out; enable waits for probes", "[health]") {
  NodeHealth h(HealthConfig{});
  const TimePoint t0{};
  auto edge = h.disable(t0);
  REQUIRE(edge);
  CHECK(h.state() == NodeState::Disabled);
  CHECK_FALSE(h.onSuccess(t0));
  CHECK_FALSE(h.enable(t0));
  CHECK(h.state() == NodeState::Down);
  h.onSuccess(t0);
  h.onSuccess(t0);
  CHECK(h.onSuccess(t0));
}
