#include "routing/failover_config.h"

#include <catch2/catch.hpp>

using namespace switchback;

TEST_CASE("the advisory's defaults", "[failover_config]") {
  const FailoverSettings s = resolveFailover(FailoverConfig{}, "sip:u1@example.com", false);
  CHECK_FALSE(s.reRegisterOn);
  CHECK_FALSE(s.failRegistrationOn);
  CHECK(s.onlySignalWithRegistered);
  CHECK(s.failBackMode == FailBackMode::NewRequests);
  CHECK(s.failBackTimeout == 3600);
  CHECK_FALSE(s.authOptimizedInFailover());
  CHECK_FALSE(s.queryOnRecovery);  // failRegistrationOn=0 to the letter: no query before failback
}

TEST_CASE("queryOnRecovery is off unless a scope turns it on", "[failover_config]") {
  FailoverConfig c;
  c.site.server.queryOnRecovery = true;
  CHECK(resolveFailover(c, "sip:u1@example.com", false).queryOnRecovery);
  c.groups.push_back(RegistrantGroup{"g", "sip:9*", {}});
  c.groups.back().failover.server.queryOnRecovery = false;
  CHECK_FALSE(resolveFailover(c, "sip:9@example.com", false).queryOnRecovery);
}

TEST_CASE("failBack.timeout: 0 stays 0, 1-59 act as 60, 60-65535 as written", "[failover_config]") {
  CHECK(effectiveFailBackTimeout(0) == 0);
  CHECK(effectiveFailBackTimeout(1) == 60);
  CHECK(effectiveFailBackTimeout(59) == 60);
  CHECK(effectiveFailBackTimeout(60) == 60);
  CHECK(effectiveFailBackTimeout(65535) == 65535);
}

TEST_CASE("reRegisterOn turns on authOptimizedInFailover, onlySignalWithRegistered needs both others", "[failover_config]") {
  FailoverSettings s;
  s.reRegisterOn = true;
  CHECK(s.authOptimizedInFailover());
  CHECK_FALSE(s.signalOnlyWithRegistered());
  s.failRegistrationOn = true;
  CHECK(s.signalOnlyWithRegistered());
  s.onlySignalWithRegistered = false;
  CHECK_FALSE(s.signalOnlyWithRegistered());
}

TEST_CASE("precedence: per-group over site-wide, outbound proxy over server", "[failover_config]") {
  FailoverConfig c;
  c.site.server.failBackMode = FailBackMode::Duration;
  c.site.server.failBackTimeout = 120;
  c.site.outboundProxy.failBackMode = FailBackMode::Registration;
  RegistrantGroup g{"sales", "sip:1*@example.com", {}};
  g.failover.server.reRegisterOn = true;
  g.failover.server.failBackTimeout = 30;
  g.failover.outboundProxy.failBackMode = FailBackMode::DnsTtl;
  c.groups.push_back(g);

  SECTION("a registrant outside every group, via a server: the site's server settings") {
    auto s = resolveFailover(c, "sip:200@example.com", false);
    CHECK(s.failBackMode == FailBackMode::Duration);
    CHECK(s.failBackTimeout == 120);
    CHECK_FALSE(s.reRegisterOn);
  }
  SECTION("outside every group, via an outbound proxy: the site's outbound-proxy settings win") {
    auto s = resolveFailover(c, "sip:200@example.com", true);
    CHECK(s.failBackMode == FailBackMode::Registration);
    CHECK(s.failBackTimeout == 120);  // not set for proxies: the server setting stands
  }
  SECTION("in the group, via a server: the group's settings over the site's") {
    auto s = resolveFailover(c, "sip:100@example.com", false);
    CHECK(s.reRegisterOn);
    CHECK(s.failBackTimeout == 60);   // 30 acts as 60
    CHECK(s.failBackMode == FailBackMode::Duration);
  }
  SECTION("in the group, via an outbound proxy: the group's proxy settings over everything") {
    auto s = resolveFailover(c, "sip:100@example.com", true);
    CHECK(s.failBackMode == FailBackMode::DnsTtl);
    CHECK(s.reRegisterOn);
  }
}

TEST_CASE("glob matching of addresses of record", "[failover_config]") {
  CHECK(globMatch("*", "sip:a@b"));
  CHECK(globMatch("sip:1??@example.com", "sip:123@example.com"));
  CHECK_FALSE(globMatch("sip:1??@example.com", "sip:1234@example.com"));
  CHECK(globMatch("sip:*@*.example.com", "sip:x@pbx.example.com"));
  CHECK_FALSE(globMatch("sip:*@example.com", "sip:x@example.org"));
  CHECK(parseFailBackMode("DNSTTL") == FailBackMode::DnsTtl);
  CHECK_FALSE(parseFailBackMode("dnsttl"));
}

TEST_CASE("precedence, the cross case: the site's outboundProxy key beats a group's server key", "[failover_config]") {
  // The advisory: "If both outboundProxy and server.x failover parameters are set, outboundProxy
  // parameters supersede server.x parameters."
  FailoverConfig c;
  c.site.outboundProxy.reRegisterOn = true;
  RegistrantGroup g{"all", "*", {}};
  g.failover.server.reRegisterOn = false;
  c.groups.push_back(g);
  CHECK(resolveFailover(c, "sip:u1@example.com", true).reRegisterOn);
  CHECK_FALSE(resolveFailover(c, "sip:u1@example.com", false).reRegisterOn);  // via a server: the group's
}

TEST_CASE("per-server settings (upstreams[].failover, the advisory's server.x)", "[failover_config]") {
  FailoverConfig c;
  c.site.server.failBackMode = FailBackMode::Duration;
  c.servers["primary"].failBackMode = FailBackMode::Registration;
  c.servers["primary"].reRegisterOn = true;
  SECTION("over the site's server settings, for that server only") {
    CHECK(resolveFailover(c, "sip:u1@example.com", "primary", false).failBackMode == FailBackMode::Registration);
    CHECK(resolveFailover(c, "sip:u1@example.com", "secondary", false).failBackMode == FailBackMode::Duration);
  }
  SECTION("under a group's settings (reg over voIpProt)") {
    RegistrantGroup g{"all", "*", {}};
    g.failover.server.reRegisterOn = false;
    c.groups.push_back(g);
    CHECK_FALSE(resolveFailover(c, "sip:u1@example.com", "primary", false).reRegisterOn);
  }
  SECTION("under the site's outboundProxy block when the server is an outbound proxy") {
    c.site.outboundProxy.failBackMode = FailBackMode::NewRequests;
    CHECK(resolveFailover(c, "sip:u1@example.com", "primary", true).failBackMode == FailBackMode::NewRequests);
  }
}
