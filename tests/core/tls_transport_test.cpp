// TLS as a transport: flow tokens, URIs (sips:, transport=tls), the proxy's headers, contexts.
#include "core/flow_token.h"
#include "core/sip_uri.h"
#include "core/tls_context.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using test::ep;

TEST_CASE("flow tokens of TLS flows round-trip and stay apart from TCP ones", "[tls]") {
  const Flow tls{Transport::Tls, 2, ep("10.1.1.2", 41000), 0};
  const std::string token = encodeFlowToken(tls);
  CHECK(token == "sb-l2-0a010102-41000");
  auto back = decodeFlowToken(token);
  REQUIRE(back);
  CHECK(back->transport == Transport::Tls);
  CHECK(back->remote == tls.remote);
  CHECK(transportName(Transport::Tls) == "TLS");
  CHECK(transportParam(Transport::Tls) == "tls");
  CHECK(isReliable(Transport::Tls));
}

TEST_CASE("sips: URIs and transport=tls point at TLS, by default on port 5061", "[tls]") {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  auto target = [&](const char* uri) { return uriTarget(url_make(home, uri)); };
  auto t = target("sips:127.0.0.1");
  REQUIRE(t);
  CHECK(t->transport == Transport::Tls);
  CHECK(t->endpoint.port == 5061);
  t = target("sip:127.0.0.1:5071;transport=tls");
  REQUIRE(t);
  CHECK(t->transport == Transport::Tls);
  CHECK(t->endpoint.port == 5071);
  t = target("sip:127.0.0.1;transport=TCP");
  REQUIRE(t);
  CHECK(t->transport == Transport::Tcp);
  CHECK(t->endpoint.port == 5060);
  su_home_deinit(home);
}

TEST_CASE("TLS contexts refuse missing files with the file's name", "[tls]") {
  TlsConfig c;
  c.certificate = "/nonexistent/cert.pem";
  c.key = "/nonexistent/key.pem";
  CHECK_THROWS_WITH(makeServerTlsContext(c), Catch::Matchers::Contains("'/nonexistent/cert.pem'"));
  c.caFile = "/nonexistent/ca.pem";
  CHECK_THROWS_WITH(makeClientTlsContext(c), Catch::Matchers::Contains("'/nonexistent/ca.pem'"));
  CHECK_NOTHROW(makeClientTlsContext(TlsConfig{}));  // the system's CAs
}
