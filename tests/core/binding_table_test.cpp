#include "core/binding_table.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;

namespace {

RegisterOutcome outcome(const std::string& contact, std::uint32_t expires, const std::string& node = "primary") {
  RegisterOutcome o;
  o.aor = "sip:u1@example.com";
  o.node = node;
  o.flow = Flow{Transport::Udp, 0, test::ep("10.0.0.1", 40000), 0};
  o.contacts.push_back({contact, expires, "", std::nullopt});
  o.grantedContacts.push_back("<" + contact + ">;expires=" + std::to_string(expires));
  o.callId = "cid";
  o.cseq = 2;
  o.request = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1\r\n"
              "Authorization: Digest username=\"u1\"\r\nUser-Agent: phone\r\nContent-Length: 0\r\n\r\n";
  o.authorization = "Digest username=\"u1\"";
  return o;
}

} // namespace

TEST_CASE("a 2xx to REGISTER creates a binding registered on that node", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  t.apply(outcome("sip:u1@10.0.0.1:5062", 3600), t0);
  REQUIRE(t.size() == 1);
  const Binding* b = t.find("sip:u1@example.com");
  REQUIRE(b);
  REQUIRE(b->contacts.size() == 1);
  CHECK(b->contacts[0].expires == t0 + 3600s);
  CHECK(b->contacts[0].flow.remote.port == 40000);
  CHECK(b->authorization() == "Digest username=\"u1\"");
  // Kept for replays without what a replay replaces (Via) or does not need (User-Agent).
  CHECK(b->lastRegister == "REGISTER sip:example.com SIP/2.0\r\nAuthorization: Digest username=\"u1\"\r\n"
                           "Content-Length: 0\r\n\r\n");
  CHECK(b->cseq == 2);
  REQUIRE(b->nodes.count("primary"));
  CHECK(b->nodes.at("primary").registered);
  CHECK(b->nodes.at("primary").expires == t0 + 3600s);
}

TEST_CASE("expired contacts are purged on time, and then the registrant", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  t.apply(outcome("sip:u1@10.0.0.1:5062", 60), t0);
  CHECK(t.purgeExpired(t0 + 59s) == 0);
  CHECK(t.size() == 1);
  CHECK(t.purgeExpired(t0 + 60s) == 1);
  CHECK(t.size() == 0);
}

TEST_CASE("Expires 0 removes the contact and the registrant with it", "[bindings]") {
  BindingTable t;
  t.apply(outcome("sip:u1@10.0.0.1:5062", 3600), TimePoint{});
  t.apply(outcome("sip:u1@10.0.0.1:5062", 0), TimePoint{} + 1s);
  CHECK(t.size() == 0);
  CHECK(t.find("sip:u1@example.com") == nullptr);
}

TEST_CASE("Contact * removes every contact", "[bindings]") {
  BindingTable t;
  t.apply(outcome("sip:u1@10.0.0.1:5062", 3600), TimePoint{});
  auto second = outcome("sip:u1@10.0.0.2:5062", 3600);
  t.apply(second, TimePoint{});
  REQUIRE(t.contactCount() == 2);
  RegisterOutcome all = outcome("sip:u1@10.0.0.1:5062", 0);
  all.contacts.clear();
  all.removeAll = true;
  t.apply(all, TimePoint{} + 1s);
  CHECK(t.size() == 0);
}

TEST_CASE("a refresh updates the expiry; a second node is tracked separately", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  t.apply(outcome("sip:u1@10.0.0.1:5062", 60), t0);
  t.apply(outcome("sip:u1@10.0.0.1:5062", 120, "secondary"), t0 + 30s);
  const Binding* b = t.find("sip:u1@example.com");
  REQUIRE(b);
  REQUIRE(b->contacts.size() == 1);
  CHECK(b->contacts[0].expires == t0 + 150s);
  CHECK(b->nodes.at("primary").expires == t0 + 60s);
  CHECK(b->nodes.at("secondary").expires == t0 + 150s);
  t.purgeExpired(t0 + 61s);
  CHECK_FALSE(t.find("sip:u1@example.com")->nodes.at("primary").registered);
  CHECK(t.find("sip:u1@example.com")->nodes.at("secondary").registered);
}

TEST_CASE("the same instance and reg-id replaces its old contact", "[bindings]") {
  BindingTable t;
  auto first = outcome("sip:u1@10.0.0.1:5062", 3600);
  first.contacts[0].instance = "<urn:uuid:1>";
  first.contacts[0].regId = 1;
  t.apply(first, TimePoint{});
  auto moved = outcome("sip:u1@10.0.0.9:6000", 3600);
  moved.contacts[0].instance = "<urn:uuid:1>";
  moved.contacts[0].regId = 1;
  t.apply(moved, TimePoint{});
  const Binding* b = t.find("sip:u1@example.com");
  REQUIRE(b->contacts.size() == 1);
  CHECK(b->contacts[0].uri == "sip:u1@10.0.0.9:6000");
}

TEST_CASE("address-of-record keys are canonical", "[bindings]") {
  CHECK(canonicalAor("sip", "alice", "Example.COM") == "sip:alice@example.com");
  CHECK(canonicalAor("", "bob", "h") == "sip:bob@h");
}

TEST_CASE("a REGISTER is kept for replays without Via, User-Agent and the like, folded lines too", "[bindings]") {
  const std::string request = "REGISTER sip:example.com SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsb1\r\n"
                              "v: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1,\r\n"
                              " SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK2\r\n"
                              "From: <sip:u1@example.com>;tag=1\r\nTo: <sip:u1@example.com>\r\nCall-ID: c\r\n"
                              "CSeq: 2 REGISTER\r\nContact: <sip:u1@10.0.0.1:5062>;reg-id=1\r\n"
                              "Allow: INVITE, ACK\r\nUser-Agent: Phone 1.0\r\nPath: <sip:tok@127.0.0.1;lr>\r\n"
                              "Authorization: Digest username=\"u1\", realm=\"example.com\"\r\n"
                              "Via-Extra: kept\r\nContent-Length: 0\r\n\r\n";
  const std::string kept = compactRegister(request);
  CHECK(kept == "REGISTER sip:example.com SIP/2.0\r\n"
                "From: <sip:u1@example.com>;tag=1\r\nTo: <sip:u1@example.com>\r\nCall-ID: c\r\n"
                "CSeq: 2 REGISTER\r\nContact: <sip:u1@10.0.0.1:5062>;reg-id=1\r\n"
                "Path: <sip:tok@127.0.0.1;lr>\r\nAuthorization: Digest username=\"u1\", realm=\"example.com\"\r\n"
                "Via-Extra: kept\r\nContent-Length: 0\r\n\r\n");
  Binding b;
  b.lastRegister = kept;
  CHECK(b.authorization() == "Digest username=\"u1\", realm=\"example.com\"");
  b.lastRegister = "REGISTER sip:example.com SIP/2.0\r\nContent-Length: 0\r\n\r\n";
  CHECK(b.authorization().empty());
}
