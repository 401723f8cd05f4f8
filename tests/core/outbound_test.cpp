#include "core/outbound.h"
#include "core/sofia.h"

#include <catch2/catch.hpp>

using namespace switchback;

namespace {

SipMessage parsed(const std::string& text) {
  SipMessage::ParseError error;
  auto m = SipMessage::parse(text, 65535, error);
  REQUIRE(m);
  return std::move(*m);
}

std::string registerWith(const std::string& contact, const std::string& extra = {}) {
  return "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\n"
         "From: <sip:u1@example.com>;tag=1\r\nTo: <sip:u1@example.com>\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\n"
         "Max-Forwards: 69\r\nContact: " + contact + "\r\n" + extra +
         "Authorization: Digest username=\"u1\", realm=\"example.com\", nonce=\"n\", uri=\"sip:example.com\", "
         "response=\"0123456789abcdef0123456789abcdef\"\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n";
}

const std::string kOk = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\n"
                        "From: <sip:u1@example.com>;tag=1\r\nTo: <sip:u1@example.com>;tag=2\r\nCall-ID: c1\r\n"
                        "CSeq: 2 REGISTER\r\nContact: <sip:u1@10.0.0.1:5062>;expires=600\r\nContent-Length: 0\r\n\r\n";

} // namespace

TEST_CASE("Flow-Timer goes in the 2xx to an outbound phone's REGISTER only", "[outbound]") {
  auto outbound = parsed(registerWith("<sip:u1@10.0.0.1:5062>;reg-id=1;+sip.instance=\"<urn:uuid:1>\""));
  auto supported = parsed(registerWith("<sip:u1@10.0.0.1:5062>", "Supported: path, outbound\r\n"));
  auto plain = parsed(registerWith("<sip:u1@10.0.0.1:5062>"));
  CHECK(wantsOutbound(outbound));
  CHECK(wantsOutbound(supported));
  CHECK_FALSE(wantsOutbound(plain));

  auto ok = parsed(kOk);
  addFlowTimer(ok, outbound, Seconds(25));
  CHECK(ok.serialize().find("Flow-Timer: 25\r\n") != std::string::npos);
  auto twice = parsed(ok.serialize());
  addFlowTimer(twice, outbound, Seconds(30));  // the registrar's own (or ours, once) is kept
  CHECK(twice.serialize().find("Flow-Timer: 30") == std::string::npos);
  auto other = parsed(kOk);
  addFlowTimer(other, plain, Seconds(25));
  CHECK(other.serialize().find("Flow-Timer") == std::string::npos);
}

TEST_CASE("a deregistration replays the last REGISTER with Expires: 0 for the given contacts", "[outbound]") {
  const std::string text = buildDeregistration(registerWith("<sip:u1@10.0.0.1:5062>, <sip:u1@10.0.0.9:5062>"),
                                               "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsbX", 3,
                                               {"sip:u1@10.0.0.1:5062"});
  auto m = parsed(text);
  const sip_t* sip = m.sip();
  REQUIRE(sip->sip_via);
  CHECK(sip->sip_via->v_next == nullptr);
  CHECK(std::string(sip->sip_via->v_branch) == "z9hG4bKsbX");
  CHECK(sip->sip_cseq->cs_seq == 3);
  CHECK(sip->sip_max_forwards->mf_count == 70);
  REQUIRE(sip->sip_contact);
  CHECK(sip->sip_contact->m_next == nullptr);
  CHECK(std::string(sip->sip_contact->m_url->url_host) == "10.0.0.1");
  CHECK(std::string(sip->sip_contact->m_expires) == "0");
  REQUIRE(sip->sip_expires);
  CHECK(sip->sip_expires->ex_delta == 0);
  CHECK(sip->sip_authorization);  // the last Authorization, as the replay on failover sends it
  CHECK(std::string(sip->sip_call_id->i_id) == "c1");
  CHECK(buildDeregistration("not SIP", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsbX", 3, {"sip:a@b"}).empty());
}
