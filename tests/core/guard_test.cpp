#include "core/guard.h"
#include "core/rate_limiter.h"
#include "core/stream_framer.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;
using test::ep;
using boost::asio::ip::make_address;

TEST_CASE("CIDR networks parse and match IPv4, IPv6 and v4-mapped addresses", "[guard]") {
  const auto net = Cidr::parse("10.1.0.0/16");
  REQUIRE(net);
  CHECK(net->contains(make_address("10.1.255.3")));
  CHECK_FALSE(net->contains(make_address("10.2.0.1")));
  CHECK(net->contains(make_address("::ffff:10.1.2.3")));
  CHECK_FALSE(net->contains(make_address("2001:db8::1")));
  CHECK(Cidr::parse("0.0.0.0/0")->contains(make_address("203.0.113.9")));
  CHECK(Cidr::parse("127.0.0.5")->contains(make_address("127.0.0.5")));
  CHECK_FALSE(Cidr::parse("127.0.0.5")->contains(make_address("127.0.0.6")));
  CHECK(Cidr::parse("2001:db8::/33")->contains(make_address("2001:db8:7fff::1")));
  CHECK_FALSE(Cidr::parse("2001:db8::/33")->contains(make_address("2001:db8:8000::1")));
  CHECK(Cidr::parse("10.0.0.0/7")->contains(make_address("11.255.0.1")));
  for (const char* bad : {"10.0.0.0/33", "example.com/8", "10.0.0.0/", "10.0.0.0/x", "::1/129", ""})
    CHECK_FALSE(Cidr::parse(bad));
}

TEST_CASE("a source over its rate is limited, one at more than twice its rate is banned until the ban expires", "[guard]") {
  RateLimitConfig c;
  c.requestsPerSecond = 10;
  c.banTime = 30s;
  RateLimiter limiter(c);
  const auto a = make_address("127.0.0.9");
  const auto other = make_address("127.0.0.10");
  TimePoint now{};
  for (int i = 0; i < 10; ++i) CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Pass);
  CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Limited);
  now += 100ms;  // one token back
  CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Pass);
  // Eleven over the limit within a second (the one above included): more than twice the rate.
  for (int i = 0; i < 9; ++i) CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Limited);
  CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Banned);
  CHECK(limiter.banned(a, now));
  CHECK(limiter.onMessage(other, now) == RateLimiter::Verdict::Pass);
  REQUIRE(limiter.bans(now).size() == 1);
  CHECK(limiter.bans(now)[0].source == "127.0.0.9");
  CHECK(limiter.bansIssued() == 1);
  now += 29s;
  CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Banned);
  now += 1s;
  CHECK(limiter.expireBans(now) == 1);
  CHECK(limiter.onMessage(a, now) == RateLimiter::Verdict::Pass);
}

TEST_CASE("rate limits of 0 are off and the REGISTER bucket is separate", "[guard]") {
  RateLimitConfig c;
  c.registersPerSecond = 2;
  RateLimiter limiter(c);
  const auto a = make_address("::1");
  TimePoint now{};
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.onMessage(a, now) == RateLimiter::Verdict::Pass);
  CHECK(limiter.onRegister(a, now) == RateLimiter::Verdict::Pass);
  CHECK(limiter.onRegister(a, now) == RateLimiter::Verdict::Pass);
  CHECK(limiter.onRegister(a, now) == RateLimiter::Verdict::Limited);
}

TEST_CASE("the rate limiter's memory is bounded under a spoofed-source flood", "[guard]") {
  RateLimitConfig c;
  c.requestsPerSecond = 5;
  c.maxTrackedSources = 100;
  RateLimiter limiter(c);
  TimePoint now{};
  for (unsigned i = 0; i < 1000; ++i) {
    boost::asio::ip::address_v4::bytes_type b{10, 0, static_cast<unsigned char>(i >> 8), static_cast<unsigned char>(i)};
    limiter.onMessage(boost::asio::ip::address_v4(b), now);
    now += 1ms;
  }
  CHECK(limiter.trackedSources() <= 100);
}

TEST_CASE("header count, header bytes and Via depth are limited; the stream framer closes on a huge head", "[guard]") {
  Stats stats;
  GuardConfig g;
  g.limits = MessageLimits{10, 600, 3};
  Guard guard(g, stats);
  const Flow phone{Transport::Udp, 0, ep("10.1.1.1", 5062), 0};
  std::string head = "OPTIONS sip:a@example.com SIP/2.0\r\n";
  for (int i = 0; i < 11; ++i) head += "X-H: " + std::to_string(i) + "\r\n";
  CHECK(headShape(head + "\r\nbody\nwith\nlines").lines == 11);  // header lines; the body does not count
  CHECK(headShape(head + "\r\nbody").bytes == head.size() - 2);        // up to the blank line's CRLF CRLF
  CHECK(headShape("A\nB\n\nbody\n\n").lines == 1);                   // a bare LF LF ends the head too
  CHECK(headShape("A\nB\n\nbody").bytes == 3);
  CHECK(headShape("A\r\nB\r\n").lines == 2);                          // no blank line: all of it
  CHECK(headShape("A\r\nB\r\n").bytes == 6);
  CHECK(guard.admitPacket(head + "\r\n", phone, false, {}) == Guard::Packet::Drop);
  CHECK(stats.dropped["too many headers"] == 1);
  CHECK(guard.admitPacket("OPTIONS sip:a SIP/2.0\r\nX: " + std::string(700, 'a') + "\r\n\r\n", phone, false, {}) ==
        Guard::Packet::Drop);
  CHECK(stats.dropped["headers too large"] == 1);
  CHECK(guard.admitPacket("OPTIONS sip:a SIP/2.0\r\nX: 1\r\n\r\n", phone, false, {}) == Guard::Packet::Pass);

  StreamFramer framer(65535, 600);
  framer.append("OPTIONS sip:a SIP/2.0\r\nX: " + std::string(700, 'a'));
  std::string out;
  CHECK(framer.next(out) == StreamFramer::Result::Error);
  CHECK(std::string(framer.error()) == "headers exceed the maximum header size");
  StreamFramer lines(65535, 65535, 10);
  lines.append(head + "Content-Length: 0\r\n\r\n");
  CHECK(lines.next(out) == StreamFramer::Result::Error);
  CHECK(std::string(lines.error()) == "more header lines than allowed");
}

TEST_CASE("requests: untrusted upstream claims, networks, the REGISTER rate and the transaction cap", "[guard]") {
  Stats stats;
  GuardConfig g;
  g.access.phoneNetworks = {*Cidr::parse("10.0.0.0/8")};
  g.rate.registersPerSecond = 1;
  g.rate.maxTransactions = 5;
  Guard guard(g, stats);
  const Flow phone{Transport::Udp, 0, ep("10.1.1.1", 5062), 0};
  const Flow stranger{Transport::Udp, 0, ep("192.0.2.7", 5062), 0};
  RequestFacts facts;
  CHECK_FALSE(guard.admitRequest(phone, facts, {}));
  auto r = guard.admitRequest(stranger, facts, {});
  REQUIRE(r);
  CHECK(r->rejection.status == 403);
  CHECK(r->rejection.reason == "Network Not Allowed");
  facts.fromUpstream = true;
  CHECK_FALSE(guard.admitRequest(stranger, facts, {}));  // upstream nodes are trusted by address
  facts = RequestFacts{};
  facts.claimsUpstream = true;
  r = guard.admitRequest(phone, facts, {});
  REQUIRE(r);
  CHECK(r->rejection.reason == "Not a Trusted Upstream");
  facts = RequestFacts{};
  facts.isRegister = true;
  CHECK_FALSE(guard.admitRequest(phone, facts, {}));
  r = guard.admitRequest(phone, facts, {});
  REQUIRE(r);
  CHECK(r->rejection.status == 503);
  CHECK(r->retryAfter == 5s);
  facts = RequestFacts{};
  facts.transactions = 5;
  r = guard.admitRequest(phone, facts, {});
  REQUIRE(r);
  CHECK(r->rejection.reason == "Too Many Transactions");
}
