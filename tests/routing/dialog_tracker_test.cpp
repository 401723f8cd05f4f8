#include "routing/dialog_tracker.h"

#include "fakes/dialog_legs.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;
using Kind = DialogEvent::Kind;
using test::leg;
using test::bobFlow;

namespace {

const TimePoint t0{};
DialogEvent request(Kind kind, std::string_view fromTag, std::string_view toTag, std::uint32_t cseq) {
  DialogEvent e;
  e.kind = kind;
  e.callId = "call-1";
  e.fromTag = fromTag;
  e.toTag = toTag;
  e.cseq = cseq;
  return e;
}

// carol → Switchback → registrar → Switchback → bob, answered.
void call(DialogTracker& t) {
  t.onEvent(leg(Kind::Offered, true), t0);
  t.onEvent(leg(Kind::Offered, false), t0);
  t.onEvent(leg(Kind::Answered, false, "b1"), t0);
  t.onEvent(leg(Kind::Answered, true, "b1"), t0);
}

} // namespace

TEST_CASE("both ends of a phone-to-phone call are busy, though its legs share a Call-ID", "[dialogs]") {
  DialogTracker t;
  call(t);
  CHECK(t.size() == 1);
  CHECK(t.busy("sip:carol@example.com") == 1);
  CHECK(t.busy("sip:bob@example.com") == 1);
}

TEST_CASE("an early (ringing) dialog counts as busy; a final non-2xx frees its ends", "[dialogs]") {
  DialogTracker t;
  t.onEvent(leg(Kind::Offered, true), t0);
  t.onEvent(leg(Kind::Offered, false), t0);
  CHECK(t.busy("sip:carol@example.com") == 1);
  CHECK(t.busy("sip:bob@example.com") == 1);
  t.onEvent(leg(Kind::Failed, false, "b1"), t0);  // bob's 486
  CHECK(t.busy("sip:bob@example.com") == 0);
  t.onEvent(leg(Kind::Failed, true, "b1"), t0);   // … relayed to carol
  CHECK(t.busy("sip:carol@example.com") == 0);
  CHECK(t.size() == 0);
}

TEST_CASE("a BYE from either end ends the dialog, whatever its answer will be", "[dialogs]") {
  for (bool fromCaller : {true, false}) {
    DialogTracker t;
    call(t);
    t.onEvent(fromCaller ? request(Kind::Bye, "c1", "b1", 2) : request(Kind::Bye, "b1", "c1", 1), t0);
    CHECK(t.size() == 0);
    CHECK(t.busy("sip:carol@example.com") == 0);
    CHECK(t.busy("sip:bob@example.com") == 0);
  }
}

TEST_CASE("a BYE with other tags does not end the dialog", "[dialogs]") {
  DialogTracker t;
  call(t);
  t.onEvent(request(Kind::Bye, "c1", "x9", 2), t0);
  t.onEvent(request(Kind::Bye, "zz", "b1", 2), t0);
  CHECK(t.size() == 1);
}

TEST_CASE("a fork's failure after another fork answered leaves the call up", "[dialogs]") {
  DialogTracker t;
  call(t);
  t.onEvent(leg(Kind::Failed, false, "b2"), t0);
  CHECK(t.busy("sip:bob@example.com") == 1);
}

TEST_CASE("the onlySignalWithRegistered rule ends the call and BYEs the other end over its flow", "[dialogs]") {
  DialogTracker t;
  call(t);
  t.onEvent(request(Kind::Request, "c1", "b1", 5), t0);  // carol's hold, CSeq 5
  auto byes = t.endByRule("call-1", "c1", "b1");
  REQUIRE(byes.size() == 1);
  const auto& bye = byes.front();
  CHECK(bye.aor == "sip:bob@example.com");
  CHECK(bye.flow == bobFlow);
  const std::string text = bye.request("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsbX");
  CHECK(text.rfind("BYE sip:bob@127.0.0.1:7002 SIP/2.0\r\n", 0) == 0);
  CHECK(text.find("From: <sip:carol@example.com>;tag=c1\r\n") != std::string::npos);
  CHECK(text.find("To: <sip:bob@example.com>;tag=b1\r\n") != std::string::npos);
  CHECK(text.find("CSeq: 6 BYE\r\n") != std::string::npos);
  CHECK(t.size() == 0);
  CHECK(t.busy("sip:carol@example.com") == 0);
  CHECK(t.busy("sip:bob@example.com") == 0);
  CHECK(t.endedByRule() == 1);
}

TEST_CASE("a request from the callee's side refused by the rule BYEs the caller", "[dialogs]") {
  DialogTracker t;
  call(t);
  auto byes = t.endByRule("call-1", "b1", "c1");
  REQUIRE(byes.size() == 1);
  CHECK(byes.front().aor == "sip:carol@example.com");
  const std::string text = byes.front().request("v");
  CHECK(text.rfind("BYE sip:carol@127.0.0.1:7001 SIP/2.0\r\n", 0) == 0);
  CHECK(text.find("From: <sip:bob@example.com>;tag=b1\r\n") != std::string::npos);
  CHECK(text.find("To: <sip:carol@example.com>;tag=c1\r\n") != std::string::npos);
}

TEST_CASE("a dialog with no traffic for its lifetime is forgotten and counted", "[dialogs]") {
  DialogTracker t(2h);
  call(t);
  t.onEvent(request(Kind::Request, "c1", "b1", 2), t0 + 1h);
  CHECK(t.expire(t0 + 2h + 30min) == 0);  // the re-INVITE an hour in kept it alive
  CHECK(t.expire(t0 + 3h) == 1);
  CHECK(t.expired() == 1);
  CHECK(t.busy("sip:carol@example.com") == 0);
  CHECK(t.busy("sip:bob@example.com") == 0);
}

namespace {
// The registrar forks bob's INVITE to a second phone, bob2 (issue 21 item 4).
DialogEvent bob2(DialogEvent e) {
  e.aor = "sip:bob2@example.com";
  if (!e.contact.empty()) e.contact = "sip:bob2@127.0.0.1:7003";
  return e;
}
} // namespace

TEST_CASE("each branch of a forked INVITE is busy while it rings; after the 2xx only the answerer", "[dialogs]") {
  DialogTracker t;
  t.onEvent(leg(Kind::Offered, true), t0);
  t.onEvent(leg(Kind::Offered, false), t0);
  t.onEvent(bob2(leg(Kind::Offered, false)), t0);
  CHECK(t.busy("sip:bob@example.com") == 1);
  CHECK(t.busy("sip:bob2@example.com") == 1);
  t.onEvent(bob2(leg(Kind::Answered, false, "b2")), t0);
  t.onEvent(leg(Kind::Answered, true, "b2"), t0);
  CHECK(t.busy("sip:bob2@example.com") == 1);
  CHECK(t.busy("sip:bob@example.com") == 0);  // CANCELled: idle at once, before its 487
  t.onEvent(leg(Kind::Failed, false, "b1"), t0);
  CHECK(t.busy("sip:bob2@example.com") == 1);
  CHECK(t.busy("sip:carol@example.com") == 1);
  t.onEvent(request(Kind::Bye, "c1", "b2", 2), t0);
  CHECK(t.busy("sip:bob2@example.com") == 0);
  CHECK(t.size() == 0);
}

TEST_CASE("a branch that fails while another rings frees only its own phone", "[dialogs]") {
  DialogTracker t;
  t.onEvent(leg(Kind::Offered, true), t0);
  t.onEvent(leg(Kind::Offered, false), t0);
  t.onEvent(bob2(leg(Kind::Offered, false)), t0);
  t.onEvent(bob2(leg(Kind::Failed, false, "x")), t0);
  CHECK(t.busy("sip:bob2@example.com") == 0);
  CHECK(t.busy("sip:bob@example.com") == 1);
  CHECK(t.busy("sip:carol@example.com") == 1);
  t.onEvent(leg(Kind::Failed, false, "y"), t0);
  t.onEvent(leg(Kind::Failed, true, "y"), t0);
  CHECK(t.size() == 0);
}
