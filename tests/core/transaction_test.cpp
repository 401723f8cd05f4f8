// RFC 3261 §17 timers, one by one, on a fake clock. T1 = 500 ms, T2 = 4 s, T4 = 5 s unless a
// test says otherwise.
#include "core/transaction.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace switchback;
using namespace std::chrono_literals;

namespace {

struct Wire {
  std::vector<std::pair<Millis, std::string>> sent;
  TimePoint t0{};
  TimePoint* now = nullptr;
  SendFn fn() {
    return [this](std::string_view b) { sent.emplace_back(std::chrono::duration_cast<Millis>(*now - t0), std::string(b)); };
  }
  std::vector<Millis> times(std::string_view what) const {
    std::vector<Millis> out;
    for (const auto& [t, b] : sent)
      if (b == what) out.push_back(t);
    return out;
  }
};

// Steps the clock in 10 ms ticks, as the proxy's loop does, firing due timers.
template <typename Tx>
TimerOutcome runUntil(Tx& tx, TimePoint& now, TimePoint end) {
  TimerOutcome last = TimerOutcome::None;
  while (now < end) {
    now += 10ms;
    const auto o = tx.onTimer(now);
    if (o != TimerOutcome::None) last = o;
  }
  return last;
}

const TimerConfig kTimers{};
auto noAck = [] { return std::string("ACK"); };

} // namespace

TEST_CASE("Timer A: an INVITE over UDP is retransmitted at T1, doubling; Timer B fires at 64*T1", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, false, kTimers, now, "INVITE", w.fn());
  CHECK(tx.state() == ClientTransaction::State::Calling);
  CHECK(runUntil(tx, now, TimePoint{} + 31990ms) == TimerOutcome::None);
  CHECK(w.times("INVITE") == std::vector<Millis>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 15500ms, 31500ms});
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Timeout);
  CHECK(tx.state() == ClientTransaction::State::Terminated);
  CHECK_FALSE(tx.nextDeadline());
}

TEST_CASE("Timer A does not run over a reliable transport; Timer B still does", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, true, kTimers, now, "INVITE", w.fn());
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Timeout);
  CHECK(w.times("INVITE").size() == 1);
}

TEST_CASE("a provisional response stops Timers A and B", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, false, kTimers, now, "INVITE", w.fn());
  now += 100ms;
  CHECK(tx.onResponse(180, now, noAck) == ClientTransaction::Verdict::Forward);
  CHECK(tx.state() == ClientTransaction::State::Proceeding);
  CHECK(runUntil(tx, now, TimePoint{} + 60s) == TimerOutcome::None);
  CHECK(w.times("INVITE").size() == 1);
}

TEST_CASE("Timer D: a non-2xx final is ACKed, retransmissions re-ACKed and absorbed, for 32 s over UDP", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, false, kTimers, now, "INVITE", w.fn());
  now += 100ms;
  CHECK(tx.onResponse(486, now, noAck) == ClientTransaction::Verdict::Forward);
  CHECK(tx.state() == ClientTransaction::State::Completed);
  CHECK(w.times("ACK") == std::vector<Millis>{100ms});
  now += 400ms;
  CHECK(tx.onResponse(486, now, noAck) == ClientTransaction::Verdict::Absorb);
  CHECK(w.times("ACK") == std::vector<Millis>{100ms, 500ms});
  CHECK(runUntil(tx, now, TimePoint{} + 32090ms) == TimerOutcome::None);
  CHECK(runUntil(tx, now, TimePoint{} + 32100ms) == TimerOutcome::Terminated);
  CHECK(w.times("INVITE").size() == 1);  // no retransmission after the final
}

TEST_CASE("Timer D is zero over a reliable transport", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, true, kTimers, now, "INVITE", w.fn());
  tx.onResponse(503, now, noAck);
  CHECK(runUntil(tx, now, now + 10ms) == TimerOutcome::Terminated);
}

TEST_CASE("Timer M: after a 2xx the INVITE client transaction forwards 2xx retransmissions for 64*T1", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, false, kTimers, now, "INVITE", w.fn());
  CHECK(tx.onResponse(200, now, noAck) == ClientTransaction::Verdict::Forward);
  CHECK(tx.state() == ClientTransaction::State::Accepted);
  CHECK(w.times("ACK").empty());  // the ACK for a 2xx is end to end, not ours
  now += 1s;
  CHECK(tx.onResponse(200, now, noAck) == ClientTransaction::Verdict::Forward);
  CHECK(tx.onResponse(180, now, noAck) == ClientTransaction::Verdict::Absorb);
  CHECK(runUntil(tx, now, TimePoint{} + 31990ms) == TimerOutcome::None);
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Terminated);
}

TEST_CASE("Timer E: a non-INVITE over UDP is retransmitted at T1 doubling up to T2; Timer F at 64*T1", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::NonInvite, false, kTimers, now, "REGISTER", w.fn());
  CHECK(tx.state() == ClientTransaction::State::Trying);
  CHECK(runUntil(tx, now, TimePoint{} + 31990ms) == TimerOutcome::None);
  CHECK(w.times("REGISTER") == std::vector<Millis>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms,
                                                   23500ms, 27500ms, 31500ms});
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Timeout);
}

TEST_CASE("Timer E in Proceeding fires every T2", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::NonInvite, false, kTimers, now, "MESSAGE", w.fn());
  runUntil(tx, now, TimePoint{} + 600ms);  // one retransmission at 500 ms
  CHECK(tx.onResponse(100, now, noAck) == ClientTransaction::Verdict::Forward);
  CHECK(tx.state() == ClientTransaction::State::Proceeding);
  runUntil(tx, now, TimePoint{} + 10000ms);
  const auto t = w.times("MESSAGE");
  REQUIRE(t.size() >= 4);
  for (std::size_t i = 3; i < t.size(); ++i) CHECK(t[i] - t[i - 1] == 4000ms);
}

TEST_CASE("Timer K: after a final, a non-INVITE client absorbs retransmissions for T4 (UDP), none (TCP)", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction udp(TxKind::NonInvite, false, kTimers, now, "REGISTER", w.fn());
  CHECK(udp.onResponse(200, now, noAck) == ClientTransaction::Verdict::Forward);
  CHECK(udp.onResponse(200, now, noAck) == ClientTransaction::Verdict::Absorb);
  CHECK(runUntil(udp, now, TimePoint{} + 4990ms) == TimerOutcome::None);
  CHECK(runUntil(udp, now, TimePoint{} + 5000ms) == TimerOutcome::Terminated);

  TimePoint now2{};
  Wire w2{{}, now2, &now2};
  ClientTransaction tcp(TxKind::NonInvite, true, kTimers, now2, "REGISTER", w2.fn());
  tcp.onResponse(401, now2, noAck);
  CHECK(runUntil(tcp, now2, now2 + 10ms) == TimerOutcome::Terminated);
}

TEST_CASE("custom T1 and T2 scale every timer", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  const TimerConfig fast{100ms, 400ms, 1000ms};
  ClientTransaction tx(TxKind::NonInvite, false, fast, now, "OPTIONS", w.fn());
  CHECK(runUntil(tx, now, TimePoint{} + 6390ms) == TimerOutcome::None);
  CHECK(w.times("OPTIONS") == std::vector<Millis>{0ms, 100ms, 300ms, 700ms, 1100ms, 1500ms, 1900ms, 2300ms, 2700ms,
                                                  3100ms, 3500ms, 3900ms, 4300ms, 4700ms, 5100ms, 5500ms, 5900ms, 6300ms});
  CHECK(runUntil(tx, now, TimePoint{} + 6400ms) == TimerOutcome::Timeout);
}

TEST_CASE("a transport error ends a client transaction at once", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ClientTransaction tx(TxKind::Invite, false, kTimers, now, "INVITE", w.fn());
  tx.onTransportError();
  CHECK(tx.state() == ClientTransaction::State::Terminated);
  CHECK_FALSE(tx.nextDeadline());
  CHECK(tx.onResponse(200, now, noAck) == ClientTransaction::Verdict::Absorb);
}

TEST_CASE("Timer G and H: a non-2xx final to an INVITE is retransmitted until the ACK, up to 64*T1", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ServerTransaction tx(TxKind::Invite, false, kTimers, now, w.fn());
  CHECK(tx.state() == ServerTransaction::State::Proceeding);
  tx.respond(100, "100", now);
  tx.respond(486, "486", now);
  CHECK(tx.state() == ServerTransaction::State::Completed);
  CHECK(runUntil(tx, now, TimePoint{} + 31990ms) == TimerOutcome::None);
  CHECK(w.times("486") == std::vector<Millis>{0ms, 500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms, 23500ms,
                                              27500ms, 31500ms});
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Timeout);  // H: no ACK ever came
}

TEST_CASE("Timer I: the ACK moves to Confirmed, which absorbs ACKs for T4 (UDP)", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ServerTransaction tx(TxKind::Invite, false, kTimers, now, w.fn());
  tx.respond(404, "404", now);
  now += 700ms;
  tx.onTimer(now);  // one G retransmission at 500 ms
  CHECK(tx.onAck(now));
  CHECK(tx.state() == ServerTransaction::State::Confirmed);
  CHECK(tx.onAck(now));
  const auto sentBefore = w.sent.size();
  CHECK(runUntil(tx, now, TimePoint{} + 5690ms) == TimerOutcome::None);
  CHECK(w.sent.size() == sentBefore);  // G stopped
  CHECK(runUntil(tx, now, TimePoint{} + 5700ms) == TimerOutcome::Terminated);
}

TEST_CASE("Timer G does not run over a reliable transport, and I is zero", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ServerTransaction tx(TxKind::Invite, true, kTimers, now, w.fn());
  tx.respond(480, "480", now);
  runUntil(tx, now, TimePoint{} + 10s);
  CHECK(w.times("480").size() == 1);
  CHECK(tx.onAck(now));
  CHECK(runUntil(tx, now, now + 10ms) == TimerOutcome::Terminated);
}

TEST_CASE("Timer L: after a 2xx the INVITE server transaction passes 2xx retransmissions for 64*T1", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ServerTransaction tx(TxKind::Invite, false, kTimers, now, w.fn());
  tx.respond(200, "200", now);
  CHECK(tx.state() == ServerTransaction::State::Accepted);
  tx.onRequestRetransmission(now);  // absorbed: the UAC's 2xx retransmissions come from the TU
  CHECK(w.times("200").size() == 1);
  tx.respond(200, "200", now + 1s);
  CHECK(w.times("200").size() == 2);
  CHECK(runUntil(tx, now, TimePoint{} + 31990ms) == TimerOutcome::None);
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Terminated);
}

TEST_CASE("Timer J: a non-INVITE server answers retransmissions with its last response for 64*T1 (UDP)", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ServerTransaction tx(TxKind::NonInvite, false, kTimers, now, w.fn());
  CHECK(tx.state() == ServerTransaction::State::Trying);
  tx.onRequestRetransmission(now);
  CHECK(w.sent.empty());  // nothing to resend yet
  tx.respond(100, "100", now);
  tx.onRequestRetransmission(now);
  CHECK(w.times("100").size() == 2);
  tx.respond(200, "200", now);
  CHECK(tx.state() == ServerTransaction::State::Completed);
  tx.respond(500, "500", now);  // a second final is refused
  CHECK(w.times("500").empty());
  tx.onRequestRetransmission(now + 5s);
  CHECK(w.times("200").size() == 2);
  CHECK(runUntil(tx, now, TimePoint{} + 31990ms) == TimerOutcome::None);
  CHECK(runUntil(tx, now, TimePoint{} + 32000ms) == TimerOutcome::Terminated);
}

TEST_CASE("Timer J is zero over a reliable transport", "[transaction]") {
  TimePoint now{};
  Wire w{{}, now, &now};
  ServerTransaction tx(TxKind::NonInvite, true, kTimers, now, w.fn());
  tx.respond(200, "200", now);
  CHECK(runUntil(tx, now, now + 10ms) == TimerOutcome::Terminated);
}
