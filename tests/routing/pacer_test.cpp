#include "routing/pacer.h"

#include <catch2/catch.hpp>
#include <set>

using namespace switchback;
using namespace std::chrono_literals;

TEST_CASE("the pacer releases N items in about N/rate seconds, never two in one slot", "[pacer]") {
  Pacer p(100, 42);  // 10 ms slots
  const TimePoint t0{};
  for (int i = 0; i < 500; ++i) p.push("aor" + std::to_string(i), t0);
  std::vector<TimePoint> times;
  std::set<std::string> seen;
  for (TimePoint t = t0; t < t0 + 10s && seen.size() < 500; t += 1ms)
    for (auto& item : p.release(t)) {
      times.push_back(t);
      seen.insert(item);
    }
  REQUIRE(seen.size() == 500);
  const auto total = times.back() - times.front();
  CHECK(total >= 4900ms);
  CHECK(total <= 5100ms);
  // No burst: in every window of one second, at most rate + 1 releases.
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t n = 0;
    for (std::size_t j = i; j < times.size() && times[j] < times[i] + 1s; ++j) ++n;
    CHECK(n <= 101);
  }
}

TEST_CASE("polled every 10 ms, the pacer keeps a rate above 100/s (slots due between polls are released)",
          "[pacer]") {
  Pacer p(1000, 3);  // 1 ms slots, ten per poll
  const TimePoint t0{};
  for (int i = 0; i < 3000; ++i) p.push("aor" + std::to_string(i), t0);
  std::vector<TimePoint> times;
  for (TimePoint t = t0; t < t0 + 10s && times.size() < 3000; t += 10ms)
    for (std::size_t n = p.release(t).size(); n > 0; --n) times.push_back(t);
  REQUIRE(times.size() == 3000);
  CHECK(times.back() - times.front() >= 2900ms);
  CHECK(times.back() - times.front() <= 3100ms);
  for (std::size_t i = 0; i < times.size(); ++i) {
    std::size_t n = 0;
    for (std::size_t j = i; j < times.size() && times[j] < times[i] + 1s; ++j) ++n;
    CHECK(n <= 1010);
  }
}

TEST_CASE("after a stall the pacer releases at most 50 ms of slots at once", "[pacer]") {
  Pacer p(1000, 5);
  const TimePoint t0{};
  for (int i = 0; i < 500; ++i) p.push("aor" + std::to_string(i), t0);
  (void)p.release(t0);
  CHECK(p.release(t0 + 2s).size() <= 52);
}

TEST_CASE("releases are jittered inside their slots and in random order", "[pacer]") {
  Pacer p(10, 7);  // 100 ms slots
  const TimePoint t0{};
  for (int i = 0; i < 50; ++i) p.push(std::to_string(i), t0);
  std::vector<Millis> offsets;
  std::vector<std::string> order;
  for (TimePoint t = t0; t < t0 + 6s; t += 1ms)
    for (auto& item : p.release(t)) {
      offsets.push_back(std::chrono::duration_cast<Millis>(t - t0) % 100);
      order.push_back(item);
    }
  REQUIRE(order.size() == 50);
  std::set<Millis::rep> distinct;
  for (auto o : offsets) distinct.insert(o.count());
  CHECK(distinct.size() > 10);  // not all at a slot boundary
  std::vector<std::string> fifo;
  for (int i = 0; i < 50; ++i) fifo.push_back(std::to_string(i));
  CHECK(order != fifo);
}

TEST_CASE("RFC 5626 backoff: 50-100 % of min(max, base * 2^failures)", "[pacer]") {
  std::mt19937_64 rng(1);
  for (int f = 0; f < 12; ++f) {
    const double w = std::min(1800.0, 30.0 * (1 << f));
    for (int i = 0; i < 50; ++i) {
      const auto b = registrationBackoff(f, 30s, 1800s, rng);
      CHECK(b.count() >= static_cast<long>(w * 500) - 1);
      CHECK(b.count() <= static_cast<long>(w * 1000));
    }
  }
}
