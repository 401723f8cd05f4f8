#include "core/slow_turns.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;

TEST_CASE("slow turns are counted by handler, quick ones are not", "[slow_turns]") {
  SlowTurns turns(Millis(20));
  turns.record("message", 5ms);
  CHECK(turns.handlers().empty());
  turns.record("message", 30ms);
  turns.record("message", 25ms);
  turns.record("slices", 21ms, 3'000'000);
  REQUIRE(turns.handlers().size() == 2);
  const auto& m = turns.handlers().at("message");
  CHECK(m.slow == 2);
  CHECK(m.longestMs == Approx(30));
  CHECK(turns.handlers().at("slices").longestCpuMs == Approx(3));
  {
    SlowTurns::Scope quick(turns, "tick");
  }
  CHECK(turns.handlers().count("tick") == 0);
}
