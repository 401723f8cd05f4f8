#include "routing/failover_router.h"

#include "fakes/dialog_legs.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;
using Kind = DialogEvent::Kind;

namespace {

UpstreamList upstreams() {
  UpstreamConfig p{"primary", "sip:127.0.0.1:5070", Transport::Udp, "127.0.0.1", 5070, false, true, false};
  UpstreamConfig s{"secondary", "sip:127.0.0.1:5080", Transport::Udp, "127.0.0.1", 5080, false, true, false};
  return {p, s};
}

// Two nodes; carol and bob registered on both (reRegisterOn=0: the nodes share registrations);
// failBack.mode duration, 60 s, not health-gated. The clock is the test's: every call takes `now`.
struct Fixture {
  TimePoint t0{};
  UpstreamList ups = upstreams();
  NodeTable nodes{ups, {}, t0};
  HealthMonitor health{HealthConfig{}, nodes, t0};
  BindingTable bindings;
  RoutingConfig config = [] {
    RoutingConfig c;
    c.failover.site.server.failBackMode = FailBackMode::Duration;
    c.failover.site.server.failBackTimeout = 60;
    c.healthGatedFailback = false;  // no probes here: the primary is tried when the time comes
    return c;
  }();
  FailoverRouter router{config, nodes, health, bindings};

  Fixture() {
    for (const char* user : {"carol", "bob"})
      for (const char* node : {"secondary", "primary"}) {  // the primary last: it is the current node
        RegisterOutcome o;
        o.aor = std::string("sip:") + user + "@example.com";
        o.node = node;
        o.flow = Flow{Transport::Udp, 0, test::ep("127.0.0.1", user[0] == 'c' ? 7001 : 7002), 0};
        o.contacts.push_back({"sip:" + std::string(user) + "@127.0.0.1", 3600, "", std::nullopt});
        o.callId = "r-" + std::string(user);
        o.cseq = 1;
        bindings.apply(o, t0);
        router.onRegistered(o.aor, node, t0);
      }
  }
  void failOver(TimePoint at) {
    health.disable(0, at);
    router.onNodeEdge(nodes.nodes()[0], HealthEdge{false, "disabled"}, at);
  }
  std::optional<std::size_t> node(const char* aor) { return router.currentNode(aor); }
  // A second of the router's: its failback checks worked through, as the app's slices do.
  void second(TimePoint at) {
    router.everySecond(at);
    while (router.continueFailbackChecks(at)) {}
  }
  // `count` more registrants, sip:PREFIXi@example.com, registered on both nodes, the primary last.
  void registerMany(const std::string& prefix, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
      for (const char* name : {"secondary", "primary"}) {
        RegisterOutcome o;
        o.aor = "sip:" + prefix + std::to_string(i) + "@example.com";
        o.node = name;
        o.flow = Flow{Transport::Udp, 0, test::ep("127.0.0.1", 8000), 0};
        o.contacts.push_back({"sip:" + prefix + "@127.0.0.1", 3600, "", std::nullopt});
        bindings.apply(o, t0);
        router.onRegistered(o.aor, name, t0);
      }
  }
};

} // namespace

TEST_CASE("duration failback waits for both ends of a call, and both go back within a second of its BYE",
          "[failover_router]") {
  Fixture f;
  f.failOver(f.t0 + 1s);
  REQUIRE(f.node("sip:carol@example.com") == 1u);
  REQUIRE(f.node("sip:bob@example.com") == 1u);
  for (bool caller : {true, false}) f.router.onDialog(test::leg(Kind::Offered, caller), f.t0 + 10s);
  for (bool caller : {false, true}) f.router.onDialog(test::leg(Kind::Answered, caller, "b1"), f.t0 + 11s);
  for (int s = 60; s <= 90; ++s) f.second(f.t0 + 1s + std::chrono::seconds(s));
  CHECK(f.node("sip:carol@example.com") == 1u);  // the caller is busy too
  CHECK(f.node("sip:bob@example.com") == 1u);
  DialogEvent bye = test::leg(Kind::Bye, true, "b1");
  bye.aor = {};
  f.router.onDialog(bye, f.t0 + 95s);
  f.second(f.t0 + 96s);
  CHECK(f.node("sip:carol@example.com") == 0u);
  CHECK(f.node("sip:bob@example.com") == 0u);
}

TEST_CASE("an idle registrant fails back at failBack.timeout, not before", "[failover_router]") {
  Fixture f;
  f.failOver(f.t0 + 1s);
  f.second(f.t0 + 60s);
  CHECK(f.node("sip:carol@example.com") == 1u);
  f.second(f.t0 + 61s);
  CHECK(f.node("sip:carol@example.com") == 0u);
}

TEST_CASE("a call nobody ends stops counting after the dialog lifetime", "[failover_router]") {
  Fixture f;
  f.config.sbc.dialogLifetime = 600s;
  f.router.reconfigure(f.config);
  f.failOver(f.t0 + 1s);
  f.router.onDialog(test::leg(Kind::Offered, true), f.t0 + 2s);
  f.router.onDialog(test::leg(Kind::Answered, true, "b1"), f.t0 + 3s);
  f.second(f.t0 + 500s);
  CHECK(f.node("sip:carol@example.com") == 1u);
  f.second(f.t0 + 604s);
  CHECK(f.router.dialogs().expired() == 1);
  f.second(f.t0 + 605s);
  CHECK(f.node("sip:carol@example.com") == 0u);
}

TEST_CASE("routing is a chain of one-decision steps, in the advisory's order", "[failover_router]") {
  Fixture f;
  CHECK(f.router.requestSteps() == std::vector<std::string>{"relay check", "draining", "registration", "dialog node",
                                                             "not ours", "require registration", "failover choice",
                                                             "register first"});
  SECTION("relay check: a request towards a host that is no node, nor ours, is refused 403") {
    RouteRequest req{"sip:carol@example.com", "MESSAGE", RequestKind::Other, {}, "c", "t", {}, false};
    req.foreignTarget = true;
    auto d = f.router.routeFromPhone(req, f.t0);
    CHECK_FALSE(d.hop);
    CHECK(d.rejection.status == 403);
    req.foreignTarget = false;
    req.foreignRoute = true;
    d = f.router.routeFromPhone(req, f.t0);
    CHECK(d.rejection.status == 403);
  }
  SECTION("draining: new dialogs get 503 with Retry-After; registrations and calls in progress go on") {
    f.router.startDraining();
    const RouteRequest invite{"sip:carol@example.com", "INVITE", RequestKind::NewDialog, {}, "c", "t", {}, false};
    auto d = f.router.routeFromPhone(invite, f.t0);
    CHECK_FALSE(d.hop);
    CHECK(d.rejection.status == 503);
    CHECK(d.retryAfter == Seconds(5));
    const RouteRequest reg{"sip:carol@example.com", "REGISTER", RequestKind::Register, {}, "c", "t", {}, false};
    CHECK(f.router.routeFromPhone(reg, f.t0).hop);
    const RouteRequest bye{"sip:carol@example.com", "BYE", RequestKind::InDialog, "primary", "c", "t", "u", false};
    CHECK(f.router.routeFromPhone(bye, f.t0).hop);
    const RouteRequest fromNode{"sip:carol@example.com", "INVITE", RequestKind::Other, {}, "c2", "t", {}, false};
    CHECK(f.router.acceptFromUpstream("sip:carol@example.com", "primary", fromNode, f.t0));
  }
  SECTION("require registration: a new dialog from a phone not registered through Switchback") {
    const RouteRequest req{"sip:dave@example.com", "INVITE", RequestKind::NewDialog, {}, "c", "t", {}, false};
    const auto d = f.router.routeFromPhone(req, f.t0);
    CHECK_FALSE(d.hop);
    CHECK(d.rejection.status == 403);
  }
  SECTION("not ours: that phone's MESSAGE goes to the preferred node") {
    const RouteRequest req{"sip:dave@example.com", "MESSAGE", RequestKind::Other, {}, "c", "t", {}, false};
    const auto d = f.router.routeFromPhone(req, f.t0);
    REQUIRE(d.hop);
    CHECK(d.hop->node == "primary");
  }
  SECTION("failover choice: a registrant's new dialog goes to its current node") {
    const RouteRequest req{"sip:carol@example.com", "INVITE", RequestKind::NewDialog, {}, "c", "t", {}, false};
    const auto d = f.router.routeFromPhone(req, f.t0);
    REQUIRE(d.hop);
    CHECK(d.hop->node == "primary");
  }
}

TEST_CASE("a failover of more registrants than a slice is worked through a slice at a time", "[failover_router]") {
  Fixture f;
  const std::size_t many = 5 * FailoverRouter::kEdgeSlice;
  f.registerMany("p", many);
  const std::size_t total = many + 2;  // and carol and bob
  CHECK(f.router.signalingOn(0) == total);
  f.failOver(f.t0 + 1s);
  const std::size_t afterFirst = f.router.signalingOn(1);
  CHECK(afterFirst > 0);
  CHECK(afterFirst < total);  // the rest waits for the next turns
  int turns = 0;
  while (f.router.continueEdges(f.t0 + 1s)) REQUIRE(++turns < 100);
  CHECK(turns >= 2);
  CHECK(f.router.signalingOn(1) == total);
  CHECK(f.router.signalingOn(0) == 0);
  CHECK(f.router.failovers() == total);
  // Duration failback at 60 s: every registrant away from the primary goes back.
  f.second(f.t0 + 62s);
  CHECK(f.router.signalingOn(0) == total);
  CHECK(f.node("sip:p7@example.com") == 0u);
}

TEST_CASE("a registrant whose bindings expired is forgotten unless a call holds it", "[failover_router]") {
  Fixture f;
  for (bool caller : {true, false}) f.router.onDialog(test::leg(Kind::Offered, caller), f.t0 + 10s);  // carol calls bob
  for (bool caller : {false, true}) f.router.onDialog(test::leg(Kind::Answered, caller, "b1"), f.t0 + 11s);
  f.bindings.purgeExpired(f.t0 + 3600s);
  REQUIRE(f.bindings.size() == 0);
  f.second(f.t0 + 3601s);
  CHECK(f.node("sip:carol@example.com") == 0u);  // in a call: kept
  CHECK(f.router.signalingOn(0) >= 1);
  DialogEvent bye = test::leg(Kind::Bye, true, "b1");
  bye.aor = {};
  f.router.onDialog(bye, f.t0 + 3602s);
  f.second(f.t0 + 3603s);
  CHECK_FALSE(f.node("sip:carol@example.com"));
  CHECK_FALSE(f.node("sip:bob@example.com"));
  CHECK(f.router.signalingOn(0) == 0);
}

TEST_CASE("failback checks are bounded per second and carry on where the last second stopped", "[failover_router]") {
  Fixture f;
  const std::size_t many = FailoverRouter::kFailbackChecksPerSecond + 2000;
  f.registerMany("q", many);
  const std::size_t total = many + 2;
  f.failOver(f.t0 + 1s);
  while (f.router.continueEdges(f.t0 + 1s)) {}
  REQUIRE(f.router.signalingOn(1) == total);
  f.second(f.t0 + 62s);
  const std::size_t back = f.router.signalingOn(0);
  CHECK(back >= FailoverRouter::kFailbackChecksPerSecond);
  CHECK(back < total);
  f.second(f.t0 + 63s);
  CHECK(f.router.signalingOn(0) == total);
}

TEST_CASE("a second's failback checks are worked through a slice at a time", "[failover_router]") {
  Fixture f;
  f.registerMany("s", 10 * FailoverRouter::kCheckSlice);
  const std::size_t total = 10 * FailoverRouter::kCheckSlice + 2;
  f.failOver(f.t0 + 1s);
  while (f.router.continueEdges(f.t0 + 1s)) {}
  REQUIRE(f.router.signalingOn(1) == total);
  f.router.everySecond(f.t0 + 62s);
  CHECK(f.router.signalingOn(0) == 0);  // nothing yet: the checks wait for the slices
  int slices = 0;
  while (f.router.continueFailbackChecks(f.t0 + 62s)) {
    CHECK(f.router.signalingOn(0) < total);
    REQUIRE(++slices < 100);
  }
  CHECK(slices >= 2);
  CHECK(f.router.signalingOn(0) == total);
}

TEST_CASE("failback checks are keyed by when they fall due: a quiet second costs none", "[failover_router]") {
  Fixture f;   // failBack.mode duration, 60 s
  f.registerMany("w", 3000);
  const std::size_t total = 3000 + 2;
  f.failOver(f.t0 + 1s);
  while (f.router.continueEdges(f.t0 + 1s)) {}
  REQUIRE(f.router.signalingOn(1) == total);
  f.second(f.t0 + 2s);   // each looked at once, to find when its failback is due
  const auto first = f.router.failbackChecks();
  CHECK(first == total);
  for (int s = 3; s <= 60; ++s) f.second(f.t0 + std::chrono::seconds(s));
  CHECK(f.router.failbackChecks() == first);   // 58 seconds, nothing due: no work
  CHECK(f.router.signalingOn(1) == total);
  f.second(f.t0 + 61s);            // failed over at 1 s + 60 s
  CHECK(f.router.signalingOn(0) == total);
  CHECK(f.router.failbackChecks() == first + total);
}

TEST_CASE("failRegistrationOn invalidates the failed node's registration also when the phone's own REGISTER moved "
          "the registrant before the down edge",
          "[failover_router]") {
  Fixture f;
  RoutingConfig c = f.config;
  c.failover.site.server.reRegisterOn = true;
  c.failover.site.server.failRegistrationOn = true;
  f.router.reconfigure(c);
  // carol's refresh lands on the secondary first (the primary was seen down by it, not yet by
  // the edge work); bob is still on the primary when the edge comes.
  f.router.onRegistered("sip:carol@example.com", "secondary", f.t0 + 1s);
  REQUIRE(f.node("sip:carol@example.com") == 1u);
  f.failOver(f.t0 + 2s);
  CHECK_FALSE(f.bindings.find("sip:carol@example.com")->nodes.at("primary").registered);
  CHECK_FALSE(f.bindings.find("sip:bob@example.com")->nodes.at("primary").registered);
  CHECK(f.bindings.find("sip:carol@example.com")->nodes.at("secondary").registered);
}
