#include "core/register_outcome.h"

#include <catch2/catch.hpp>

using namespace switchback;

namespace {

SipMessage parse(const std::string& text) {
  SipMessage::ParseError error;
  auto m = SipMessage::parse(text, 65535, error);
  REQUIRE(m);
  return std::move(*m);
}

SipMessage registerRequest(const std::string& contact) {
  return parse("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
               "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\nCall-ID: r1\r\n"
               "CSeq: 2 REGISTER\r\nContact: " + contact + "\r\nContent-Length: 0\r\n\r\n");
}

SipMessage answer(const std::string& statusLine, const std::string& headers) {
  return parse("SIP/2.0 " + statusLine + "\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1\r\n"
               "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=x\r\nCall-ID: r1\r\n"
               "CSeq: 2 REGISTER\r\n" + headers + "Content-Length: 0\r\n\r\n");
}

} // namespace

TEST_CASE("a registration succeeds only by a 200 OK with a valid expiry for each contact", "[register]") {
  const auto req = registerRequest("<sip:alice@127.0.0.1:5062>;expires=600");
  CHECK(validRegistration(req, answer("200 OK", "Contact: <sip:alice@127.0.0.1:5062>;expires=300\r\n")));
  CHECK(validRegistration(req, answer("200 OK", "Contact: <sip:alice@127.0.0.1:5062>\r\nExpires: 300\r\n")));
  CHECK_FALSE(validRegistration(req, answer("200 OK", "")));                                      // no Contact
  CHECK_FALSE(validRegistration(req, answer("200 OK", "Contact: <sip:other@127.0.0.1:9>;expires=300\r\n")));
  CHECK_FALSE(validRegistration(req, answer("200 OK", "Contact: <sip:alice@127.0.0.1:5062>;expires=0\r\n")));
  CHECK_FALSE(validRegistration(req, answer("200 OK", "Contact: <sip:alice@127.0.0.1:5062>\r\n")));  // no expiry
  CHECK_FALSE(validRegistration(req, answer("202 Accepted", "Contact: <sip:alice@127.0.0.1:5062>;expires=300\r\n")));
}

TEST_CASE("a removal (expires 0 or *) needs only the 200", "[register]") {
  CHECK(validRegistration(registerRequest("<sip:alice@127.0.0.1:5062>;expires=0"), answer("200 OK", "")));
  CHECK(validRegistration(registerRequest("*"), answer("200 OK", "")));
  CHECK_FALSE(validRegistration(registerRequest("*"), answer("202 Accepted", "")));
}
