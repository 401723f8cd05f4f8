#include "conf/config.h"
#include "tests/conf/config_error.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

using namespace switchback;
using switchback::test::errorOf;
using Catch::Matchers::Contains;

namespace {

// Three lines, so a key appended to it is on line 4.
const std::string kMinimal = "listen: [\"udp:127.0.0.1:5060\"]\n"
                             "upstreams:\n"
                             "  - { name: primary, uri: \"sip:127.0.0.1:5070\" }\n";
const std::string kListen = "listen: [\"udp:127.0.0.1:5060\"]\n";
const std::string kUpstream = "upstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n";

} // namespace

TEST_CASE("a full configuration fills every struct", "[config]") {
  const Config c = loadConfigString(R"(
listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060", "udp:[::1]:5061"]
upstreams:
  - { name: primary, uri: "sip:127.0.0.1:5070" }
  - { name: secondary, uri: "sip:[::1]:5080;transport=tcp" }
log: { level: debug }
timers: { t1_ms: 250, t2_ms: 2000, t4_ms: 3000 }
limits: { max_message_bytes: 8192, max_tcp_connections: 10, tcp_idle_timeout_s: 30 }
admin: { listen: "127.0.0.1:9090" }
)");
  REQUIRE(c.transport.listen.size() == 3);
  CHECK(c.transport.listen[0].transport == Transport::Udp);
  CHECK(c.transport.listen[0].host == "127.0.0.1");
  CHECK(c.transport.listen[0].port == 5060);
  CHECK(c.transport.listen[1].transport == Transport::Tcp);
  CHECK(c.transport.listen[1].port == 5060);
  CHECK(c.transport.listen[2].transport == Transport::Udp);
  CHECK(c.transport.listen[2].host == "::1");
  CHECK(c.transport.listen[2].port == 5061);
  REQUIRE(c.upstreams.size() == 2);
  CHECK(c.upstreams[0].name == "primary");
  CHECK(c.upstreams[0].uri == "sip:127.0.0.1:5070");
  CHECK(c.upstreams[0].host == "127.0.0.1");
  CHECK(c.upstreams[0].port == 5070);
  CHECK(c.upstreams[0].transport == Transport::Udp);
  CHECK(c.upstreams[1].name == "secondary");
  CHECK(c.upstreams[1].uri == "sip:[::1]:5080;transport=tcp");
  CHECK(c.upstreams[1].host == "::1");
  CHECK(c.upstreams[1].port == 5080);
  CHECK(c.upstreams[1].transport == Transport::Tcp);
  CHECK(c.log.level == "debug");
  CHECK(c.timers.t1 == Millis(250));
  CHECK(c.timers.t2 == Millis(2000));
  CHECK(c.timers.t4 == Millis(3000));
  CHECK(c.transport.maxMessageBytes == 8192);
  CHECK(c.transport.maxTcpConnections == 10);
  CHECK(c.transport.tcpIdleTimeout == Seconds(30));
  CHECK(c.admin.enabled);
  CHECK(c.admin.host == "127.0.0.1");
  CHECK(c.admin.port == 9090);
}

TEST_CASE("log.level takes the names administrators write, in any case", "[config]") {
  const std::pair<const char*, const char*> spellings[] = {
      {"warning", "warn"}, {"WARNING", "warn"}, {"warn", "warn"},   {"err", "error"},       {"Error", "error"},
      {"crit", "critical"}, {"off", "off"},     {"Debug", "debug"}, {"trace", "trace"}};
  for (const auto& [written, level] : spellings) {
    INFO(written);
    CHECK(loadConfigString(kMinimal + "log: { level: " + written + " }\n").log.level == level);
  }
}

TEST_CASE("optional keys take their defaults", "[config]") {
  const Config c = loadConfigString(kMinimal);
  CHECK(c.log.level == "info");
  CHECK(c.timers.t1 == Millis(500));
  CHECK(c.timers.t2 == Millis(4000));
  CHECK(c.timers.t4 == Millis(5000));
  CHECK(c.transport.maxMessageBytes == 65535);
  CHECK(c.transport.maxTcpConnections == 4096);
  CHECK(c.transport.tcpIdleTimeout == Seconds(600));
  CHECK_FALSE(c.admin.enabled);
  CHECK(c.upstreams[0].port == 5070);
  CHECK(c.upstreams[0].transport == Transport::Udp);
}

TEST_CASE("an upstream without a port uses 5060, and ;lr is accepted", "[config]") {
  const Config c = loadConfigString(kListen + "upstreams: [{ name: a, uri: \"sip:10.0.0.1;lr\" }]\n");
  CHECK(c.upstreams[0].host == "10.0.0.1");
  CHECK(c.upstreams[0].port == 5060);
}

TEST_CASE("IPv6 addresses are bracketed and stored without brackets", "[config]") {
  const Config c = loadConfigString("listen: [\"tcp:[::1]:5060\"]\n"
                                    "upstreams: [{ name: v6, uri: \"sip:[2001:db8::1];transport=tcp\" }]\n"
                                    "admin: { listen: \"[::1]:8080\" }\n");
  CHECK(c.transport.listen[0].host == "::1");
  CHECK(c.transport.listen[0].transport == Transport::Tcp);
  CHECK(c.upstreams[0].host == "2001:db8::1");
  CHECK(c.upstreams[0].port == 5060);
  CHECK(c.admin.host == "::1");

  CHECK_THAT(errorOf("listen: [\"udp:::1:5060\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[0]: 'udp:::1:5060' has an IPv6 address without brackets; allowed: [IPv6]:PORT"));
  CHECK_THAT(errorOf(kListen + "upstreams: [{ name: a, uri: \"sip:::1:5080\" }]\n"),
             Contains("test.yaml:2: upstreams[0].uri: 'sip:::1:5080' has an IPv6 address without brackets"));
  CHECK_THAT(errorOf("listen: [\"udp:[127.0.0.1]:5060\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[0]") && Contains("allowed: brackets only around an IPv6 address"));
  CHECK_THAT(errorOf(kListen + "upstreams: [{ name: a, uri: \"sip:[::1\" }]\n"),
             Contains("test.yaml:2: upstreams[0].uri: 'sip:[::1' has an unclosed '['; allowed: [IPv6]:PORT"));
}

TEST_CASE("unknown keys list the allowed ones", "[config]") {
  // The list grows with features; check its start and a few members rather than all of it.
  CHECK_THAT(errorOf(kMinimal + "colour: blue\n"), Contains("test.yaml:4: colour: unknown key; allowed: admin, ") &&
                                                     Contains(", listen, log, ") && Contains(", timers, tls, upstreams"));
  CHECK_THAT(errorOf(kMinimal + "log: { verbosity: 3 }\n"), Contains("test.yaml:4: log.verbosity: unknown key; allowed: format, level"));
  CHECK_THAT(errorOf(kMinimal + "timers:\n  t1_ms: 500\n  t3_ms: 1\n"),
             Contains("test.yaml:6: timers.t3_ms: unknown key; allowed: t1_ms, t2_ms, t4_ms"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1\", weight: 3 }\n"),
             Contains("test.yaml:3: upstreams[0].weight: unknown key; allowed: failover, name, role, uri"));
  // yaml-cpp would keep the first and silently drop the second.
  CHECK_THAT(errorOf(kMinimal + "log: { level: info }\nlog: { level: debug }\n"),
             Contains("test.yaml:5: log: appears twice in the same mapping; allowed: once"));
}

TEST_CASE("listen addresses", "[config]") {
  CHECK_THAT(errorOf("\n" + kUpstream),
             Contains("test.yaml:2: listen: missing; required, e.g. listen: [\"udp:127.0.0.1:5060\"]"));
  CHECK_THAT(errorOf("listen: []\n" + kUpstream),
             Contains("test.yaml:1: listen: expected a non-empty list of \"transport:host:port\", got an empty list"));
  CHECK_THAT(errorOf("listen: [\"sctp:127.0.0.1:5060\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[0]: 'sctp:127.0.0.1:5060' has transport 'sctp'; allowed: udp, tcp"));
  CHECK_THAT(errorOf("listen:\n  - \"udp:127.0.0.1:5060\"\n  - \"udp:127.0.0.1:70000\"\n" + kUpstream),
             Contains("test.yaml:3: listen[1]: 'udp:127.0.0.1:70000' has port 70000; allowed: 1-65535"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:0\"]\n" + kUpstream), Contains("test.yaml:1: listen[0]") && Contains("has port 0; allowed: 1-65535"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[0]: 'udp:127.0.0.1' has no port; allowed: HOST:PORT with PORT 1-65535"));
  CHECK_THAT(errorOf("listen: [\"udp:bad_host!:5060\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[0]: 'udp:bad_host!:5060' has host 'bad_host!'; allowed: an IPv4 address, a bracketed IPv6 address or a DNS name"));
  CHECK_THAT(errorOf("listen: [\"127.0.0.1\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[0]: '127.0.0.1' is not \"transport:host:port\"; allowed: e.g. udp:127.0.0.1:5060"));
}

TEST_CASE("a listen address may appear once, however it is spelled", "[config]") {
  CHECK_THAT(errorOf("listen:\n  - \"udp:127.0.0.1:5060\"\n  - \"udp:127.0.0.1:5060\"\n" + kUpstream),
             Contains("test.yaml:3: listen[1]: 'udp:127.0.0.1:5060' is listed twice (also listen[0]); allowed: each address once"));
  CHECK_THAT(errorOf("listen: [\"udp:[::1]:5060\", \"udp:[0:0:0:0:0:0:0:1]:5060\"]\n" + kUpstream),
             Contains("test.yaml:1: listen[1]") && Contains("listed twice"));
  // The same address and port on the other transport is a different listener.
  CHECK(loadConfigString("listen: [\"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5060\"]\n" + kUpstream).transport.listen.size() == 2);
}

TEST_CASE("upstreams", "[config]") {
  CHECK_THAT(errorOf(kListen), Contains("test.yaml:1: upstreams: missing; required, e.g. upstreams: [{ name: primary"));
  CHECK_THAT(errorOf(kListen + "upstreams: []\n"),
             Contains("test.yaml:2: upstreams: expected a non-empty list of {name, uri}, got an empty list"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1\" }\n  - { name: a, uri: \"sip:127.0.0.2\" }\n"),
             Contains("test.yaml:4: upstreams[1].name: 'a' is used twice; allowed: unique names"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"http://x\" }\n"),
             Contains("test.yaml:3: upstreams[0].uri: 'http://x' is not allowed; allowed: sip:HOST[:PORT][;transport=udp|tcp]"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1;transport=sctp\" }\n"),
             Contains("test.yaml:3: upstreams[0].uri: 'sip:127.0.0.1;transport=sctp' has transport 'sctp'; allowed: udp, tcp"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1;transport=tcp;transport=udp\" }\n"),
             Contains("test.yaml:3: upstreams[0].uri") && Contains("has transport twice; allowed: once"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1;maddr=x\" }\n"),
             Contains("test.yaml:3: upstreams[0].uri") && Contains("has parameter 'maddr=x'; allowed: transport=udp|tcp, lr"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1:99999\" }\n"),
             Contains("test.yaml:3: upstreams[0].uri: 'sip:127.0.0.1:99999' has port 99999; allowed: 1-65535"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1:\" }\n"),
             Contains("test.yaml:3: upstreams[0].uri: 'sip:127.0.0.1:' has an empty port; allowed: 1-65535"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: \"a b\", uri: \"sip:127.0.0.1\" }\n"),
             Contains("test.yaml:3: upstreams[0].name: 'a b' is not allowed; allowed: letters, digits, '_' and '-'"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: \"sip:127.0.0.1\" }\n  - { uri: \"sip:127.0.0.2\" }\n"),
             Contains("test.yaml:4: upstreams[1].name: missing; required, e.g. name: primary"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a }\n"),
             Contains("test.yaml:3: upstreams[0].uri: missing; required, e.g. uri: \"sip:127.0.0.1:5070\""));
}

TEST_CASE("values out of range state the range", "[config]") {
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: 5 }\n"), Contains("test.yaml:4: timers.t1_ms: '5' is not allowed; allowed: 10-10000"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t2_ms: 70000 }\n"), Contains("test.yaml:4: timers.t2_ms: '70000' is not allowed; allowed: 10-60000"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t4_ms: 99 }\n"), Contains("test.yaml:4: timers.t4_ms: '99' is not allowed; allowed: 100-60000"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: -5 }\n"), Contains("test.yaml:4: timers.t1_ms: '-5' is not allowed; allowed: 10-10000"));
  CHECK_THAT(errorOf(kMinimal + "limits: { max_message_bytes: 10 }\n"),
             Contains("test.yaml:4: limits.max_message_bytes: '10' is not allowed; allowed: 1024-1048576"));
  CHECK_THAT(errorOf(kMinimal + "limits: { max_tcp_connections: 0 }\n"),
             Contains("test.yaml:4: limits.max_tcp_connections: '0' is not allowed; allowed: 1-1000000"));
  CHECK_THAT(errorOf(kMinimal + "limits: { tcp_idle_timeout_s: 86401 }\n"),
             Contains("test.yaml:4: limits.tcp_idle_timeout_s: '86401' is not allowed; allowed: 1-86400"));
  CHECK_THAT(errorOf(kMinimal + "log: { level: loud }\n"),
             Contains("test.yaml:4: log.level: 'loud' is not allowed; allowed: trace, debug, info, warn (or warning), "
                      "error (or err), critical, off"));
  CHECK_THAT(errorOf(kMinimal + "admin: { listen: \"localhost:80\" }\n"),
             Contains("test.yaml:4: admin.listen: 'localhost:80' has host 'localhost'; allowed: an IPv4 address or a bracketed IPv6 address"));
  CHECK_THAT(errorOf(kMinimal + "admin: { listen: \"127.0.0.1:65536\" }\n"),
             Contains("test.yaml:4: admin.listen: '127.0.0.1:65536' has port 65536; allowed: 1-65535"));
  CHECK_THAT(errorOf(kMinimal + "admin: {}\n"), Contains("test.yaml:4: admin.listen: missing; required, e.g. admin: { listen: \"127.0.0.1:8080\" }"));
}

TEST_CASE("t2 below t1 blames the value that was written", "[config]") {
  CHECK_THAT(errorOf(kMinimal + "timers:\n  t1_ms: 1000\n  t2_ms: 500\n"),
             Contains("test.yaml:6: timers.t2_ms: 500 is below t1_ms (1000); allowed: 1000-60000"));
  // t2_ms left at its default 4000: the raised t1_ms is what to change.
  CHECK_THAT(errorOf(kMinimal + "timers:\n  t1_ms: 5000\n"),
             Contains("test.yaml:5: timers.t1_ms: 5000 is above t2_ms (4000, the default); allowed: 10-4000, or set t2_ms up to 60000"));
  CHECK(loadConfigString(kMinimal + "timers: { t1_ms: 5000, t2_ms: 5000 }\n").timers.t2 == Millis(5000));
}

TEST_CASE("wrong node types are named, not leaked as yaml-cpp exceptions", "[config]") {
  CHECK_THAT(errorOf("listen: { udp: \"127.0.0.1:5060\" }\n" + kUpstream),
             Contains("test.yaml:1: listen: expected a non-empty list of \"transport:host:port\", got a mapping"));
  CHECK_THAT(errorOf("listen: \"udp:127.0.0.1:5060\"\n" + kUpstream),
             Contains("test.yaml:1: listen: expected a non-empty list") && Contains("got 'udp:127.0.0.1:5060'"));
  CHECK_THAT(errorOf("listen: [[\"udp:127.0.0.1:5060\"]]\n" + kUpstream), Contains("test.yaml:1: listen[0]: expected a string, got a list"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  primary: \"sip:127.0.0.1\"\n"),
             Contains("test.yaml:3: upstreams: expected a non-empty list of {name, uri}, got a mapping"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - \"sip:127.0.0.1\"\n"),
             Contains("test.yaml:3: upstreams[0]: expected a mapping with keys failover, name, role, uri, got 'sip:127.0.0.1'"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - { name: a, uri: [\"sip:127.0.0.1\"] }\n"),
             Contains("test.yaml:3: upstreams[0].uri: expected a string, got a list"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: fast }\n"), Contains("test.yaml:4: timers.t1_ms: 'fast' is not allowed; allowed: 10-10000"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: 1.5 }\n"), Contains("test.yaml:4: timers.t1_ms: '1.5' is not allowed; allowed: 10-10000"));
  CHECK_THAT(errorOf(kMinimal + "timers: { t1_ms: [500] }\n"),
             Contains("test.yaml:4: timers.t1_ms: expected an integer, got a list; allowed: 10-10000"));
  CHECK_THAT(errorOf(kMinimal + "timers: [500, 4000]\n"),
             Contains("test.yaml:4: timers: expected a mapping with keys t1_ms, t2_ms, t4_ms, got a list"));
  CHECK_THAT(errorOf(kMinimal + "log: { level: [info] }\n"), Contains("test.yaml:4: log.level: expected a string, got a list"));
  CHECK_THAT(errorOf("- listen\n- upstreams\n"), Contains("test.yaml:1: (top level): expected a mapping with keys admin,") && Contains("got a list"));
  CHECK_THAT(errorOf(kMinimal + "? [a, b]\n: 1\n"), Contains("test.yaml:4: (top level): has a key that is a list; allowed: admin,"));
}

TEST_CASE("an empty value is reported on its own line", "[config]") {
  // yaml-cpp marks an empty value at the next token, here the log key on line 5.
  CHECK_THAT(errorOf(kMinimal + "timers:\nlog: { level: info }\n"),
             Contains("test.yaml:4: timers: expected a mapping with keys t1_ms, t2_ms, t4_ms, got nothing"));
  CHECK_THAT(errorOf(kListen + "upstreams:\n  - name: a\n    uri:\n  - name: b\n"),
             Contains("test.yaml:4: upstreams[0].uri: expected a string, got nothing"));
}

TEST_CASE("syntax errors and empty files", "[config]") {
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\"\nupstreams: {"),
             Contains("test.yaml:2: YAML syntax error: end of sequence flow not found"));
  CHECK_THAT(errorOf(kMinimal + "log: { level: info\n"), Contains("test.yaml:") && Contains("YAML syntax error"));
  CHECK_THAT(errorOf(kMinimal + "admin: *nowhere\n"), Contains("test.yaml:4: YAML syntax error: the referenced anchor is not defined"));
  CHECK_THAT(errorOf(""), Contains("test.yaml: the file is empty; required: listen, upstreams"));
  CHECK_THAT(errorOf("# nothing but a comment\n"), Contains("test.yaml: the file is empty"));
}

TEST_CASE("a file that cannot be read is named", "[config]") {
  CHECK_THROWS_WITH(loadConfigFile("/nonexistent/switchback.yaml"),
                    Contains("/nonexistent/switchback.yaml: cannot read the file: No such file or directory"));
  const auto dir = std::filesystem::temp_directory_path();
  CHECK_THROWS_WITH(loadConfigFile(dir.string()), Contains(dir.string() + ": cannot read the file: it is a directory"));
}

TEST_CASE("errors from a file name the file", "[config]") {
  // A unique name, so concurrent test runs do not share the file.
  const auto path = std::filesystem::temp_directory_path() /
                    ("switchback_config_test_" + std::to_string(std::random_device{}()) + ".yaml");
  {
    std::ofstream out(path);
    out << kMinimal << "timers: { t1_ms: 5 }\n";
  }
  CHECK_THROWS_WITH(loadConfigFile(path.string()), Contains(path.string() + ":4: timers.t1_ms") && Contains("allowed: 10-10000"));
  std::filesystem::remove(path);
}

TEST_CASE("the shipped example configuration is valid", "[config]") {
  const auto root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  const Config c = loadConfigFile((root / "conf" / "switchback.yaml").string());
  REQUIRE(c.transport.listen.size() >= 1);
  CHECK(c.upstreams.size() == 2);
  CHECK(c.upstreams[0].name == "primary");
  CHECK(c.admin.enabled);
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

TEST_CASE("upstreams may be DNS names, resolved per RFC 3263", "[config]") {
  const Config c = loadConfigString(R"(listen: ["udp:127.0.0.1:5060"]
upstreams:
  - { name: pool, uri: "sip:registrar.example.com" }
  - { name: fixed, uri: "sip:backup.example.com:5090;transport=tcp" }
dns: { resolv_conf: "/etc/switchback/resolv.conf" }
)", "test.yaml");
  CHECK(c.upstreams[0].hostIsName);
  CHECK_FALSE(c.upstreams[0].portGiven);  // NAPTR/SRV
  CHECK(c.upstreams[0].host == "registrar.example.com");
  CHECK(c.upstreams[1].portGiven);        // A/AAAA only
  CHECK(c.upstreams[1].port == 5090);
  CHECK(c.dns.resolvConf == "/etc/switchback/resolv.conf");
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\"]\nupstreams: [{ name: a, uri: \"sip:bad_host!\" }]\n"),
             Contains("allowed: an IPv4 address, a bracketed IPv6 address or a DNS name"));
  CHECK_THAT(errorOf(kMinimal + "dns: { server: 1.1.1.1 }\n"), Contains("dns.server: unknown key"));
}

TEST_CASE("dns.startup_timeout_s: how long a start waits for names to resolve", "[config]") {
  CHECK(loadConfigString(kMinimal).dns.startupTimeout == Seconds(30));
  CHECK(loadConfigString(kMinimal + "dns: { startup_timeout_s: 5 }\n").dns.startupTimeout == Seconds(5));
  CHECK_THAT(errorOf(kMinimal + "dns: { startup_timeout_s: -1 }\n"),
             Contains("test.yaml:4: dns.startup_timeout_s") && Contains("0-3600"));
}

TEST_CASE("DNSTTL over an IP-literal upstream: a warning, unless dns.ip_literal_ttl_s says the TTL to take", "[config]") {
  const auto warned = loadConfigString(kMinimal + "failover: { failBack: { mode: DNSTTL } }\n");
  REQUIRE(configWarnings(warned).size() == 1);
  CHECK_THAT(configWarnings(warned).front(), Contains("'primary'") && Contains("3600 s"));
  const auto set = loadConfigString(kMinimal + "failover: { failBack: { mode: DNSTTL } }\ndns: { ip_literal_ttl_s: 5 }\n");
  CHECK(configWarnings(set).empty());
  CHECK(set.routing.ipLiteralDnsTtl == Seconds(5));
  CHECK(configWarnings(loadConfigString(kMinimal)).empty());  // no DNSTTL: nothing to say
  CHECK_THAT(errorOf(kMinimal + "dns: { ip_literal_ttl_s: 0 }\n"), Contains("dns.ip_literal_ttl_s") && Contains("1-86400"));
}
