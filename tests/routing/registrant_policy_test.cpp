#include "routing/registrant_policy.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;
using Action = RegistrantPolicy::Action;

namespace {

// primary (0) and secondary (1); the registrant is registered where `registered` says.
std::vector<NodeView> nodes(bool primaryUp, bool regPrimary, bool regSecondary, bool secondaryUp = true) {
  return {NodeView{primaryUp, regPrimary, std::nullopt, std::nullopt},
          NodeView{secondaryUp, regSecondary, std::nullopt, std::nullopt}};
}

FailoverSettings settings(bool reRegister, bool failRegistration, bool onlySignal, FailBackMode mode,
                          std::uint32_t timeout = 3600) {
  FailoverSettings s;
  s.reRegisterOn = reRegister;
  s.failRegistrationOn = failRegistration;
  s.onlySignalWithRegistered = onlySignal;
  s.failBackMode = mode;
  s.failBackTimeout = timeout;
  return s;
}

const TimePoint t0{};

} // namespace

TEST_CASE("reRegisterOn=0: requests simply fail over to the next usable node", "[policy]") {
  const auto s = settings(false, false, true, FailBackMode::NewRequests);
  RegistrantState st{0, t0, 0, std::nullopt};
  auto c = RegistrantPolicy::forNewDialog(s, st, nodes(false, true, false), t0);
  CHECK(c.action == Action::Forward);
  CHECK(c.node == 1);  // not registered there, and that is fine: nodes share registrations
}

TEST_CASE("reRegisterOn=1: register on the new node before signaling goes there", "[policy]") {
  const auto s = settings(true, false, true, FailBackMode::NewRequests);
  RegistrantState st{0, t0, 0, std::nullopt};
  auto c = RegistrantPolicy::forNewDialog(s, st, nodes(false, true, false), t0);
  CHECK(c.action == Action::RegisterFirst);
  CHECK(c.node == 1);
  c = RegistrantPolicy::forNewDialog(s, st, nodes(false, true, true), t0);
  CHECK(c.action == Action::Forward);
  CHECK(c.node == 1);
}

TEST_CASE("no usable node: reject", "[policy]") {
  for (bool re : {false, true}) {
    const auto s = settings(re, false, true, FailBackMode::NewRequests);
    CHECK(RegistrantPolicy::forNewDialog(s, RegistrantState{}, nodes(false, true, true, false), t0).action == Action::Reject);
  }
}

TEST_CASE("failBack.mode newRequests: every new dialog tries the primary first", "[policy]") {
  const auto s = settings(true, false, true, FailBackMode::NewRequests);
  RegistrantState st{1, t0, 0, std::nullopt};  // currently on the secondary
  SECTION("failRegistrationOn=0 kept the primary registration: straight back, no registration first") {
    auto c = RegistrantPolicy::forNewDialog(s, st, nodes(true, true, true), t0 + 1s);
    CHECK(c.action == Action::Forward);
    CHECK(c.node == 0);
  }
  SECTION("failRegistrationOn=1 invalidated it: register on the primary first") {
    auto c = RegistrantPolicy::forNewDialog(s, st, nodes(true, false, true), t0 + 1s);
    CHECK(c.action == Action::RegisterFirst);
    CHECK(c.node == 0);
  }
}

TEST_CASE("failBack.mode duration: the primary is retried failBack.timeout after failing over, when idle", "[policy]") {
  const auto s = settings(false, false, true, FailBackMode::Duration, 60);
  RegistrantState st{1, t0, 0, std::nullopt};
  const auto n = nodes(true, true, true);
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 59s).node == 1);
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 60s).node == 0);
  SECTION("busy when the time comes: not yet; it is asked again (every second) until idle") {
    st.activeDialogs = 1;
    CHECK_FALSE(RegistrantPolicy::timedFailbackDue(s, st, n, t0 + 61s));
    CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 61s).node == 1);
    st.activeDialogs = 0;
    CHECK(RegistrantPolicy::timedFailbackDue(s, st, n, t0 + 62s));
  }
}

TEST_CASE("failBack.timeout: 0 never retries the primary on a timer; 1-59 act as 60", "[policy]") {
  const auto n = nodes(true, true, true);
  RegistrantState st{1, t0, 0, std::nullopt};
  CHECK_FALSE(RegistrantPolicy::timedFailbackDue(settings(false, false, true, FailBackMode::Duration, 0), st, n, t0 + 100000s));
  const auto s30 = settings(false, false, true, FailBackMode::Duration, 30);
  CHECK_FALSE(RegistrantPolicy::timedFailbackDue(s30, st, n, t0 + 59s));
  CHECK(RegistrantPolicy::timedFailbackDue(s30, st, n, t0 + 60s));
}

TEST_CASE("failBack.timeout 0: the primary is chosen again only when the current node fails", "[policy]") {
  const auto s = settings(false, false, true, FailBackMode::Duration, 0);
  RegistrantState st{1, t0, 0, std::nullopt};
  CHECK(RegistrantPolicy::forNewDialog(s, st, nodes(true, true, true), t0 + 100000s).node == 1);
  CHECK(RegistrantPolicy::forNewDialog(s, st, nodes(true, true, true, false), t0 + 100000s).node == 0);
}

TEST_CASE("failBack.mode DNSTTL: the primary is retried after the current node's DNS TTL, when idle", "[policy]") {
  const auto s = settings(false, false, true, FailBackMode::DnsTtl);
  RegistrantState st{1, t0, 0, std::nullopt};
  auto n = nodes(true, true, true);
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 1000s).node == 1);  // no TTL known: stay
  n[1].dnsTtl = 300s;
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 299s).node == 1);
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 300s).node == 0);
  st.activeDialogs = 2;
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 300s).node == 1);
}

TEST_CASE("failBack.mode registration: the primary is retried when the registration is renewed", "[policy]") {
  const auto s = settings(false, false, true, FailBackMode::Registration);
  RegistrantState st{1, t0, 0, std::nullopt};
  const auto n = nodes(true, true, true);
  CHECK(RegistrantPolicy::forNewDialog(s, st, n, t0 + 10000s).node == 1);  // dialogs stay on the current node
  CHECK(RegistrantPolicy::forRegister(s, st, n, t0 + 1s).node == 0);      // the renewal goes to the primary
}

TEST_CASE("non-newRequests modes stay on the current node while it works and fail over when it does not", "[policy]") {
  for (auto mode : {FailBackMode::Duration, FailBackMode::DnsTtl, FailBackMode::Registration}) {
    const auto s = settings(false, false, true, mode, 60);
    RegistrantState st{1, t0, 0, std::nullopt};
    CHECK(RegistrantPolicy::forNewDialog(s, st, nodes(true, true, true, false), t0).node == 0);
    st.current = 0;
    CHECK(RegistrantPolicy::forNewDialog(s, st, nodes(false, true, true), t0).node == 1);
  }
}

TEST_CASE("onlySignalWithRegistered applies only with reRegisterOn=1 and failRegistrationOn=1", "[policy]") {
  const auto unregisteredPrimary = nodes(true, false, true);
  RegistrantState failedOver{1, t0, 0, std::nullopt};
  failedOver.failedNode = 0;
  for (bool re : {false, true})
    for (bool fail : {false, true})
      for (bool only : {false, true}) {
        const auto s = settings(re, fail, only, FailBackMode::NewRequests);
        const bool expectBlocked = re && fail && only;
        CHECK(RegistrantPolicy::mayUseDialogNode(s, failedOver, unregisteredPrimary, 0) == !expectBlocked);
        CHECK(RegistrantPolicy::mayUseDialogNode(s, failedOver, unregisteredPrimary, 1));
      }
}

TEST_CASE("onlySignalWithRegistered refuses a server that has failed, not a healthy one the phone is not registered on",
          "[policy]") {
  const auto s = settings(true, true, true, FailBackMode::Duration);
  const auto registeredOnPrimaryOnly = nodes(true, true, false);
  RegistrantState st{0, t0, 0, std::nullopt};
  CHECK(RegistrantPolicy::mayUseDialogNode(s, st, registeredOnPrimaryOnly, 1));  // the secondary never failed
  st.failedNode = 1;
  CHECK_FALSE(RegistrantPolicy::mayUseDialogNode(s, st, registeredOnPrimaryOnly, 1));
  CHECK(RegistrantPolicy::mayUseDialogNode(s, st, nodes(true, true, true), 1));  // registered there again
}

TEST_CASE("the current node's registration requires renewal within 32 s of its end", "[policy]") {
  RegistrantState st{1, t0, 0, std::nullopt};
  auto v = nodes(true, false, true);
  CHECK_FALSE(RegistrantPolicy::renewalDue(st, v, t0));           // no expiry known
  v[1].registrationExpires = t0 + 60s;
  CHECK_FALSE(RegistrantPolicy::renewalDue(st, v, t0 + 27s));
  CHECK(RegistrantPolicy::renewalDue(st, v, t0 + 28s));
  v[1].registered = false;
  CHECK_FALSE(RegistrantPolicy::renewalDue(st, v, t0 + 40s));     // nothing to renew
}
