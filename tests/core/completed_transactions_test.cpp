#include "core/completed_transactions.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

using namespace switchback;
using namespace std::chrono_literals;

TEST_CASE("completed transactions are found by either key until they expire, oldest first", "[transaction]") {
  CompletedTransactions kept;
  const Flow phone{Transport::Udp, 0, test::ep("10.0.0.1", 5060), 0};
  const TimePoint t0{};
  kept.add("z9hG4bK1|10.0.0.1:5060|REGISTER", "z9hG4bKsb1|REGISTER", phone, "SIP/2.0 200 OK\r\n\r\n", t0 + 32s);
  kept.add("z9hG4bK2|10.0.0.1:5060|REGISTER", "z9hG4bKsb2|REGISTER", phone, "SIP/2.0 401 Unauthorized\r\n\r\n",
           t0 + 33s);
  CHECK(kept.size() == 2);
  auto a = kept.findServer("z9hG4bK2|10.0.0.1:5060|REGISTER", t0);
  REQUIRE(a);
  CHECK(a->response == "SIP/2.0 401 Unauthorized\r\n\r\n");
  CHECK(a->to == phone);
  CHECK(kept.hasClient("z9hG4bKsb1|REGISTER", t0));
  CHECK_FALSE(kept.hasClient("z9hG4bKsb3|REGISTER", t0));
  CHECK_FALSE(kept.findServer("z9hG4bK1|10.0.0.1:5060|OPTIONS", t0));

  kept.expire(t0 + 32s);
  CHECK(kept.size() == 1);
  CHECK_FALSE(kept.findServer("z9hG4bK1|10.0.0.1:5060|REGISTER", t0 + 32s));
  CHECK_FALSE(kept.findServer("z9hG4bK2|10.0.0.1:5060|REGISTER", t0 + 33s));   // expired, not yet forgotten
  kept.expire(t0 + 33s);
  CHECK(kept.size() == 0);
}

TEST_CASE("a storm of completed transactions is given back block by block", "[transaction]") {
  CompletedTransactions kept;
  const Flow phone{Transport::Udp, 0, test::ep("10.0.0.1", 5060), 0};
  const std::string response(600, 'r');
  std::map<std::string, int> live;   // server key -> when it expires (s)
  std::mt19937 rng(7);
  for (int second = 0; second < 40; ++second) {
    for (int i = 0; i < 2000; ++i) {
      const std::string key = "b" + std::to_string(second) + "." + std::to_string(i) + "|h:1|REGISTER";
      kept.add(key, "c" + key, phone, response, TimePoint{} + std::chrono::seconds(second + 32));
      live[key] = second + 32;
    }
    const TimePoint now = TimePoint{} + std::chrono::seconds(second);
    kept.expire(now);
    std::erase_if(live, [&](const auto& kv) { return kv.second <= second; });
    REQUIRE(kept.size() == live.size());
    for (int probe = 0; probe < 50; ++probe) {   // a sample of what is kept, and of what is not
      auto it = std::next(live.begin(), static_cast<long>(rng() % live.size()));
      const auto hit = kept.findServer(it->first, now);
      REQUIRE(hit);
      CHECK(hit->response == response);
      CHECK(kept.hasClient("c" + it->first, now));
    }
  }
  CHECK(kept.blockBytes() >= 64'000 * 600);
  CHECK_FALSE(kept.findServer("b0.0|h:1|REGISTER", TimePoint{} + 39s));
  kept.expire(TimePoint{} + 100s);
  CHECK(kept.size() == 0);
  CHECK(kept.blockBytes() <= CompletedTransactions::kBlockBytes);   // one block stays, for reuse
}
