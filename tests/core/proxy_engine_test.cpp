#include "core/flow_token.h"
#include "core/proxy_engine.h"
#include "core/sofia.h"
#include "fakes/fake_wire.h"

#include <catch2/catch.hpp>

using namespace switchback;
using namespace std::chrono_literals;
using test::ep;

namespace {

const Flow kPhone{Transport::Udp, 0, ep("10.1.1.1", 40000), 0};       // behind NAT: its Via says 192.168.0.10:5062
const Flow kPhoneTcp{Transport::Tcp, 1, ep("10.1.1.2", 41000), 7};
const Flow kUpstream{Transport::Udp, 0, ep("127.0.0.1", 5070), 0};

struct Harness {
  test::FakeWire wire;
  test::FakePolicy policy;
  BindingTable bindings;
  Stats stats;
  TimePoint now{};
  ProxyEngine engine;

  explicit Harness(const ProxyConfig& config = {})
      : engine{config, wire, policy, bindings, stats, [this] { return now; }} {}

  void receive(const std::string& bytes, const Flow& from) { engine.onMessage(bytes, from); }
  void advance(Millis d) {
    const TimePoint end = now + d;
    while (now < end) {
      now += 10ms;
      engine.onTimer(now);
    }
  }
};

std::string req(const std::string& method, const std::string& ruri, const std::string& extra = "",
                const std::string& via = "SIP/2.0/UDP 192.168.0.10:5062;branch=z9hG4bKphone1;rport",
                const std::string& cseqMethod = "") {
  return method + " " + ruri + " SIP/2.0\r\nVia: " + via +
         "\r\nMax-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:" +
         (method == "REGISTER" ? "alice" : "bob") + "@example.com>\r\nCall-ID: call-1\r\nCSeq: 1 " +
         (cseqMethod.empty() ? method : cseqMethod) + "\r\n" + extra + "Content-Length: 0\r\n\r\n";
}

SipMessage parse(const std::string& bytes) {
  SipMessage::ParseError err;
  auto m = SipMessage::parse(bytes, 65535, err);
  REQUIRE(m);
  return std::move(*m);
}

// A response to what Switchback sent upstream: echoes its Via set.
std::string answer(const std::string& forwarded, int status, const std::string& reason, const std::string& extra = "") {
  auto m = parse(forwarded);
  std::string out = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
  for (sip_via_t* v = m.sip()->sip_via; v; v = v->v_next)
    out += "Via: " + encodeHeaderValue(reinterpret_cast<msg_header_t*>(v)) + "\r\n";
  out += "From: " + encodeHeaderValue(reinterpret_cast<msg_header_t*>(m.sip()->sip_from)) + "\r\n";
  out += "To: " + encodeHeaderValue(reinterpret_cast<msg_header_t*>(m.sip()->sip_to)) +
         (status > 100 ? ";tag=up1" : "") + "\r\n";
  out += "Call-ID: call-1\r\nCSeq: " + std::to_string(m.sip()->sip_cseq->cs_seq) + " " +
         m.sip()->sip_cseq->cs_method_name + "\r\n" + extra + "Content-Length: 0\r\n\r\n";
  return out;
}

} // namespace

TEST_CASE("a phone's REGISTER goes to the primary with Via, rport/received, Path and Max-Forwards", "[proxy]") {
  Harness h;
  h.receive(req("REGISTER", "sip:example.com", "Contact: <sip:alice@192.168.0.10:5062>\r\nExpires: 3600\r\n"), kPhone);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flow.remote == h.policy.primary.endpoint);
  auto fwd = parse(sent[0].bytes);
  const sip_t* sip = fwd.sip();
  CHECK(sv(sip->sip_via->v_host) == "127.0.0.1");
  CHECK(sv(sip->sip_via->v_port) == "5060");
  CHECK(sv(sip->sip_via->v_branch).substr(0, 9) == "z9hG4bKsb");
  REQUIRE(sip->sip_via->v_next);
  CHECK(sv(sip->sip_via->v_next->v_received) == "10.1.1.1");
  CHECK(sv(sip->sip_via->v_next->v_rport) == "40000");
  CHECK(sip->sip_max_forwards->mf_count == 69);
  REQUIRE(sip->sip_path);
  CHECK(sv(sip->sip_path->r_url->url_user) == encodeFlowToken(kPhone));
  CHECK(sv(sip->sip_path->r_url->url_host) == "127.0.0.1");

  SECTION("its 2xx reaches the phone without our Via and fills the binding table") {
    h.receive(answer(sent[0].bytes, 200, "OK", "Contact: <sip:alice@192.168.0.10:5062>;expires=1800\r\n"), kUpstream);
    auto back = h.wire.take();
    REQUIRE(back.size() == 1);
    CHECK(back[0].flow == kPhone);
    auto rsp = parse(back[0].bytes);
    CHECK(rsp.status() == 200);
    CHECK(sv(rsp.sip()->sip_via->v_branch) == "z9hG4bKphone1");
    CHECK(rsp.sip()->sip_via->v_next == nullptr);
    const Binding* b = h.bindings.find("sip:alice@example.com");
    REQUIRE(b);
    REQUIRE(b->contacts.size() == 1);
    CHECK(b->contacts[0].flow == kPhone);
    CHECK(b->contacts[0].expires == h.now + 1800s);
    CHECK(b->nodes.at("primary").registered);
  }
  SECTION("Expires 0 answered by the registrar removes the binding") {
    h.receive(answer(sent[0].bytes, 200, "OK", "Contact: <sip:alice@192.168.0.10:5062>;expires=1800\r\n"), kUpstream);
    h.wire.take();
    h.advance(40s);  // let the first transaction end
    h.receive(req("REGISTER", "sip:example.com", "Contact: <sip:alice@192.168.0.10:5062>\r\nExpires: 0\r\n",
                  "SIP/2.0/UDP 192.168.0.10:5062;branch=z9hG4bKphone2;rport"),
              kPhone);
    auto unreg = h.wire.take();
    REQUIRE(unreg.size() == 1);
    h.receive(answer(unreg[0].bytes, 200, "OK"), kUpstream);
    CHECK(h.bindings.find("sip:alice@example.com") == nullptr);
  }
}

TEST_CASE("an INVITE gets 100 Trying and a Record-Route carrying the phone's flow token", "[proxy]") {
  Harness h;
  h.receive(req("INVITE", "sip:bob@example.com"), kPhone);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 2);
  auto trying = parse(sent[0].bytes);
  CHECK(sent[0].flow == kPhone);
  CHECK(trying.status() == 100);
  CHECK(trying.sip()->sip_via->v_next == nullptr);
  auto fwd = parse(sent[1].bytes);
  REQUIRE(fwd.sip()->sip_record_route);
  CHECK(sv(fwd.sip()->sip_record_route->r_url->url_user) == encodeFlowToken(kPhone));
  CHECK(fwd.sip()->sip_record_route->r_next == nullptr);  // same listener both sides: one entry

  SECTION("a retransmitted INVITE is absorbed and answered with the last response") {
    h.receive(req("INVITE", "sip:bob@example.com"), kPhone);
    auto again = h.wire.take();
    REQUIRE(again.size() == 1);
    CHECK(parse(again[0].bytes).status() == 100);
  }
  SECTION("180 and 200 travel back; the 200's retransmission is forwarded too") {
    h.receive(answer(sent[1].bytes, 180, "Ringing"), kUpstream);
    h.receive(answer(sent[1].bytes, 200, "OK"), kUpstream);
    h.receive(answer(sent[1].bytes, 200, "OK"), kUpstream);
    auto back = h.wire.take();
    REQUIRE(back.size() == 3);
    CHECK(parse(back[0].bytes).status() == 180);
    CHECK(parse(back[1].bytes).status() == 200);
    CHECK(parse(back[2].bytes).status() == 200);
  }
  SECTION("a 486 is ACKed hop by hop and forwarded once") {
    h.receive(answer(sent[1].bytes, 486, "Busy Here"), kUpstream);
    auto out = h.wire.take();
    REQUIRE(out.size() == 2);
    CHECK(parse(out[0].bytes).method() == "ACK");
    CHECK(out[0].flow.remote == h.policy.primary.endpoint);
    CHECK(parse(out[1].bytes).status() == 486);
    h.receive(answer(sent[1].bytes, 486, "Busy Here"), kUpstream);
    out = h.wire.take();
    REQUIRE(out.size() == 1);  // only the ACK again
    CHECK(parse(out[0].bytes).method() == "ACK");
  }
  SECTION("CANCEL after a provisional: 200 to the phone, CANCEL upstream, 487 back") {
    h.receive(answer(sent[1].bytes, 180, "Ringing"), kUpstream);
    h.wire.take();
    h.receive(req("CANCEL", "sip:bob@example.com"), kPhone);
    auto out = h.wire.take();
    REQUIRE(out.size() == 2);
    CHECK(parse(out[0].bytes).status() == 200);
    auto cancel = parse(out[1].bytes);
    CHECK(cancel.method() == "CANCEL");
    CHECK(sv(cancel.sip()->sip_via->v_branch) == sv(fwd.sip()->sip_via->v_branch));
    h.receive(answer(out[1].bytes, 200, "OK"), kUpstream);
    h.receive(answer(sent[1].bytes, 487, "Request Terminated"), kUpstream);
    out = h.wire.take();
    REQUIRE(out.size() == 2);
    CHECK(parse(out[0].bytes).method() == "ACK");
    CHECK(parse(out[1].bytes).status() == 487);
  }
  SECTION("CANCEL before any provisional waits for one") {
    h.receive(req("CANCEL", "sip:bob@example.com"), kPhone);
    auto out = h.wire.take();
    REQUIRE(out.size() == 1);
    CHECK(parse(out[0].bytes).status() == 200);
    h.receive(answer(sent[1].bytes, 180, "Ringing"), kUpstream);
    out = h.wire.take();
    REQUIRE(out.size() == 2);
    CHECK(parse(out[0].bytes).method() == "CANCEL");
    CHECK(parse(out[1].bytes).status() == 180);
  }
}

TEST_CASE("a TCP phone and a UDP upstream get two Record-Route entries", "[proxy]") {
  Harness h;
  h.receive(req("INVITE", "sip:bob@example.com", "", "SIP/2.0/TCP 192.168.0.10:5062;branch=z9hG4bKt1"), kPhoneTcp);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 2);
  auto fwd = parse(sent[1].bytes);
  const sip_record_route_t* rr = fwd.sip()->sip_record_route;
  REQUIRE(rr);
  REQUIRE(rr->r_next);
  CHECK(url_param(rr->r_url->url_params, "transport", nullptr, 0) == 0);      // top: faces the UDP upstream
  CHECK(url_param(rr->r_next->r_url->url_params, "transport", nullptr, 0) > 0);  // below: faces the TCP phone
  CHECK(sv(rr->r_url->url_user) == encodeFlowToken(kPhoneTcp));
}

TEST_CASE("a request from upstream follows the token in its Route to the phone's flow", "[proxy]") {
  Harness h;
  const std::string route = "Route: <sip:" + encodeFlowToken(kPhone) + "@127.0.0.1:5060;lr;ob>\r\n";
  h.receive(req("INVITE", "sip:alice@192.168.0.10:5062", route, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKk1"),
            kUpstream);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 2);
  CHECK(sent[1].flow == kPhone);
  auto fwd = parse(sent[1].bytes);
  CHECK(fwd.sip()->sip_route == nullptr);
  CHECK(sv(fwd.sip()->sip_request->rq_url->url_host) == "192.168.0.10");

  SECTION("a closed flow is answered 430 Flow Failed") {
    Harness h2;
    h2.wire.closed.insert(kPhone.remote.str());
    h2.receive(req("INVITE", "sip:alice@192.168.0.10:5062", route, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKk2"),
               kUpstream);
    auto out = h2.wire.take();
    REQUIRE(out.size() == 1);
    CHECK(parse(out[0].bytes).status() == 430);
  }
}

TEST_CASE("cluster.advertise: Path names the shared address, and requests routed to it are ours", "[proxy][cluster]") {
  ProxyConfig config;
  config.advertiseHost = "127.0.0.9";
  config.advertisePort = 5099;
  Harness h(config);
  h.receive(req("REGISTER", "sip:example.com", "Contact: <sip:alice@192.168.0.10:5062>\r\nExpires: 3600\r\n"), kPhone);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 1);
  auto fwd = parse(sent[0].bytes);
  REQUIRE(fwd.sip()->sip_path);
  CHECK(sv(fwd.sip()->sip_path->r_url->url_user) == encodeFlowToken(kPhone));
  CHECK(sv(fwd.sip()->sip_path->r_url->url_host) == "127.0.0.9");
  CHECK(sv(fwd.sip()->sip_path->r_url->url_port) == "5099");

  const std::string route = "Route: <sip:" + encodeFlowToken(kPhone) + "@127.0.0.9:5099;lr;ob>\r\n";
  h.receive(req("INVITE", "sip:alice@192.168.0.10:5062", route, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKk9"),
            kUpstream);
  auto out = h.wire.take();
  REQUIRE(out.size() == 2);  // 100 Trying upstream, the INVITE to the phone
  CHECK(out[1].flow == kPhone);
  CHECK(parse(out[1].bytes).sip()->sip_route == nullptr);
}

TEST_CASE("who sent a request is decided once, by one rule", "[proxy]") {
  // The node's own TCP connection, from an ephemeral port of the node's host.
  const Flow nodeTcp{Transport::Tcp, 1, ep("127.0.0.1", 45000), 9};
  Harness h;
  SECTION("from the node's host with our token for a phone's flow: the node, towards the phone") {
    const std::string route = "Route: <sip:" + encodeFlowToken(kPhone) + "@127.0.0.1:5060;lr;ob>\r\n";
    h.receive(req("INVITE", "sip:alice@192.168.0.10:5062", route, "SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKn1"),
              nodeTcp);
    auto sent = h.wire.take();
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].flow == kPhone);
  }
  SECTION("from the node's host without a token: a phone there (as in tests on loopback), towards the node") {
    h.receive(req("INVITE", "sip:bob@example.com", "", "SIP/2.0/TCP 127.0.0.1:45000;branch=z9hG4bKn2"), nodeTcp);
    auto sent = h.wire.take();
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].flow.remote == h.policy.primary.endpoint);
    REQUIRE(parse(sent[1].bytes).sip()->sip_record_route);
  }
  SECTION("not from the node, but its top Via names the node: a stranger, refused by the guard") {
    Guard guard{GuardConfig{}, h.stats};
    h.engine.setGuard(&guard);
    h.receive(req("INVITE", "sip:bob@example.com", "", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKn3"), kPhone);
    auto out = h.wire.take();
    REQUIRE(out.size() == 1);
    CHECK(parse(out[0].bytes).status() == 403);
  }
}

TEST_CASE("strict-route fix-up: our URI in the Request-URI is replaced by the last Route", "[proxy]") {
  Harness h;
  const std::string ruri = "sip:" + encodeFlowToken(kPhone) + "@127.0.0.1:5060";
  h.receive(req("BYE", ruri, "Route: <sip:alice@192.168.0.10:5062>\r\n", "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKs1"),
            kUpstream);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].flow == kPhone);
  auto fwd = parse(sent[0].bytes);
  CHECK(sv(fwd.sip()->sip_request->rq_url->url_user) == "alice");
  CHECK(fwd.sip()->sip_route == nullptr);
}

TEST_CASE("Max-Forwards 0 is answered 483, a missing one is added as 70", "[proxy]") {
  Harness h;
  std::string r = req("MESSAGE", "sip:bob@example.com");
  r.replace(r.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  h.receive(r, kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(parse(out[0].bytes).status() == 483);

  std::string noMf = req("MESSAGE", "sip:bob@example.com");
  noMf.erase(noMf.find("Max-Forwards: 70\r\n"), 18);
  h.receive(noMf, kPhone);
  out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(parse(out[0].bytes).sip()->sip_max_forwards->mf_count == 70);
}

TEST_CASE("a request that comes back unchanged is a loop (482); a spiral is not", "[proxy]") {
  Harness h;
  h.receive(req("MESSAGE", "sip:bob@example.com"), kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  // The upstream sends it straight back to us, same Request-URI: a loop.
  std::string looped = out[0].bytes;
  looped.insert(looped.find("Via:"), "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKup9\r\n");
  h.receive(looped, kPhone);
  out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(parse(out[0].bytes).status() == 482);
}

TEST_CASE("malformed requests get 400 with a reason; bad versions 505", "[proxy]") {
  Harness h;
  h.receive(req("BYE", "sip:bob@example.com", "", "SIP/2.0/UDP 192.168.0.10:5062;branch=z9hG4bKb1", "INVITE"), kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  auto r = parse(out[0].bytes);
  CHECK(r.status() == 400);
  CHECK(sv(r.sip()->sip_status->st_phrase) == "CSeq Method Does Not Match");
  CHECK(h.stats.rejected["CSeq Method Does Not Match"] == 1);
  h.receive("garbage\r\n\r\n", kPhone);
  CHECK(h.wire.take().empty());
  CHECK(h.stats.parseErrors == 1);
}

TEST_CASE("a silent upstream: retransmissions on T1 doubling, then 408 to the phone", "[proxy]") {
  Harness h;
  h.receive(req("MESSAGE", "sip:bob@example.com"), kPhone);
  REQUIRE(h.wire.take().size() == 1);
  h.advance(600ms);
  CHECK(h.wire.take().size() == 1);  // Timer E at 500 ms
  h.advance(32s);
  auto out = h.wire.take();
  REQUIRE_FALSE(out.empty());
  auto last = parse(out.back().bytes);
  CHECK(last.status() == 408);
  CHECK(out.back().flow == kPhone);
  CHECK(h.stats.transactionTimeouts == 1);
  h.advance(33s);  // Timer J keeps the server transaction for 64*T1 to absorb retransmissions
  CHECK(h.engine.activeTransactions() == 0);
}

TEST_CASE("the ACK for a 2xx is forwarded statelessly along the route set", "[proxy]") {
  Harness h;
  const std::string route = "Route: <sip:" + encodeFlowToken(kPhone) + "@127.0.0.1:5060;lr>\r\n"
                            "Route: <sip:127.0.0.1:5070;lr>\r\n";
  std::string ack = req("ACK", "sip:bob@192.168.0.20:5062", route);
  ack.replace(ack.find("To: <sip:bob@example.com>"), 25, "To: <sip:bob@example.com>;tag=b1");
  h.receive(ack, kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flow.remote == h.policy.primary.endpoint);
  auto fwd = parse(out[0].bytes);
  CHECK(fwd.method() == "ACK");
  REQUIRE(fwd.sip()->sip_route);
  CHECK(sv(fwd.sip()->sip_route->r_url->url_port) == "5070");
}

TEST_CASE("no upstream available: 503", "[proxy]") {
  Harness h;
  h.policy.down = true;
  h.receive(req("INVITE", "sip:bob@example.com"), kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(parse(out[0].bytes).status() == 503);
}

TEST_CASE("responses go through a chain of named steps before the transaction layer passes them on", "[proxy]") {
  CHECK(ProxyEngine::responseSteps() ==
        std::vector<std::string>{"health accounting", "provisional", "registration bookkeeping", "phone expiry",
                                 "503 as 500"});
}

TEST_CASE("a 503 from upstream reaches the phone as 500 (RFC 3261 16.7 step 6)", "[proxy]") {
  Harness h;
  h.receive(req("MESSAGE", "sip:bob@example.com"), kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  h.receive(answer(out[0].bytes, 503, "Service Unavailable", "Retry-After: 30\r\n"), kUpstream);
  out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].flow.remote == kPhone.remote);
  auto response = parse(out[0].bytes);
  CHECK(response.status() == 500);
  CHECK(h.stats.converted503 == 1);
}

// Regressions from a mutation run of the receive path under ASan (each crashed the process).
TEST_CASE("a duplicated Max-Forwards is answered 400, not read as an error header", "[proxy]") {
  Harness h;
  std::string r = req("MESSAGE", "sip:bob@example.com");
  r.insert(r.find("Max-Forwards: 70"), "Max-Forwards: 70\r\n");
  h.receive(r, kPhone);
  auto out = h.wire.take();
  REQUIRE(out.size() == 1);
  CHECK(parse(out[0].bytes).status() == 400);
}

TEST_CASE("a forged flow token naming a listener we do not have is ignored, not trusted", "[proxy]") {
  Harness h;
  h.receive(req("INVITE", "sip:alice@192.168.0.10:5062", "Route: <sip:sb-u9-0a010101-40000@127.0.0.1:5060;lr>\r\n",
                "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKforged"),
            kUpstream);
  auto out = h.wire.take();
  REQUIRE_FALSE(out.empty());
  for (const auto& s : out) CHECK_FALSE(s.flow.remote == kPhone.remote);  // never sent to the forged flow
  h.receive(req("INVITE", "sip:alice@192.168.0.10:5062", "Route: <sip:sb-t0-0a010101-40000@127.0.0.1:5060;lr>\r\n",
                "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKforged2"),
            kUpstream);  // transport does not match listener 0 (UDP)
  for (const auto& s : h.wire.take()) CHECK_FALSE(s.flow.transport == Transport::Tcp);
}

TEST_CASE("a non-INVITE after its final waits out Timers J and K packed: retransmissions still answered", "[proxy]") {
  Harness h;
  const std::string reg = req("REGISTER", "sip:example.com", "Contact: <sip:alice@192.168.0.10:5062>\r\nExpires: 3600\r\n");
  h.receive(reg, kPhone);
  auto sent = h.wire.take();
  REQUIRE(sent.size() == 1);
  h.receive(answer(sent[0].bytes, 200, "OK", "Contact: <sip:alice@192.168.0.10:5062>;expires=3600\r\n"), kUpstream);
  auto back = h.wire.take();
  REQUIRE(back.size() == 1);
  CHECK(back[0].flow == kPhone);
  CHECK(h.engine.activeTransactions() == 1);   // kept, as a completed transaction

  // The phone did not hear the 200 and sends the REGISTER again: the same 200, nothing upstream.
  h.advance(5s);
  h.receive(reg, kPhone);
  auto again = h.wire.take();
  REQUIRE(again.size() == 1);
  CHECK(again[0].flow == kPhone);
  CHECK(again[0].bytes == back[0].bytes);
  // The registrar retransmits its 200: absorbed, not forwarded statelessly.
  h.receive(answer(sent[0].bytes, 200, "OK", "Contact: <sip:alice@192.168.0.10:5062>;expires=3600\r\n"), kUpstream);
  CHECK(h.wire.take().empty());
  CHECK(h.stats.retransmissionsAbsorbed == 2);

  // After Timer J (64*T1 = 32 s) it is gone: the same request is a new transaction.
  h.advance(28s);
  CHECK(h.engine.activeTransactions() == 0);
  h.receive(reg, kPhone);
  auto fresh = h.wire.take();
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].flow.remote == h.policy.primary.endpoint);
}
