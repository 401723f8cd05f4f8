#include "core/flow_token.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using switchback::test::ep;

TEST_CASE("flow tokens round-trip for IPv4 and IPv6, UDP and TCP", "[flow_token]") {
  const Flow udp{Transport::Udp, 0, ep("192.168.1.20", 40312), 0};
  CHECK(encodeFlowToken(udp) == "sb-u0-c0a80114-40312");
  auto back = decodeFlowToken(encodeFlowToken(udp));
  REQUIRE(back);
  CHECK(*back == udp);
  const Flow tcp{Transport::Tcp, 3, ep("::1", 5061), 0};
  back = decodeFlowToken(encodeFlowToken(tcp));
  REQUIRE(back);
  CHECK(back->transport == Transport::Tcp);
  CHECK(back->listener == 3);
  CHECK(back->remote == tcp.remote);
}

TEST_CASE("anything that is not a token decodes to nothing", "[flow_token]") {
  for (const char* bad : {"", "alice", "sb-", "sb-x0-7f000001-5060", "sb-u-7f000001-5060", "sb-u0-7f00001-5060",
                          "sb-u0-7f000001-", "sb-u0-7f000001-0", "sb-u0-7f000001-99999", "sb-u0-zz000001-5060",
                          "sb-u0-7f000001-50a0", "sb-u99999-7f000001-5060"})
    CHECK_FALSE(decodeFlowToken(bad));
}
