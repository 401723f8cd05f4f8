#include "core/binding_table.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

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

TEST_CASE("a refreshed registrant is not purged at its old expiry, and leaves at its new one", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  t.apply(outcome("sip:u1@10.0.0.1:5062", 60), t0);
  t.apply(outcome("sip:u1@10.0.0.1:5062", 60), t0 + 50s);
  CHECK(t.purgeExpired(t0 + 60s) == 0);
  CHECK(t.size() == 1);
  CHECK(t.purgeExpired(t0 + 109s) == 0);
  CHECK(t.purgeExpired(t0 + 110s) == 1);
  CHECK(t.size() == 0);
}

TEST_CASE("a node registration that expires before the contact is marked unregistered on time", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  RegisterOutcome o = outcome("sip:u1@10.0.0.1:5062", 120);
  o.phoneExpiresCap = 0;
  t.apply(o, t0);
  RegisterOutcome shorter = outcome("sip:u1@10.0.0.1:5062", 30, "secondary");
  shorter.how = RegisteredBy::Replay;  // the phone's own expiry (120 s) stays
  t.apply(shorter, t0 + 1s);
  CHECK(t.nodeCounts().at("secondary").registered == 1);
  t.purgeExpired(t0 + 31s);
  REQUIRE(t.find("sip:u1@example.com"));
  CHECK_FALSE(t.find("sip:u1@example.com")->nodes.at("secondary").registered);
  CHECK(t.find("sip:u1@example.com")->nodes.at("primary").registered);
  CHECK(t.nodeCounts().at("secondary").registered == 0);
  CHECK(t.nodeCounts().at("secondary").unregistered == 1);
  CHECK(t.purgeExpired(t0 + 120s) == 1);
  CHECK(t.size() == 0);
  CHECK(t.nodeCounts().at("primary").registered == 0);
}

TEST_CASE("the phone-address index follows contacts in and out: observed address and the Contact's", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  t.apply(outcome("sip:u1@192.0.2.7:5062", 60), t0);
  CHECK(t.hasPhoneAt(test::ep("10.0.0.1", 40000)));   // where the REGISTER came from
  CHECK(t.hasPhoneAt(test::ep("192.0.2.7", 5062)));   // what its Contact names
  CHECK_FALSE(t.hasPhoneAt(test::ep("192.0.2.7", 5060)));
  CHECK(t.contactCount() == 1);
  t.apply(outcome("sip:u1@192.0.2.8", 60), t0);       // a second contact, port 5060 by default
  CHECK(t.hasPhoneAt(test::ep("192.0.2.8", 5060)));
  CHECK(t.contactCount() == 2);
  t.apply(outcome("sip:u1@192.0.2.7:5062", 0), t0);   // removed: its address goes, the shared flow stays
  CHECK_FALSE(t.hasPhoneAt(test::ep("192.0.2.7", 5062)));
  CHECK(t.hasPhoneAt(test::ep("10.0.0.1", 40000)));
  t.purgeExpired(t0 + 60s);
  CHECK_FALSE(t.hasPhoneAt(test::ep("10.0.0.1", 40000)));
  CHECK_FALSE(t.hasPhoneAt(test::ep("192.0.2.8", 5060)));
  CHECK(t.contactCount() == 0);
}

TEST_CASE("a walk in slices visits every registrant once, and none is missed when the table grows", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  auto add = [&](int i) {
    RegisterOutcome o = outcome("sip:u@10.0.0.1:5062", 60);
    o.aor = "sip:u" + std::to_string(i) + "@example.com";
    t.apply(o, t0);
  };
  for (int i = 0; i < 300; ++i) add(i);
  std::map<std::string, int> seen;
  BindingTable::SliceCursor cursor;
  int slices = 0, added = 300;
  while (!t.forEachSlice(cursor, 25, [&](const Binding& b) { ++seen[b.aor]; })) {
    for (int k = 0; k < 25 && added < 600; ++k) add(added++);  // the table's shards rehash on the way
    REQUIRE(++slices < 1000);
  }
  CHECK(t.size() == 600);
  for (int i = 0; i < 300; ++i) CHECK(seen.count("sip:u" + std::to_string(i) + "@example.com") == 1);
  BindingTable::SliceCursor again;
  std::map<std::string, int> once;
  while (!t.forEachSlice(again, 25, [&](const Binding& b) { ++once[b.aor]; })) {}
  CHECK(once.size() == t.size());
  CHECK(std::all_of(once.begin(), once.end(), [](const auto& e) { return e.second == 1; }));
}

TEST_CASE("a registrant a cluster peer removed leaves the counters, the address index and the expiry heap", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  Binding b;
  b.aor = "sip:u1@example.com";
  b.contacts.push_back(ContactBinding{"sip:u1@10.0.0.1:5062", t0 + 60s, "", std::nullopt,
                                      Flow{Transport::Udp, 0, test::ep("10.0.0.1", 40000), 0}});
  b.nodes["primary"] = NodeRegistration{true, t0 + 60s, t0, ""};
  t.restore(b);
  REQUIRE(t.contactCount() == 1);
  REQUIRE(t.erase("sip:u1@example.com"));
  CHECK(t.find("sip:u1@example.com") == nullptr);
  CHECK(t.contactCount() == 0);
  CHECK_FALSE(t.hasPhoneAt(test::ep("10.0.0.1", 40000)));
  CHECK(t.nodeCounts().at("primary").registered == 0);
  // Nothing of it is left in the expiry heap to fall due later.
  t.apply(outcome("sip:u1@10.0.0.2:5062", 30), t0);
  CHECK(t.purgeExpired(t0 + 61s) == 1);
  CHECK(t.size() == 0);
}

TEST_CASE("the table's keys are the registrants' own AORs, short and long, through growth and churn", "[bindings]") {
  BindingTable t;
  const TimePoint t0{};
  for (int i = 0; i < 5000; ++i) {   // "sip:x1@e.c" fits in a string's own buffer; the long ones do not
    RegisterOutcome o = outcome("sip:u@10.0.0.1:5062", 60 + static_cast<std::uint32_t>(i % 7));
    o.aor = i % 2 ? "sip:x" + std::to_string(i) + "@e.c" : "sip:a-much-longer-user-name-" + std::to_string(i) + "@example.com";
    t.apply(o, t0);
    if (i % 3 == 0) {   // a refresh replaces the kept strings
      o.callId = "another-call-id-long-enough-to-live-on-the-heap-" + std::to_string(i);
      t.apply(o, t0 + 1s);
    }
  }
  REQUIRE(t.size() == 5000);
  for (int i = 0; i < 5000; i += 7) {
    const std::string aor = i % 2 ? "sip:x" + std::to_string(i) + "@e.c" : "sip:a-much-longer-user-name-" + std::to_string(i) + "@example.com";
    const Binding* b = t.find(aor);
    REQUIRE(b);
    CHECK(b->aor == aor);
  }
  CHECK(t.purgeExpired(t0 + 63s) > 0);   // those granted 60-62 s go; the rest stay findable
  std::size_t left = 0;
  t.forEach([&](const Binding& b) { left += t.find(b.aor) == &b ? 1 : 0; });
  CHECK(left == t.size());
  CHECK(t.purgeExpired(t0 + 100s) > 0);
  CHECK(t.size() == 0);
}
