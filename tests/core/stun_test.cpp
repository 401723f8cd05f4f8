#include "core/stun.h"

#include <boost/asio/ip/address.hpp>
#include <catch2/catch.hpp>

using namespace switchback;

namespace {

// RFC 5769 §2.2's transaction ID, in a Binding request with no attributes.
const std::string kTransaction("\xb7\xe7\xa7\x01\xbc\x34\xd6\x86\xfa\x87\xdf\xae", 12);

std::string bindingRequest(std::string attributes = {}) {
  std::string r("\x00\x01", 2);
  r.push_back(static_cast<char>(attributes.size() >> 8));
  r.push_back(static_cast<char>(attributes.size() & 0xff));
  r.append("\x21\x12\xa4\x42", 4);
  return r + kTransaction + attributes;
}

Endpoint at(const char* address, std::uint16_t port) { return Endpoint{boost::asio::ip::make_address(address), port}; }

} // namespace

TEST_CASE("datagrams on a SIP port are told apart: SIP, CRLF keep-alive, STUN", "[stun]") {
  CHECK(classifyDatagram("OPTIONS sip:a SIP/2.0\r\n\r\n") == DatagramKind::Sip);
  CHECK(classifyDatagram("\r\n\r\n") == DatagramKind::CrlfKeepAlive);
  CHECK(classifyDatagram(bindingRequest()) == DatagramKind::StunBindingRequest);
  std::string indication = bindingRequest();
  indication[1] = 0x11;  // Binding indication
  CHECK(classifyDatagram(indication) == DatagramKind::StunOther);
  std::string noCookie = bindingRequest();
  noCookie[4] = 0;
  CHECK(classifyDatagram(noCookie) == DatagramKind::Sip);  // the parser then refuses it
}

TEST_CASE("a Binding request is answered with the observed address (RFC 5769 §2.2 vector)", "[stun]") {
  const auto response = stunBindingResponse(bindingRequest(), at("192.0.2.1", 32853));
  REQUIRE(response);
  REQUIRE(response->size() == 32);
  CHECK(response->substr(0, 4) == std::string("\x01\x01\x00\x0c", 4));
  CHECK(response->substr(8, 12) == kTransaction);
  CHECK(response->substr(20) == std::string("\x00\x20\x00\x08\x00\x01\xa1\x47\xe1\x12\xa6\x43", 12));
}

TEST_CASE("an IPv6 Binding request is answered with the XOR of cookie and transaction ID", "[stun]") {
  const auto response = stunBindingResponse(bindingRequest(), at("2001:db8:1234:5678:11:2233:4455:6677", 32853));
  REQUIRE(response);
  // RFC 5769 §2.3's XOR-MAPPED-ADDRESS for the same address, port and transaction ID.
  CHECK(response->substr(20) == std::string("\x00\x20\x00\x14\x00\x02\xa1\x47\x01\x13\xa9\xfa\xa5\xd3\xf1\x79"
                                            "\xbc\x25\xf4\xb5\xbe\xd2\xb9\xd9", 24));
}

TEST_CASE("malformed or unknown STUN requests get no answer", "[stun]") {
  std::string truncated = bindingRequest();
  truncated[3] = 8;  // claims 8 bytes of attributes it does not have
  CHECK_FALSE(stunBindingResponse(truncated, at("127.0.0.1", 5060)));
  CHECK_FALSE(stunBindingResponse(bindingRequest(std::string("\x00\x03\x00\x04\x00\x00\x00\x00", 8)), at("127.0.0.1", 1)));
  // SOFTWARE (comprehension-optional) and FINGERPRINT are fine.
  CHECK(stunBindingResponse(bindingRequest(std::string("\x80\x22\x00\x04swbk\x80\x28\x00\x04\x01\x02\x03\x04", 16)),
                            at("127.0.0.1", 1)));
  CHECK_FALSE(stunBindingResponse(std::string(19, '\0'), at("127.0.0.1", 1)));
}
