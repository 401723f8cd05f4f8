#include "core/sip_uri.h"

#include <boost/asio/ip/address.hpp>
#include <catch2/catch.hpp>

using namespace switchback;

namespace {

// What the parser must agree with: Boost's (inet_pton's) reading of the same text.
std::optional<boost::asio::ip::address> reference(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return a;
}

} // namespace

TEST_CASE("hostAddress reads IP literals as inet_pton does, and nothing else", "[sip_uri]") {
  for (const char* host : {"127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3", "192.168.100.200", "[::1]", "::1",
                           "2001:db8::1", "[2001:db8::1]", "::ffff:1.2.3.4", "example.com", "1.2.3", "1.2.3.4.5",
                           "256.1.1.1", "1.2.3.04", "01.2.3.4", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4a", "a1.2.3.4",
                           "1234.1.1.1", "", "[]", "[1.2.3.4]", " 1.2.3.4", "1.2.3.-4", "localhost", "::", "1:2"}) {
    INFO(host);
    CHECK(hostAddress(host) == reference(host));
  }
}
