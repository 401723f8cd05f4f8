#include "core/sip_message.h"
#include "core/sofia.h"

#include <catch2/catch.hpp>

using namespace switchback;

namespace {

std::string request(const std::string& startLine, const std::string& headers) {
  return startLine + "\r\n" + headers + "Content-Length: 0\r\n\r\n";
}

const std::string kHeaders =
    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:a@example.com>;tag=1\r\n"
    "To: <sip:b@example.com>\r\n"
    "Call-ID: abc@10.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n";

std::optional<Rejection> validate(const std::string& bytes) {
  SipMessage::ParseError err;
  auto m = SipMessage::parse(bytes, 65535, err);
  REQUIRE(m);
  return validateRequest(*m, 0);
}

} // namespace

TEST_CASE("a well-formed request parses and validates", "[message]") {
  SipMessage::ParseError err;
  auto m = SipMessage::parse(request("INVITE sip:b@example.com SIP/2.0", kHeaders), 65535, err);
  REQUIRE(m);
  CHECK(m->isRequest());
  CHECK(m->method() == "INVITE");
  CHECK_FALSE(validateRequest(*m, 0));
}

TEST_CASE("untouched headers keep their bytes when serialised", "[message]") {
  const std::string bytes = request("OPTIONS sip:b@example.com SIP/2.0",
                                    "Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\n"
                                    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                                    "Call-ID: abc\r\nCSeq: 1 OPTIONS\r\nX-Odd:  Spacing;kept=\"yes\"\r\n");
  SipMessage::ParseError err;
  auto m = SipMessage::parse(bytes, 65535, err);
  REQUIRE(m);
  CHECK(m->serialize().find("X-Odd:  Spacing;kept=\"yes\"\r\n") != std::string::npos);
  CHECK(m->serialize().find("From: <sip:a@example.com>;tag=1\r\n") != std::string::npos);
}

TEST_CASE("hostile bytes never reach the parser", "[message]") {
  SipMessage::ParseError err;
  CHECK_FALSE(SipMessage::parse(std::string("INVITE sip:a@b SIP/2.0\r\nVia: x\0y\r\n\r\n", 33), 65535, err));
  CHECK(err == SipMessage::ParseError::NulByte);
  CHECK_FALSE(SipMessage::parse(std::string(70000, 'A'), 65535, err));
  CHECK(err == SipMessage::ParseError::TooLarge);
  CHECK_FALSE(SipMessage::parse("", 65535, err));
  CHECK(err == SipMessage::ParseError::Empty);
  CHECK_FALSE(SipMessage::parse("\x01\x02garbage\r\n\r\n", 65535, err));
  CHECK(err == SipMessage::ParseError::Unparseable);
}

TEST_CASE("requests the parser lets through but a proxy must refuse", "[message]") {
  SECTION("CSeq method differs from the request method") {
    auto r = validate(request("BYE sip:b@example.com SIP/2.0", kHeaders));
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->reason == "CSeq Method Does Not Match");
  }
  SECTION("missing Call-ID") {
    std::string h = kHeaders;
    h.erase(h.find("Call-ID"), std::string("Call-ID: abc@10.0.0.1\r\n").size());
    auto r = validate(request("INVITE sip:b@example.com SIP/2.0", h));
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->reason == "Missing or Bad Call-ID");
  }
  SECTION("missing From") {
    std::string h = kHeaders;
    h.erase(h.find("From"), std::string("From: <sip:a@example.com>;tag=1\r\n").size());
    auto r = validate(request("INVITE sip:b@example.com SIP/2.0", h));
    REQUIRE(r);
    CHECK(r->reason == "Missing or Bad From");
  }
  SECTION("missing To") {
    std::string h = kHeaders;
    h.erase(h.find("To:"), std::string("To: <sip:b@example.com>\r\n").size());
    auto r = validate(request("INVITE sip:b@example.com SIP/2.0", h));
    REQUIRE(r);
    CHECK(r->reason == "Missing or Bad To");
  }
  SECTION("missing CSeq") {
    std::string h = kHeaders;
    h.erase(h.find("CSeq"), std::string("CSeq: 1 INVITE\r\n").size());
    auto r = validate(request("INVITE sip:b@example.com SIP/2.0", h));
    REQUIRE(r);
    CHECK(r->reason == "Missing or Bad CSeq");
  }
  SECTION("wrong SIP version") {
    auto r = validate(request("INVITE sip:b@example.com SIP/3.0", kHeaders));
    REQUIRE(r);
    CHECK(r->status == 505);
  }
  SECTION("Max-Forwards that does not parse") {
    std::string h = kHeaders;
    h.replace(h.find("Max-Forwards: 70"), 16, "Max-Forwards: lots");
    auto r = validate(request("INVITE sip:b@example.com SIP/2.0", h));
    REQUIRE(r);
    CHECK(r->reason == "Bad Max-Forwards");
  }
  SECTION("Content-Length larger than the body") {
    SipMessage::ParseError err;
    auto m = SipMessage::parse("INVITE sip:b@example.com SIP/2.0\r\n" + kHeaders + "Content-Length: 500\r\n\r\nv=0\r\n",
                               65535, err);
    if (m) {
      auto r = validateRequest(*m, 5);
      REQUIRE(r);
      CHECK(r->status == 400);
    }
  }
}

TEST_CASE("responses without the headers needed to route them are refused", "[message]") {
  SipMessage::ParseError err;
  auto ok = SipMessage::parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
                              "To: <sip:a@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
                              65535, err);
  REQUIRE(ok);
  CHECK(isRoutableResponse(*ok));
  auto noVia = SipMessage::parse("SIP/2.0 200 OK\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: x\r\n"
                                 "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
                                 65535, err);
  if (noVia) CHECK_FALSE(isRoutableResponse(*noVia));
}

TEST_CASE("Request-URI schemes: sip, sips, tel and urn are routed, others answered 416", "[message]") {
  CHECK_FALSE(validate(request("INVITE sips:b@example.com SIP/2.0", kHeaders)));
  CHECK_FALSE(validate(request("INVITE tel:+15551234 SIP/2.0", kHeaders)));
  CHECK_FALSE(validate(request("INVITE urn:service:sos SIP/2.0", kHeaders)));   // RFC 5031: an emergency call
  auto r = validate(request("INVITE nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0", kHeaders));
  REQUIRE(r);
  CHECK(r->status == 416);
}
