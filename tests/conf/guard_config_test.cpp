// The hostile-network keys: limits (message and stream), security (networks, domains), rate_limits.
#include "conf/config.h"
#include "tests/conf/config_error.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace switchback;
using switchback::test::errorOf;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

const std::string kBase = "listen: [\"udp:127.0.0.1:5060\"]\n"
                          "upstreams:\n"
                          "  - { name: primary, uri: \"sip:127.0.0.1:5070\" }\n";

} // namespace

TEST_CASE("hostile-network keys fill the guard and transport structs", "[config]") {
  const Config c = loadConfigString(kBase + R"(
limits: { max_headers: 64, max_header_bytes: 8192, max_via: 8, partial_message_timeout_s: 5, max_connections_per_source: 4 }
security: { phone_networks: ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"], domains: [example.com] }
rate_limits: { requests_per_second: 50, registers_per_second: 5, ban_s: 120, retry_after_s: 7, max_transactions: 1000,
               scanner_user_agents: [evil-scan] }
)");
  CHECK(c.guard.limits.maxHeaders == 64);
  CHECK(c.guard.limits.maxHeaderBytes == 8192);
  CHECK(c.transport.maxHeaderBytes == 8192);
  CHECK(c.transport.maxHeaderLines == 64);
  CHECK(c.guard.limits.maxVia == 8);
  CHECK(c.transport.partialMessageTimeout == 5s);
  CHECK(c.transport.maxConnectionsPerSource == 4);
  REQUIRE(c.guard.access.phoneNetworks.size() == 3);
  CHECK(c.guard.access.phoneNetworks[1].str() == "2001:db8::/32");
  CHECK(c.guard.access.phoneNetworks[2].str() == "127.0.0.1/32");
  CHECK(c.guard.access.domains == std::vector<std::string>{"example.com"});
  CHECK(c.guard.rate.requestsPerSecond == 50);
  CHECK(c.guard.rate.registersPerSecond == 5);
  CHECK(c.guard.rate.banTime == 120s);
  CHECK(c.guard.rate.retryAfter == 7s);
  CHECK(c.guard.rate.maxTransactions == 1000);
  CHECK(c.guard.rate.scannerUserAgents == std::vector<std::string>{"evil-scan"});
}

TEST_CASE("hostile-network defaults keep everything open and unlimited but scanners", "[config]") {
  const Config c = loadConfigString(kBase);
  CHECK(c.guard.access.phoneNetworks.empty());
  CHECK(c.guard.access.domains.empty());
  CHECK(c.guard.rate.requestsPerSecond == 0);
  CHECK(c.guard.rate.registersPerSecond == 0);
  CHECK(c.guard.rate.maxTransactions == 0);
  CHECK(c.transport.maxConnectionsPerSource == 0);
  CHECK_FALSE(c.guard.rate.scannerUserAgents.empty());
}

TEST_CASE("hostile-network key errors name the line, the key and what is allowed", "[config]") {
  CHECK_THAT(errorOf(kBase + "security: { phone_networks: [\"10.0.0.0/33\"] }\n"),
             Contains("test.yaml:4: security.phone_networks[0]: '10.0.0.0/33' is not a network; allowed: ADDRESS/PREFIX"));
  CHECK_THAT(errorOf(kBase + "security: { phone_networks: \"10.0.0.0/8\" }\n"),
             Contains("test.yaml:4: security.phone_networks: expected a list of networks, got '10.0.0.0/8'"));
  CHECK_THAT(errorOf(kBase + "security: { domains: [\"a@b\"] }\n"),
             Contains("test.yaml:4: security.domains[0]: 'a@b' is not allowed; allowed: a host name"));
  CHECK_THAT(errorOf(kBase + "security: { networks: [] }\n"),
             Contains("test.yaml:4: security.networks: unknown key; allowed: domains, phone_networks"));
  CHECK_THAT(errorOf(kBase + "rate_limits: { requests_per_second: -1 }\n"),
             Contains("test.yaml:4: rate_limits.requests_per_second: '-1' is not allowed; allowed: 0-1000000"));
  CHECK_THAT(errorOf(kBase + "rate_limits: { ban_s: 99999 }\n"),
             Contains("test.yaml:4: rate_limits.ban_s: '99999' is not allowed; allowed: 0-86400"));
  CHECK_THAT(errorOf(kBase + "rate_limits: { scanner_user_agents: [\"\"] }\n"),
             Contains("test.yaml:4: rate_limits.scanner_user_agents[0]: is empty"));
  CHECK_THAT(errorOf(kBase + "limits: { max_via: 0 }\n"),
             Contains("test.yaml:4: limits.max_via: '0' is not allowed; allowed: 1-1000"));
  CHECK_THAT(errorOf(kBase + "limits: { partial_message_timeout_s: 0 }\n"),
             Contains("test.yaml:4: limits.partial_message_timeout_s: '0' is not allowed; allowed: 1-3600"));
}

TEST_CASE("TLS: tls: listen addresses, sips: and transport=tls upstreams, the tls keys", "[config]") {
  const std::string dir = std::filesystem::temp_directory_path() / "switchback-tls-config-test";
  std::filesystem::create_directories(dir);
  for (const char* f : {"cert.pem", "key.pem", "ca.pem"}) std::ofstream(dir + "/" + f) << "x";
  const std::string tlsKeys = "tls: { certificate: " + dir + "/cert.pem, key: " + dir + "/key.pem, ca_file: " + dir +
                              "/ca.pem, client_ca: " + dir + "/ca.pem, verify_upstreams: 0, handshake_timeout_s: 3, max_handshakes: 9 }\n";
  const Config c = loadConfigString("listen: [\"udp:127.0.0.1:5060\", \"tls:127.0.0.1:5061\"]\n"
                                    "upstreams:\n  - { name: a, uri: \"sips:127.0.0.1\" }\n"
                                    "  - { name: b, uri: \"sip:127.0.0.1:5071;transport=tls\" }\n" + tlsKeys);
  CHECK(c.transport.listen[1].transport == Transport::Tls);
  CHECK(c.upstreams[0].transport == Transport::Tls);
  CHECK(c.upstreams[0].port == 5061);
  CHECK(c.upstreams[1].transport == Transport::Tls);
  CHECK(c.upstreams[1].port == 5071);
  CHECK(c.transport.tls.certificate == dir + "/cert.pem");
  CHECK(c.transport.tls.clientCa == dir + "/ca.pem");
  CHECK_FALSE(c.transport.tls.verifyUpstreams);
  CHECK(c.transport.tls.handshakeTimeout == 3s);
  CHECK(c.transport.tls.maxHandshakes == 9);
  CHECK(loadConfigString(kBase).transport.tls.verifyUpstreams);  // on by default

  CHECK_THAT(errorOf("listen: [\"tls:127.0.0.1:5061\"]\nupstreams: [{ name: a, uri: \"sip:127.0.0.1\" }]\n"),
             Contains("test.yaml:1: listen[0]: a tls: listen address needs a certificate"));
  CHECK_THAT(errorOf(kBase + "tls: { certificate: /nonexistent/c.pem, key: /nonexistent/k.pem }\n"),
             Contains("test.yaml:4: tls.certificate: cannot read '/nonexistent/c.pem'"));
  CHECK_THAT(errorOf(kBase + "tls: { certificate: " + dir + "/cert.pem }\n"), Contains("test.yaml:4: tls.key: missing"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\"]\nupstreams: [{ name: a, uri: \"sips:127.0.0.1\" }]\n"),
             Contains("test.yaml:2: upstreams[0].uri: 'sips:127.0.0.1' is reached over TLS, which needs a tls: listen address"));
  CHECK_THAT(errorOf("listen: [\"udp:127.0.0.1:5060\"]\nupstreams: [{ name: a, uri: \"sips:127.0.0.1;transport=udp\" }]\n"),
             Contains("is sips: over UDP"));
  CHECK_THAT(errorOf(kBase + "tls: { handshake_timeout_s: 0 }\n"),
             Contains("test.yaml:4: tls.handshake_timeout_s: '0' is not allowed; allowed: 1-300"));
  std::filesystem::remove_all(dir);
}
