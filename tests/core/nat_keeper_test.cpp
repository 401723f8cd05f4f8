#include "core/nat_keeper.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;

namespace {

struct Sent {
  Flow flow;
  std::string contact;
  bool options;
};

RegisterOutcome registration(const std::string& user, std::uint16_t port, std::uint32_t expires = 600,
                             Transport transport = Transport::Udp) {
  RegisterOutcome o;
  o.aor = "sip:" + user + "@example.com";
  o.node = "primary";
  o.flow = Flow{transport, 0, test::ep("10.0.0.1", port), transport == Transport::Udp ? 0u : 7u};
  o.contacts.push_back({"sip:" + user + "@192.168.1.2:5060", expires, "", std::nullopt});
  return o;
}

struct Fixture {
  explicit Fixture(NatConfig config = {}) : keeper(config, table, [this](const Flow& f, std::string_view c, bool o) {
    sent.push_back({f, std::string(c), o});
  }) {
    table.onRegisteredFlow([this](const std::string& aor, const Flow& f, TimePoint now) { keeper.watch(aor, f, now); });
  }
  BindingTable table;
  std::vector<Sent> sent;
  NatKeeper keeper;
};

} // namespace

TEST_CASE("each registered UDP flow gets one OPTIONS per interval, towards its contact", "[nat]") {
  Fixture f;
  const TimePoint t0{};
  f.table.apply(registration("u1", 40000), t0);
  f.table.apply(registration("u1", 40000), t0 + 1s);  // a refresh: still one flow
  CHECK(f.keeper.flows() == 1);
  for (auto t = t0; t <= t0 + 100s; t += 100ms) f.keeper.tick(t);
  REQUIRE(f.sent.size() == 4);  // 100 s at 25 s, from a phase within the first interval
  CHECK(f.sent[0].options);
  CHECK(f.sent[0].contact == "sip:u1@192.168.1.2:5060");
  CHECK(f.sent[0].flow.remote.port == 40000);
}

TEST_CASE("keep-alives are spread over the interval, not sent in a burst", "[nat]") {
  Fixture f;
  const TimePoint t0{};
  for (std::uint16_t i = 0; i < 1000; ++i) f.table.apply(registration("u" + std::to_string(i), 20000 + i), t0);
  std::array<int, 25> perSecond{};
  for (int s = 0; s < 25; ++s) {
    const auto before = f.sent.size();
    for (auto t = t0 + Seconds(s); t < t0 + Seconds(s + 1); t += 10ms) f.keeper.tick(t);
    perSecond[static_cast<std::size_t>(s)] = static_cast<int>(f.sent.size() - before);
  }
  CHECK(f.sent.size() == 1000);
  for (int n : perSecond) CHECK((n >= 20 && n <= 60));  // 40 a second on average
}

TEST_CASE("a flow with nothing heard for max_missed intervals is unreachable until heard again", "[nat]") {
  NatConfig c;
  c.keepaliveInterval = 10s;
  c.maxMissed = 2;
  Fixture f(c);
  const TimePoint t0{};
  f.table.apply(registration("u1", 40000), t0);
  const Flow flow = f.table.find("sip:u1@example.com")->contacts[0].flow;
  auto run = [&](TimePoint from, TimePoint to) {
    for (auto t = from; t < to; t += 100ms) f.keeper.tick(t);
  };
  run(t0, t0 + 10s);        // first ping
  f.keeper.heard(flow);     // answered
  run(t0 + 10s, t0 + 20s);  // second ping, not answered
  CHECK(f.keeper.missed() == 0);
  run(t0 + 20s, t0 + 30s);  // third: one miss
  CHECK(f.keeper.missed() == 1);
  CHECK_FALSE(f.keeper.unreachable(flow));
  run(t0 + 30s, t0 + 40s);  // fourth: two misses
  CHECK(f.keeper.unreachable(flow));
  CHECK(f.keeper.unreachableNow() == 1);
  const auto lost = f.keeper.takeNewlyUnreachable();
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].aor == "sip:u1@example.com");
  CHECK(f.keeper.takeNewlyUnreachable().empty());
  run(t0 + 40s, t0 + 60s);  // still pinged, still counted once
  CHECK(f.keeper.unreachableTotal() == 1);
  f.keeper.heard(flow);
  CHECK_FALSE(f.keeper.unreachable(flow));
  CHECK(f.keeper.unreachableNow() == 0);
  CHECK(f.keeper.recovered() == 1);
}

TEST_CASE("a flow whose contacts are gone is dropped at its next turn", "[nat]") {
  Fixture f;
  const TimePoint t0{};
  f.table.apply(registration("u1", 40000), t0);
  f.table.apply(registration("u1", 40000, 0), t0 + 1s);  // Expires: 0
  for (auto t = t0; t <= t0 + 30s; t += 100ms) f.keeper.tick(t);
  CHECK(f.sent.empty());
  CHECK(f.keeper.flows() == 0);
}

TEST_CASE("crlf, streams, and keep-alives turned off", "[nat]") {
  NatConfig c;
  c.method = NatConfig::Method::Crlf;
  Fixture crlf(c);
  crlf.table.apply(registration("u1", 40000), TimePoint{});
  Fixture stream;
  stream.table.apply(registration("u2", 40001, 600, Transport::Tcp), TimePoint{});
  for (auto t = TimePoint{}; t <= TimePoint{} + 25s; t += 100ms) {
    crlf.keeper.tick(t);
    stream.keeper.tick(t);
  }
  REQUIRE(crlf.sent.size() == 1);
  CHECK_FALSE(crlf.sent[0].options);
  REQUIRE(stream.sent.size() == 1);
  CHECK_FALSE(stream.sent[0].options);  // a stream gets RFC 5626's CRLF ping whatever the method

  NatConfig off;
  off.keepaliveInterval = 0s;
  Fixture none(off);
  none.table.apply(registration("u1", 40000), TimePoint{});
  for (auto t = TimePoint{}; t <= TimePoint{} + 60s; t += 1s) none.keeper.tick(t);
  CHECK(none.sent.empty());
  CHECK(none.keeper.flows() == 0);
}
