#include "conf/config.h"
#include "proxy/listen_names.h"

#include <catch2/catch.hpp>

using namespace switchback;

TEST_CASE("a listen address may be a DNS name, resolved at start", "[config][listen]") {
  Config c = loadConfigString("listen: [\"udp:localhost:5060\", \"tcp:127.0.0.1:5060\"]\n"
                              "upstreams: [{ name: primary, uri: \"sip:127.0.0.1:5070\" }]\n");
  REQUIRE(c.transport.listen.size() == 2);
  CHECK(c.transport.listen[0].name == "localhost");
  CHECK(c.transport.listen[1].name.empty());
  resolveListenNames(c.transport.listen);
  CHECK(c.transport.listen[0].host == "127.0.0.1");  // its IPv4 address first
  CHECK(c.transport.listen[0].port == 5060);
  CHECK(c.transport.listen[1].host == "127.0.0.1");
}

TEST_CASE("a listen name that does not resolve stops the start with the name", "[config][listen]") {
  std::vector<ListenAddress> listen{{Transport::Udp, "no-such-host.invalid", 5060, "no-such-host.invalid"}};
  CHECK_THROWS_WITH(resolveListenNames(listen), Catch::Contains("listen address 'no-such-host.invalid' does not resolve"));
}
