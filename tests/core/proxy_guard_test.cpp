// The proxy with its guard: no open relay, trusted upstreams, networks, rates, scanners.
#include "core/flow_token.h"
#include "core/guard.h"
#include "core/proxy_engine.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;
using test::ep;

namespace {

const Flow kPhone{Transport::Udp, 0, ep("10.1.1.1", 40000), 0};
const Flow kUpstream{Transport::Udp, 0, ep("127.0.0.1", 5070), 0};

struct Guarded {
  explicit Guarded(GuardConfig g = {}) : guard(g, stats) { engine.setGuard(&guard); }
  test::FakeWire wire;
  test::FakePolicy policy;
  BindingTable bindings;
  Stats stats;
  Guard guard;
  TimePoint now{};
  ProxyEngine engine{ProxyConfig{}, wire, policy, bindings, stats, [this] { return now; }};

  // What came back to the sender, or what went upstream: the first line of each.
  std::vector<std::string> receive(const std::string& bytes, const Flow& from) {
    engine.onMessage(bytes, from);
    std::vector<std::string> lines;
    for (const auto& s : wire.take()) lines.push_back(s.bytes.substr(0, s.bytes.find("\r\n")));
    return lines;
  }
};

int seq = 0;

std::string request(const std::string& method, const std::string& ruri, const std::string& extra = "",
                    const std::string& via = "SIP/2.0/UDP 192.168.0.10:5062") {
  const std::string n = std::to_string(++seq);
  return method + " " + ruri + " SIP/2.0\r\nVia: " + via + ";branch=z9hG4bKg" + n +
         ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:" +
         (method == "REGISTER" ? "alice" : "bob") + "@example.com>\r\nCall-ID: g" + n + "\r\nCSeq: 1 " + method +
         "\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

} // namespace

TEST_CASE("no open relay: a Route to a host that is not an upstream is refused, one to the upstream is not", "[guard]") {
  Guarded h;
  auto out = h.receive(request("INVITE", "sip:bob@example.com", "Route: <sip:203.0.113.9;lr>\r\n"), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 403 Relaying Denied");
  CHECK(h.stats.rejected["Relaying Denied"] == 1);
  out = h.receive(request("MESSAGE", "sip:bob@example.com", "Route: <sip:127.0.0.1:5070;lr>\r\n"), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "MESSAGE sip:bob@example.com SIP/2.0");
}

TEST_CASE("no open relay: with access.domains, a Request-URI of another domain is refused", "[guard]") {
  GuardConfig g;
  g.access.domains = {"example.com"};
  Guarded h(g);
  auto out = h.receive(request("MESSAGE", "sip:victim@evil.example.net"), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 403 Relaying Denied");
  out = h.receive(request("MESSAGE", "sip:bob@EXAMPLE.com"), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "MESSAGE sip:bob@EXAMPLE.com SIP/2.0");
  out = h.receive(request("MESSAGE", "sip:bob@127.0.0.1:5070"), kPhone);  // the upstream itself
  REQUIRE(out.size() == 1);
  CHECK(out[0].rfind("MESSAGE", 0) == 0);
}

TEST_CASE("no open relay: the upstream reaches only phones registered through Switchback", "[guard]") {
  Guarded h;
  auto out = h.receive(request("INVITE", "sip:x@203.0.113.9:5060", "", "SIP/2.0/UDP 127.0.0.1:5070"), kUpstream);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 403 Relaying Denied");
  // With our token it goes to the phone's flow.
  const std::string route = "Route: <sip:" + encodeFlowToken(kPhone) + "@127.0.0.1:5060;lr>\r\n";
  out = h.receive(request("INVITE", "sip:alice@192.168.0.10:5062", route, "SIP/2.0/UDP 127.0.0.1:5070"), kUpstream);
  REQUIRE(out.size() == 2);  // 100 Trying upstream, the INVITE to the phone
  CHECK(out[1] == "INVITE sip:alice@192.168.0.10:5062 SIP/2.0");
}

TEST_CASE("a request whose Via claims to be the upstream but comes from elsewhere is refused", "[guard]") {
  Guarded h;
  const Flow spoofer{Transport::Udp, 0, ep("10.6.6.6", 5070), 0};
  auto out = h.receive(request("INVITE", "sip:alice@example.com", "", "SIP/2.0/UDP 127.0.0.1:5070"), spoofer);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 403 Not a Trusted Upstream");
  CHECK(h.stats.rejected["Not a Trusted Upstream"] == 1);
}

TEST_CASE("a request from a network not allowed is refused; the upstream is always allowed", "[guard]") {
  GuardConfig g;
  g.access.phoneNetworks = {*Cidr::parse("192.168.0.0/16")};
  Guarded h(g);
  auto out = h.receive(request("REGISTER", "sip:example.com"), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 403 Network Not Allowed");
  CHECK(h.stats.rejected["Network Not Allowed"] == 1);
  out = h.receive(request("OPTIONS", "sip:127.0.0.1:5060", "", "SIP/2.0/UDP 127.0.0.1:5070"), kUpstream);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 200 OK");
}

TEST_CASE("over its rate a phone gets 503 with Retry-After, then a flood is banned and dropped unanswered", "[guard]") {
  GuardConfig g;
  g.rate.requestsPerSecond = 5;
  g.rate.banTime = 10s;
  Guarded h(g);
  for (int i = 0; i < 5; ++i) CHECK(h.receive(request("OPTIONS", "sip:127.0.0.1:5060"), kPhone).size() == 1);
  h.engine.onMessage(request("OPTIONS", "sip:127.0.0.1:5060"), kPhone);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].bytes.rfind("SIP/2.0 503 Rate Limited\r\n", 0) == 0);
  CHECK(sent[0].bytes.find("Retry-After: 5\r\n") != std::string::npos);
  for (int i = 0; i < 4; ++i) h.receive("garbage", kPhone);  // floods count whatever they are
  CHECK(h.receive(request("OPTIONS", "sip:127.0.0.1:5060"), kPhone).empty());
  CHECK(h.guard.limiter().banned(kPhone.remote.address, h.now));
  CHECK(h.stats.dropped["banned"] >= 1);
  // Upstream traffic is never limited.
  for (int i = 0; i < 20; ++i)
    CHECK(h.receive(request("OPTIONS", "sip:127.0.0.1:5060", "", "SIP/2.0/UDP 127.0.0.1:5070"), kUpstream).size() == 1);
  h.now += 10s;
  h.guard.expire(h.now);
  CHECK(h.receive(request("OPTIONS", "sip:127.0.0.1:5060"), kPhone).size() == 1);
}

TEST_CASE("scanner User-Agents and deep Via stacks are dropped unanswered and counted", "[guard]") {
  Guarded h;
  CHECK(h.receive(request("OPTIONS", "sip:100@127.0.0.1", "User-Agent: friendly-scanner\r\n"), kPhone).empty());
  CHECK(h.receive(request("REGISTER", "sip:example.com", "User-Agent: SIPVicious 0.3\r\n"), kPhone).empty());
  CHECK(h.stats.dropped["scanner User-Agent"] == 2);
  std::string vias;
  for (int i = 0; i < 80; ++i) vias += "Via: SIP/2.0/UDP 10.0.0." + std::to_string(i) + ";branch=z9hG4bKv" + std::to_string(i) + "\r\n";
  // A request over the limit is answered (RFC 4475 §3.1.1.7: never a silent drop on a stream).
  const auto out = h.receive(request("OPTIONS", "sip:127.0.0.1:5060", vias), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 400 Too Many Via Headers");
  CHECK(h.stats.rejected["Too Many Via Headers"] == 1);
}

TEST_CASE("the transaction cap answers 503 with Retry-After", "[guard]") {
  GuardConfig g;
  g.rate.maxTransactions = 2;
  Guarded h(g);
  CHECK(h.receive(request("MESSAGE", "sip:bob@example.com"), kPhone).size() == 1);
  CHECK(h.receive(request("MESSAGE", "sip:bob@example.com"), kPhone).size() == 1);
  auto out = h.receive(request("MESSAGE", "sip:bob@example.com"), kPhone);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "SIP/2.0 503 Too Many Transactions");
}
