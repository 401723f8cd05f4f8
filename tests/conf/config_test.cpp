#include "conf/config.h"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace switchback;
using Catch::Matchers::Contains;

namespace {

const std::string kMinimal = "listen: [\"udp:127.0.0.1:5060\"]\n"
                             "upstreams:\n"
                             "  - { name: primary, uri: \"sip:127.0.0.1:5070\" }\n";

std::string errorOf(const std::string& yaml) {
  try {
    loadConfigString(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("a full configuration fills every struct", "[config]") {
  const Config c = loadConfigString(R"(
listen: ["udp:127.0.0.1:5060", "tcp:[::1]:5061"]
upstreams:
  - { name: primary, uri: "sip:127.0.0.1:5070" }
  - { name: secondary, uri: "sip:[::1]:5080;transport=tcp" }
log: { level: debug }
timers: { t1_ms: 250, t2_ms: 2000, t4_ms: 3000 }
limits: { max_message_bytes: 8192, max_tcp_connections: 10, tcp_idle_timeout_s: 30 }
admin: { listen: "127.0.0.1:9090" }
)");
  REQUIRE(c.transport.listen.size() == 2);
  CHECK(c.transport.listen[1].transport == Transport::Tcp);
  CHECK(c.transport.listen[1].host == "::1");
  CHECK(c.transport.listen[1].port == 5061);
  REQUIRE(c.upstreams.size() == 2);
  CHECK(c.upstreams[0].name == "primary");
  CHECK(c.upstreams[0].port == 5070);
  CHECK(c.upstreams[0].transport == Transport::Udp);
  CHECK(c.upstreams[1].host == "::1");
  CHECK(c.upstreams[1].transport == Transport::Tcp);
  CHECK(c.upstreams[1].uri == "sip:[::1]:5080;transport=tcp");
  CHECK(c.log.level == "debug");
  CHECK(c.timers.t1 == Millis(250));
  CHECK(c.timers.t2 == Millis(2000));
  CHECK(c.timers.t4 == Millis(3000));
  CHECK(c.transport.maxMessageBytes == 8192);
  CHECK(c.transport.maxTcpConnections == 10);
  CHECK(c.transport.tcpIdleTimeout == Seconds(30));
  CHECK(c.admin.enabled);
  CHECK(c.admin.port == 9090);
}

TEST_CASE("optional keys take their defaults", "[config]") {
  const Config c = loadConfigString(kMinimal);
  CHECK(c.log.level == "info");
  CHECK(c.timers.t1 == Millis(500));
  CHECK(c.timers.t2 == Millis(4000));
  CHECK(c.timers.t4 == Millis(5000));
  CHECK(c.transport.maxMessageBytes == 65535);
  CHECK_FALSE(c.admin.enabled);
  CHECK(c.upstreams[0].port == 5070);
}

TEST_CASE("an upstream without a port uses 5060", "[config]") {
  const Config c = loadConfigString("listen: [\"udp:127.0.0.1:5060\"]\nupstreams: [{ name: a, uri: \"sip:10.0.0.1\" }]\n");
  CHECK(c.upstreams[0].port == 5060);
}

TEST_CASE("every error names the file, the line, the key and what is allowed", "[config]") {
  CHECK_THAT(errorOf(kMinimal + "colour: blue\n"), Contains("test.yaml:4: colour: unknown key; allowed:") && Contains("upstreams"));
  CHECK_THAT(errorOf(kMinimal + "log: { level: loud }\n"),
             Contains("test.yaml:4: log.level: 'loud' is not allowed; allowed: trace, debug"));
  CHECK_THAT(errorOf(kMinimal + "log: { verbosity: 3 }\n"), Contains("log.verbosity: unknown key; allowed: level"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: 5 }\n"), Contains("test.yaml:4: timers.t1_ms") && Contains("allowed: 10-10000"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: 1000, t2_ms: 500 }\n"), Contains("timers.t2_ms") && Contains("below t1_ms"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: fast }\n"), Contains("timers.t1_ms: 'fast' is not allowed"));
  CHECK_THAT(errorOf(kMinimal + "limits: { max_message_bytes: 10 }\n"), Contains("allowed: 1024-1048576"));
  CHECK_THAT(errorOf(kMinimal + "admin: { listen: \"localhost:80\" }\n"), Contains("admin.listen") && Contains("IPv4"));
}

TEST_CASE("listen addresses", "[config]") {
  CHECK_THAT(errorOf("upstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"), Contains("listen: missing"));
  CHECK_THAT(errorOf("listen: []\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"), Contains("non-empty list"));
  CHECK_THAT(errorOf("listen: [\"sctp:127.0.0.1:5060\"]\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"),
             Contains("test.yaml:1: listen[0]") && Contains("allowed: udp, tcp"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:70000\"]\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"),
             Contains("port 70000; allowed: 1-65535"));
  CHECK_THAT(errorOf("listen: [\"udp:example.com:5060\"]\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"),
             Contains("allowed: an IPv4 address or a bracketed IPv6 address"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\", \"udp:127.0.0.1:5060\"]\n"
                     "upstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"),
             Contains("listen[1]") && Contains("listed twice"));
  CHECK_THAT(errorOf("listen: \"udp:127.0.0.1:5060\"\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"),
             Contains("expected a non-empty list"));
}

TEST_CASE("upstreams", "[config]") {
  const std::string l = "listen: [\"udp:127.0.0.1:5060\"]\n";
  CHECK_THAT(errorOf(l), Contains("upstreams: missing"));
  CHECK_THAT(errorOf(l + "upstreams: []\n"), Contains("non-empty list"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1\" }\n  - { name: a, uri: \"sip:127.0.0.2\" }\n"),
             Contains("test.yaml:4: upstreams[1].name: 'a' is used twice"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - { name: a, uri: \"http://x\" }\n"),
             Contains("upstreams[0].uri") && Contains("allowed: sip:HOST[:PORT][;transport=udp|tcp]"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1;transport=sctp\" }\n"),
             Contains("allowed: udp, tcp"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - { name: \"a b\", uri: \"sip:127.0.0.1\" }\n"), Contains("upstreams[0].name"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - { uri: \"sip:127.0.0.1\" }\n"), Contains("upstreams[0].name: missing"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1\", weight: 3 }\n"),
             Contains("upstreams[0].weight: unknown key"));
  CHECK_THAT(errorOf(l + "upstreams:\n  - \"sip:127.0.0.1\"\n"), Contains("upstreams[0]") && Contains("mapping"));
}

TEST_CASE("syntax errors, empty and missing files", "[config]") {
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\"\nupstreams: {"), Contains("test.yaml:") && Contains("YAML syntax error"));
  CHECK_THAT(errorOf(""), Contains("test.yaml: the file is empty"));
  CHECK_THROWS_WITH(loadConfigFile("/nonexistent/switchback.yaml"), Contains("/nonexistent/switchback.yaml: cannot read"));
}

TEST_CASE("the shipped example configuration is valid", "[config]") {
  const auto root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  const Config c = loadConfigFile((root / "conf" / "switchback.yaml").string());
  CHECK(c.upstreams.size() == 2);
  CHECK(c.upstreams[0].name == "primary");
}

TEST_CASE("failover parameters by the advisory's names, with groups and outbound-proxy scopes", "[config]") {
  const Config c = loadConfigString(kMinimal + R"(
failover:
  reRegisterOn: 1
  failRegistrationOn: 1
  onlySignalWithRegistered: 0
  failBack: { mode: duration, timeout: 30 }
  outboundProxy: { failBack: { mode: DNSTTL } }
registrant_groups:
  - { name: sales, match: "sip:1*@example.com", failover: { reRegisterOn: 0 } }
pacing: { registrations_per_second: 250, backoff_base_s: 10, backoff_max_s: 600, health_gated_failback: 0 }
sbc: { require_registration: 0, reject_status: 488, reject_reason: "Register first" }
)");
  const auto& f = c.routing.failover;
  CHECK(f.site.server.reRegisterOn == true);
  CHECK(f.site.server.failRegistrationOn == true);
  CHECK(f.site.server.onlySignalWithRegistered == false);
  CHECK(f.site.server.failBackMode == FailBackMode::Duration);
  CHECK(f.site.server.failBackTimeout == 30u);
  CHECK(f.site.outboundProxy.failBackMode == FailBackMode::DnsTtl);
  REQUIRE(f.groups.size() == 1);
  CHECK(f.groups[0].failover.server.reRegisterOn == false);
  CHECK(resolveFailover(f, "sip:100@example.com", false).reRegisterOn == false);
  CHECK(resolveFailover(f, "sip:200@example.com", false).failBackTimeout == 60);  // 30 acts as 60
  CHECK(c.routing.pacing.registrationsPerSecond == 250);
  CHECK(c.routing.pacing.backoffBase == Seconds(10));
  CHECK_FALSE(c.routing.healthGatedFailback);
  CHECK_FALSE(c.routing.sbc.requireRegistration);
  CHECK(c.routing.sbc.rejectStatus == 488);
}

TEST_CASE("out-of-range failover values state the allowed range", "[config]") {
  CHECK_THAT(errorOf(kMinimal + "failover: { reRegisterOn: 2 }\n"),
             Contains("test.yaml:4: failover.reRegisterOn: '2' is not allowed; allowed: 0, 1"));
  CHECK_THAT(errorOf(kMinimal + "failover: { failBack: { timeout: 70000 } }\n"),
             Contains("failover.failBack.timeout: '70000' is not allowed; allowed: 0, 60-65535 (1-59 act as 60)"));
  CHECK_THAT(errorOf(kMinimal + "failover: { failBack: { mode: sometimes } }\n"),
             Contains("allowed: newRequests, DNSTTL, registration, duration"));
  CHECK_THAT(errorOf(kMinimal + "failover: { reregisteron: 1 }\n"), Contains("failover.reregisteron: unknown key"));
  CHECK_THAT(errorOf(kMinimal + "registrant_groups: [{ name: a }]\n"), Contains("registrant_groups[0].match: missing"));
  CHECK_THAT(errorOf(kMinimal + "pacing: { registrations_per_second: 0 }\n"), Contains("allowed: 1-100000"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\"]\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\", role: proxy }]\n"),
             Contains("upstreams[0].role: 'proxy' is not allowed; allowed: server, outbound_proxy"));
}
