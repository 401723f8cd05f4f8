#include "core/transaction.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace switchback;
using namespace std::chrono_literals;

namespace {

using ClientState = ClientTransaction::State;
using ServerState = ServerTransaction::State;
using Verdict = ClientTransaction::Verdict;

const std::string kInvite = "INVITE sip:bob@example.com SIP/2.0\r\n\r\n";
const std::string kRegister = "REGISTER sip:example.com SIP/2.0\r\n\r\n";
const std::string kAck = "ACK sip:bob@example.com SIP/2.0\r\n\r\n";

// A fixed origin, so that times read as offsets from the start of each test.
const TimePoint kStart{};

struct FakeClock {
  TimePoint now = kStart;
  void set(Millis sinceStart) { now = kStart + sinceStart; }
};

long long ms(TimePoint t) { return std::chrono::duration_cast<Millis>(t - kStart).count(); }
std::optional<long long> ms(std::optional<TimePoint> t) {
  return t ? std::optional<long long>(ms(*t)) : std::nullopt;
}

// Records what the machine put on the wire, stamped with the fake clock.
struct Wire {
  explicit Wire(FakeClock& c) : clock(c) {}
  SendFn fn() {
    return [this](std::string_view b) {
      times.push_back(ms(clock.now));
      bytes.emplace_back(b);
    };
  }
  FakeClock& clock;
  std::vector<long long> times;
  std::vector<std::string> bytes;
};

struct Fired {
  long long at;
  TimerOutcome outcome;
  bool operator==(const Fired& o) const { return at == o.at && outcome == o.outcome; }
};

} // namespace

namespace Catch {
template <> struct StringMaker<Fired> {
  static std::string convert(const Fired& f) {
    const char* what = f.outcome == TimerOutcome::Timeout      ? "Timeout"
                       : f.outcome == TimerOutcome::Terminated ? "Terminated"
                                                               : "None";
    return std::string(what) + "@" + std::to_string(f.at) + "ms";
  }
};
} // namespace Catch

namespace {

// Steps the clock from deadline to deadline, as the owner's event loop does, up to and
// including `limit`; returns every outcome other than None.
template <typename Tx> std::vector<Fired> runUntil(Tx& tx, FakeClock& clock, Millis limit) {
  std::vector<Fired> fired;
  for (int guard = 0;; ++guard) {
    REQUIRE(guard < 10000);  // a deadline that never moves would hang the owner's loop
    const auto next = tx.nextDeadline();
    if (!next || *next > kStart + limit) break;
    REQUIRE(*next >= clock.now);  // a deadline in the past means a missed firing
    clock.now = *next;
    const TimerOutcome outcome = tx.onTimer(clock.now);
    if (outcome != TimerOutcome::None) fired.push_back({ms(clock.now), outcome});
  }
  return fired;
}

// Builds ACKs and counts how often the machine asked for one.
struct AckBuilder {
  int calls = 0;
  std::string bytes = kAck;
  std::function<std::string()> fn() {
    return [this] {
      ++calls;
      return bytes;
    };
  }
};

const std::function<std::string()> kNoAck = [] { return std::string(); };

TimerConfig timers(Millis t1, Millis t2, Millis t4) {
  TimerConfig t;
  t.t1 = t1;
  t.t2 = t2;
  t.t4 = t4;
  return t;
}

} // namespace

// ---------------------------------------------------------------------------------------
// Client, INVITE

TEST_CASE("Timer A: an INVITE over UDP is retransmitted at T1, doubling", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  CHECK(tx.state() == ClientState::Calling);
  CHECK(wire.times == std::vector<long long>{0});
  CHECK(ms(tx.nextDeadline()) == 500);

  const auto fired = runUntil(tx, clock, 32s);
  CHECK(wire.times == std::vector<long long>{0, 500, 1500, 3500, 7500, 15500, 31500});
  for (const auto& b : wire.bytes) CHECK(b == kInvite);
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
}

TEST_CASE("Timer A is not capped at T2, and scales with a non-default T1", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  // T2 = 400 ms: capping would give 100, 300, 700, 1100, ...
  ClientTransaction tx(TxKind::Invite, false, timers(100ms, 400ms, 1000ms), clock.now, kInvite, wire.fn());
  const auto fired = runUntil(tx, clock, 60s);
  CHECK(wire.times == std::vector<long long>{0, 100, 300, 700, 1500, 3100, 6300});
  CHECK(fired == std::vector<Fired>{{6400, TimerOutcome::Timeout}});  // B = 64*T1
}

TEST_CASE("Timer B: an unanswered INVITE times out at 64*T1 and stays silent after", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);

  SECTION("UDP") {
    ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
    clock.set(31999ms);
    CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
    CHECK(tx.state() == ClientState::Calling);
    clock.set(32000ms);
    CHECK(tx.onTimer(clock.now) == TimerOutcome::Timeout);
    CHECK(tx.state() == ClientState::Terminated);
    CHECK(tx.failed());
    CHECK_FALSE(tx.nextDeadline());
    const auto sent = wire.times.size();
    clock.set(100s);
    CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
    CHECK(wire.times.size() == sent);
    CHECK(tx.onResponse(200, clock.now, kNoAck) == Verdict::Absorb);  // too late: nobody waits for it
  }

  SECTION("TCP: one send, no retransmission, same timeout") {
    ClientTransaction tx(TxKind::Invite, true, TimerConfig{}, clock.now, kInvite, wire.fn());
    CHECK(ms(tx.nextDeadline()) == 32000);
    const auto fired = runUntil(tx, clock, 60s);
    CHECK(wire.times == std::vector<long long>{0});
    CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
  }

  SECTION("T1 = 1 s moves B to 64 s") {
    ClientTransaction tx(TxKind::Invite, true, timers(1000ms, 4000ms, 5000ms), clock.now, kInvite, wire.fn());
    const auto fired = runUntil(tx, clock, 100s);
    CHECK(fired == std::vector<Fired>{{64000, TimerOutcome::Timeout}});
  }
}

TEST_CASE("a provisional response to an INVITE stops Timers A and B", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  runUntil(tx, clock, 1s);
  REQUIRE(wire.times == std::vector<long long>{0, 500});

  clock.set(1000ms);
  CHECK(tx.onResponse(180, clock.now, kNoAck) == Verdict::Forward);
  CHECK(tx.state() == ClientState::Proceeding);
  CHECK_FALSE(tx.nextDeadline());  // Timer C in the TU bounds the wait from here
  clock.set(120s);
  CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
  CHECK(wire.times.size() == 2);
  CHECK(tx.onResponse(183, clock.now, kNoAck) == Verdict::Forward);  // every provisional goes up
  CHECK(tx.state() == ClientState::Proceeding);
}

TEST_CASE("Timer M: a 2xx moves the INVITE to Accepted, where 2xx retransmissions are forwarded",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  AckBuilder ack;
  const bool reliable = GENERATE(false, true);  // M is 64*T1 on every transport
  ClientTransaction tx(TxKind::Invite, reliable, TimerConfig{}, clock.now, kInvite, wire.fn());
  clock.set(200ms);
  CHECK(tx.onResponse(180, clock.now, ack.fn()) == Verdict::Forward);
  clock.set(2000ms);
  CHECK(tx.onResponse(200, clock.now, ack.fn()) == Verdict::Forward);
  CHECK(tx.state() == ClientState::Accepted);
  CHECK(ms(tx.nextDeadline()) == 2000 + 32000);

  clock.set(2500ms);
  CHECK(tx.onResponse(200, clock.now, ack.fn()) == Verdict::Forward);
  clock.set(3500ms);
  CHECK(tx.onResponse(200, clock.now, ack.fn()) == Verdict::Forward);
  CHECK(tx.onResponse(202, clock.now, ack.fn()) == Verdict::Forward);  // another 2xx (a forked branch)
  CHECK(tx.onResponse(180, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(tx.onResponse(486, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(tx.state() == ClientState::Accepted);
  CHECK(ack.calls == 0);                          // the ACK for a 2xx is end to end, not ours
  CHECK(wire.times == std::vector<long long>{0});  // and nothing is retransmitted in Accepted

  const auto fired = runUntil(tx, clock, 60s);
  CHECK(fired == std::vector<Fired>{{34000, TimerOutcome::Terminated}});
  CHECK_FALSE(tx.failed());
  CHECK(tx.onResponse(200, clock.now, ack.fn()) == Verdict::Absorb);
}

TEST_CASE("Timer M follows a non-default T1", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, timers(250ms, 4000ms, 5000ms), clock.now, kInvite, wire.fn());
  clock.set(100ms);
  REQUIRE(tx.onResponse(200, clock.now, kNoAck) == Verdict::Forward);
  CHECK(runUntil(tx, clock, 60s) == std::vector<Fired>{{100 + 16000, TimerOutcome::Terminated}});
  CHECK(wire.times == std::vector<long long>{0});  // the 2xx at 100 ms stopped Timer A before 250 ms
}

TEST_CASE("Timer D: a non-2xx final to an INVITE over UDP is ACKed and absorbed for 32 s", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  AckBuilder ack;
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  runUntil(tx, clock, 2s);
  REQUIRE(wire.times == std::vector<long long>{0, 500, 1500});

  clock.set(2000ms);
  CHECK(tx.onResponse(486, clock.now, ack.fn()) == Verdict::Forward);
  CHECK(tx.state() == ClientState::Completed);
  CHECK(ack.calls == 1);
  REQUIRE(wire.bytes.size() == 4);
  CHECK(wire.bytes.back() == kAck);
  CHECK(ms(tx.nextDeadline()) == 2000 + 32000);  // A and B are gone

  // The server missed our ACK and retransmits its final: the same ACK again, TU not told.
  ack.bytes = "a different ACK";  // must not be asked for: the first ACK is resent as is
  clock.set(2500ms);
  CHECK(tx.onResponse(486, clock.now, ack.fn()) == Verdict::Absorb);
  clock.set(3500ms);
  CHECK(tx.onResponse(486, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(ack.calls == 1);
  CHECK(wire.times == std::vector<long long>{0, 500, 1500, 2000, 2500, 3500});
  CHECK(wire.bytes[4] == kAck);
  CHECK(wire.bytes[5] == kAck);

  // Neither a late provisional nor a 2xx is an answer to our ACK.
  CHECK(tx.onResponse(180, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(tx.onResponse(200, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(wire.times.size() == 6);

  clock.set(33999ms);
  CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
  CHECK(tx.state() == ClientState::Completed);
  CHECK(runUntil(tx, clock, 60s) == std::vector<Fired>{{34000, TimerOutcome::Terminated}});
  CHECK_FALSE(tx.failed());
  CHECK(tx.onResponse(486, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(wire.times.size() == 6);  // no ACK from a Terminated transaction
}

TEST_CASE("Timer D is a fixed 32 s over UDP, whatever T1", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  const Millis t1 = GENERATE(100ms, 1000ms);  // 64*T1 would be 6.4 s or 64 s
  ClientTransaction tx(TxKind::Invite, false, timers(t1, 4000ms, 5000ms), clock.now, kInvite, wire.fn());
  REQUIRE(tx.onResponse(500, clock.now, kNoAck) == Verdict::Forward);
  CHECK(ms(tx.nextDeadline()) == 32000);
  CHECK(runUntil(tx, clock, 100s) == std::vector<Fired>{{32000, TimerOutcome::Terminated}});
}

TEST_CASE("Timer D is zero on a reliable transport: Terminated on the next onTimer at the same instant",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  AckBuilder ack;
  ClientTransaction tx(TxKind::Invite, true, TimerConfig{}, clock.now, kInvite, wire.fn());
  clock.set(700ms);
  CHECK(tx.onResponse(603, clock.now, ack.fn()) == Verdict::Forward);
  CHECK(ack.calls == 1);
  CHECK(wire.times == std::vector<long long>{0, 700});
  CHECK(tx.state() == ClientState::Completed);
  CHECK(ms(tx.nextDeadline()) == 700);
  CHECK(tx.onTimer(clock.now) == TimerOutcome::Terminated);
  CHECK(tx.state() == ClientState::Terminated);
  CHECK_FALSE(tx.nextDeadline());
}

TEST_CASE("an empty ACK from buildAck is not sent", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  CHECK(tx.onResponse(404, clock.now, kNoAck) == Verdict::Forward);
  CHECK(tx.onResponse(404, clock.now, kNoAck) == Verdict::Absorb);
  CHECK(wire.times == std::vector<long long>{0});
  CHECK(tx.state() == ClientState::Completed);
}

// ---------------------------------------------------------------------------------------
// Client, non-INVITE

TEST_CASE("Timer E: a non-INVITE over UDP is retransmitted at T1 doubling, capped at T2", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::NonInvite, false, TimerConfig{}, clock.now, kRegister, wire.fn());
  CHECK(tx.state() == ClientState::Trying);
  const auto fired = runUntil(tx, clock, 32s);
  CHECK(wire.times ==
        std::vector<long long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500});
  for (const auto& b : wire.bytes) CHECK(b == kRegister);
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
}

TEST_CASE("Timer E fires every T2 once a provisional response arrived", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::NonInvite, false, TimerConfig{}, clock.now, kRegister, wire.fn());
  runUntil(tx, clock, 600ms);
  clock.set(600ms);
  CHECK(tx.onResponse(100, clock.now, kNoAck) == Verdict::Forward);
  CHECK(tx.state() == ClientState::Proceeding);
  CHECK(ms(tx.nextDeadline()) == 1500);  // the pending E keeps its time; T2 applies after it fires

  const auto fired = runUntil(tx, clock, 32s);
  CHECK(wire.times == std::vector<long long>{0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500});
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});  // F still applies in Proceeding
}

TEST_CASE("Timer E with non-default T1 and T2", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::NonInvite, false, timers(200ms, 1000ms, 2500ms), clock.now, kRegister,
                       wire.fn());
  const auto fired = runUntil(tx, clock, 20s);
  CHECK(wire.times == std::vector<long long>{0, 200, 600, 1400, 2400, 3400, 4400, 5400, 6400, 7400, 8400, 9400,
                                             10400, 11400, 12400});
  CHECK(fired == std::vector<Fired>{{12800, TimerOutcome::Timeout}});
}

TEST_CASE("Timer F: a non-INVITE times out at 64*T1; over TCP with no retransmission", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::NonInvite, true, TimerConfig{}, clock.now, kRegister, wire.fn());
  CHECK(ms(tx.nextDeadline()) == 32000);
  clock.set(10s);
  CHECK(tx.onResponse(100, clock.now, kNoAck) == Verdict::Forward);  // a 1xx does not stop F
  const auto fired = runUntil(tx, clock, 60s);
  CHECK(wire.times == std::vector<long long>{0});
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
  CHECK(tx.failed());
  CHECK(tx.state() == ClientState::Terminated);
}

TEST_CASE("a timer that ends the transaction wins over a retransmission due at the same time",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  // T2 = T1: E fires every 500 ms, so one falls on F at 32 s.
  ClientTransaction tx(TxKind::NonInvite, false, timers(500ms, 500ms, 5000ms), clock.now, kRegister, wire.fn());
  const auto fired = runUntil(tx, clock, 60s);
  REQUIRE(wire.times.size() == 64);  // 0, 500, ..., 31500
  CHECK(wire.times.front() == 0);
  CHECK(wire.times.back() == 31500);
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
}

TEST_CASE("Timer K: a non-INVITE final over UDP absorbs retransmissions for T4", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::NonInvite, false, TimerConfig{}, clock.now, kRegister, wire.fn());
  runUntil(tx, clock, 1s);
  clock.set(1000ms);
  CHECK(tx.onResponse(401, clock.now, kNoAck) == Verdict::Forward);
  CHECK(tx.state() == ClientState::Completed);
  CHECK(ms(tx.nextDeadline()) == 1000 + 5000);
  clock.set(2000ms);
  CHECK(tx.onResponse(401, clock.now, kNoAck) == Verdict::Absorb);
  CHECK(tx.onResponse(100, clock.now, kNoAck) == Verdict::Absorb);
  const auto fired = runUntil(tx, clock, 60s);
  CHECK(fired == std::vector<Fired>{{6000, TimerOutcome::Terminated}});
  CHECK(wire.times == std::vector<long long>{0, 500});  // E stopped at the final; no ACK for non-INVITE
  CHECK(tx.onResponse(401, clock.now, kNoAck) == Verdict::Absorb);
}

TEST_CASE("Timer K follows T4, and is zero on a reliable transport", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);

  SECTION("UDP, T4 = 2.5 s") {
    ClientTransaction tx(TxKind::NonInvite, false, timers(200ms, 1000ms, 2500ms), clock.now, kRegister,
                         wire.fn());
    runUntil(tx, clock, 300ms);
    clock.set(300ms);
    CHECK(tx.onResponse(200, clock.now, kNoAck) == Verdict::Forward);
    CHECK(runUntil(tx, clock, 60s) == std::vector<Fired>{{2800, TimerOutcome::Terminated}});
    CHECK(wire.times == std::vector<long long>{0, 200});
  }

  SECTION("TCP") {
    ClientTransaction tx(TxKind::NonInvite, true, TimerConfig{}, clock.now, kRegister, wire.fn());
    clock.set(300ms);
    CHECK(tx.onResponse(200, clock.now, kNoAck) == Verdict::Forward);
    CHECK(tx.state() == ClientState::Completed);
    CHECK(ms(tx.nextDeadline()) == 300);
    CHECK(tx.onResponse(200, clock.now, kNoAck) == Verdict::Absorb);  // same instant, still absorbed
    CHECK(tx.onTimer(clock.now) == TimerOutcome::Terminated);
    CHECK_FALSE(tx.nextDeadline());
  }
}

// ---------------------------------------------------------------------------------------
// Client, edge cases

TEST_CASE("a client transport error terminates the transaction as failed", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  tx.onTransportError();
  CHECK(tx.state() == ClientState::Terminated);
  CHECK(tx.failed());
  CHECK_FALSE(tx.nextDeadline());
  clock.set(40s);
  CHECK(tx.onTimer(clock.now) == TimerOutcome::None);  // the owner was told by its own call
  CHECK(tx.onResponse(180, clock.now, kNoAck) == Verdict::Absorb);
  CHECK(wire.times == std::vector<long long>{0});
}

TEST_CASE("a transport error after a normal end does not turn it into a failure", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::NonInvite, true, TimerConfig{}, clock.now, kRegister, wire.fn());
  tx.onResponse(200, clock.now, kNoAck);
  REQUIRE(tx.onTimer(clock.now) == TimerOutcome::Terminated);
  tx.onTransportError();
  CHECK_FALSE(tx.failed());
}

TEST_CASE("a transport error reported from inside send makes that onTimer a Timeout", "[transaction]") {
  FakeClock clock;
  std::optional<ClientTransaction> tx;
  int sends = 0;
  tx.emplace(TxKind::NonInvite, false, TimerConfig{}, clock.now, kRegister, [&](std::string_view) {
    if (++sends == 3) tx->onTransportError();  // the third send (second retransmission) fails
  });
  clock.set(500ms);
  CHECK(tx->onTimer(clock.now) == TimerOutcome::None);
  clock.set(1500ms);
  CHECK(tx->onTimer(clock.now) == TimerOutcome::Timeout);
  CHECK(tx->failed());
  CHECK(tx->state() == ClientState::Terminated);
  CHECK_FALSE(tx->nextDeadline());
  CHECK(sends == 3);
}

TEST_CASE("an overdue retransmission timer sends once and keeps the RFC schedule", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  clock.set(10s);  // A was due at 0.5, 1.5, 3.5 and 7.5 s
  CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
  CHECK(wire.times == std::vector<long long>{0, 10000});
  CHECK(ms(tx.nextDeadline()) == 15500);
  clock.set(40s);  // A at 15.5 and 31.5 s and B at 32 s are all due: B ends it, no send
  CHECK(tx.onTimer(clock.now) == TimerOutcome::Timeout);
  CHECK(wire.times.size() == 2);
}

TEST_CASE("an owner ticking every 10 ms sees the same schedule as one jumping to each deadline",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  std::vector<Fired> fired;
  while (clock.now < kStart + 40s) {
    clock.now += 10ms;
    if (const auto o = tx.onTimer(clock.now); o != TimerOutcome::None) fired.push_back({ms(clock.now), o});
  }
  CHECK(wire.times == std::vector<long long>{0, 500, 1500, 3500, 7500, 15500, 31500});
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
}

TEST_CASE("a status outside 100-699 is absorbed without a state change", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  AckBuilder ack;
  ClientTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, kInvite, wire.fn());
  const int status = GENERATE(0, 99, 700, -1, 1000);
  CHECK(tx.onResponse(status, clock.now, ack.fn()) == Verdict::Absorb);
  CHECK(tx.state() == ClientState::Calling);
  CHECK(ms(tx.nextDeadline()) == 500);
  CHECK(ack.calls == 0);
}

// ---------------------------------------------------------------------------------------
// Server, non-INVITE

TEST_CASE("Timer J: a non-INVITE server transaction absorbs retransmissions for 64*T1 over UDP",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::NonInvite, false, TimerConfig{}, clock.now, wire.fn());
  CHECK(tx.state() == ServerState::Trying);
  CHECK_FALSE(tx.nextDeadline());

  tx.onRequestRetransmission(clock.now);  // Trying: no response to repeat yet
  CHECK(wire.times.empty());

  clock.set(100ms);
  tx.respond(100, "100", clock.now);
  CHECK(tx.state() == ServerState::Proceeding);
  clock.set(500ms);
  tx.onRequestRetransmission(clock.now);
  CHECK(wire.bytes == std::vector<std::string>{"100", "100"});

  clock.set(1000ms);
  tx.respond(200, "200", clock.now);
  CHECK(tx.state() == ServerState::Completed);
  CHECK(tx.lastStatus() == 200);
  CHECK(ms(tx.nextDeadline()) == 1000 + 32000);
  clock.set(1500ms);
  tx.onRequestRetransmission(clock.now);
  tx.respond(500, "500", clock.now);  // a second final is not sent
  CHECK(wire.bytes == std::vector<std::string>{"100", "100", "200", "200"});
  CHECK(wire.times == std::vector<long long>{100, 500, 1000, 1500});
  CHECK(tx.lastStatus() == 200);

  const auto fired = runUntil(tx, clock, 60s);
  CHECK(fired == std::vector<Fired>{{33000, TimerOutcome::Terminated}});
  CHECK_FALSE(tx.failed());
  tx.onRequestRetransmission(clock.now);
  CHECK(wire.bytes.size() == 4);
}

TEST_CASE("Timer J is zero on a reliable transport and follows T1 on UDP", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);

  SECTION("TCP") {
    ServerTransaction tx(TxKind::NonInvite, true, TimerConfig{}, clock.now, wire.fn());
    clock.set(50ms);
    tx.respond(200, "200", clock.now);
    CHECK(tx.state() == ServerState::Completed);
    CHECK(ms(tx.nextDeadline()) == 50);
    CHECK(tx.onTimer(clock.now) == TimerOutcome::Terminated);
    CHECK(wire.times == std::vector<long long>{50});
  }

  SECTION("UDP, T1 = 100 ms") {
    ServerTransaction tx(TxKind::NonInvite, false, timers(100ms, 400ms, 1000ms), clock.now, wire.fn());
    clock.set(50ms);
    tx.respond(404, "404", clock.now);
    CHECK(runUntil(tx, clock, 60s) == std::vector<Fired>{{50 + 6400, TimerOutcome::Terminated}});
    CHECK(wire.times == std::vector<long long>{50});  // the server never retransmits a non-INVITE final
  }
}

// ---------------------------------------------------------------------------------------
// Server, INVITE

TEST_CASE("an INVITE server transaction starts in Proceeding and repeats its last provisional",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, wire.fn());
  CHECK(tx.state() == ServerState::Proceeding);
  tx.onRequestRetransmission(clock.now);  // nothing to repeat yet
  CHECK(wire.times.empty());
  tx.respond(100, "100", clock.now);
  clock.set(300ms);
  tx.respond(180, "180", clock.now);
  CHECK(tx.state() == ServerState::Proceeding);
  CHECK_FALSE(tx.nextDeadline());
  clock.set(600ms);
  tx.onRequestRetransmission(clock.now);
  CHECK(wire.bytes == std::vector<std::string>{"100", "180", "180"});
  CHECK_FALSE(tx.onAck(clock.now));  // an ACK before any final is not ours
  CHECK(tx.state() == ServerState::Proceeding);
}

TEST_CASE("Timer L: a 2xx moves the INVITE server transaction to Accepted for 64*T1", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  const bool reliable = GENERATE(false, true);  // L is 64*T1 on every transport
  ServerTransaction tx(TxKind::Invite, reliable, TimerConfig{}, clock.now, wire.fn());
  tx.respond(100, "100", clock.now);
  clock.set(1000ms);
  tx.respond(200, "200", clock.now);
  CHECK(tx.state() == ServerState::Accepted);
  CHECK(ms(tx.nextDeadline()) == 1000 + 32000);

  clock.set(1500ms);
  tx.onRequestRetransmission(clock.now);  // absorbed: the TU owns 2xx retransmission
  tx.respond(200, "200 again", clock.now);
  tx.respond(180, "180", clock.now);
  tx.respond(486, "486", clock.now);
  CHECK(wire.bytes == std::vector<std::string>{"100", "200", "200 again"});
  CHECK(tx.lastStatus() == 200);
  CHECK_FALSE(tx.onAck(clock.now));  // the ACK for a 2xx travels end to end
  CHECK(tx.state() == ServerState::Accepted);

  const auto fired = runUntil(tx, clock, 60s);
  CHECK(fired == std::vector<Fired>{{33000, TimerOutcome::Terminated}});
  tx.respond(200, "late 200", clock.now);
  CHECK(wire.bytes.size() == 3);
}

TEST_CASE("Timer G: a non-2xx final to an INVITE over UDP is retransmitted at T1 doubling, capped at T2",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, wire.fn());
  tx.respond(486, "486", clock.now);
  CHECK(tx.state() == ServerState::Completed);
  CHECK(ms(tx.nextDeadline()) == 500);
  const auto fired = runUntil(tx, clock, 32s);
  CHECK(wire.times ==
        std::vector<long long>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500});
  for (const auto& b : wire.bytes) CHECK(b == "486");
  CHECK(fired == std::vector<Fired>{{32000, TimerOutcome::Timeout}});
}

TEST_CASE("Timer G with non-default T1 and T2", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::Invite, false, timers(250ms, 1000ms, 5000ms), clock.now, wire.fn());
  clock.set(100ms);
  tx.respond(503, "503", clock.now);
  const auto fired = runUntil(tx, clock, 60s);
  CHECK(wire.times == std::vector<long long>{100, 350, 850, 1850, 2850, 3850, 4850, 5850, 6850, 7850, 8850, 9850,
                                             10850, 11850, 12850, 13850, 14850, 15850});
  CHECK(fired == std::vector<Fired>{{100 + 16000, TimerOutcome::Timeout}});
}

TEST_CASE("Timer G: a request retransmission in Completed repeats the final too", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, wire.fn());
  tx.respond(486, "486", clock.now);
  clock.set(200ms);
  tx.onRequestRetransmission(clock.now);
  CHECK(ms(tx.nextDeadline()) == 500);  // does not disturb G's schedule
  runUntil(tx, clock, 2s);
  CHECK(wire.times == std::vector<long long>{0, 200, 500, 1500});
}

TEST_CASE("Timer H: no ACK within 64*T1 fails the transaction; over TCP without retransmission",
          "[transaction]") {
  FakeClock clock;
  Wire wire(clock);

  SECTION("TCP") {
    ServerTransaction tx(TxKind::Invite, true, TimerConfig{}, clock.now, wire.fn());
    clock.set(1000ms);
    tx.respond(480, "480", clock.now);
    CHECK(ms(tx.nextDeadline()) == 33000);
    const auto fired = runUntil(tx, clock, 60s);
    CHECK(wire.times == std::vector<long long>{1000});
    CHECK(fired == std::vector<Fired>{{33000, TimerOutcome::Timeout}});
    CHECK(tx.failed());
    CHECK(tx.state() == ServerState::Terminated);
    CHECK_FALSE(tx.onAck(clock.now));  // too late
  }

  SECTION("UDP, T1 = 100 ms") {
    ServerTransaction tx(TxKind::Invite, false, timers(100ms, 400ms, 1000ms), clock.now, wire.fn());
    tx.respond(480, "480", clock.now);
    const auto fired = runUntil(tx, clock, 60s);
    CHECK(fired == std::vector<Fired>{{6400, TimerOutcome::Timeout}});
    CHECK(wire.times.back() == 6300);  // 100, 300, 700, then every 400 ms
  }
}

TEST_CASE("Timer I: the ACK confirms, stops G and H, and later ACKs are absorbed for T4", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, wire.fn());
  tx.respond(486, "486", clock.now);
  runUntil(tx, clock, 2s);
  REQUIRE(wire.times == std::vector<long long>{0, 500, 1500});

  clock.set(2000ms);
  CHECK(tx.onAck(clock.now));
  CHECK(tx.state() == ServerState::Confirmed);
  CHECK(ms(tx.nextDeadline()) == 2000 + 5000);
  clock.set(3000ms);
  CHECK(tx.onAck(clock.now));             // ACK retransmission: absorbed
  tx.onRequestRetransmission(clock.now);  // a late INVITE copy: absorbed as well
  tx.respond(200, "200", clock.now);
  CHECK(tx.state() == ServerState::Confirmed);

  const auto fired = runUntil(tx, clock, 60s);
  CHECK(fired == std::vector<Fired>{{7000, TimerOutcome::Terminated}});
  CHECK(wire.times == std::vector<long long>{0, 500, 1500});  // no G after the ACK, no H
  CHECK_FALSE(tx.failed());
  CHECK_FALSE(tx.onAck(clock.now));
}

TEST_CASE("Timer I follows T4, and is zero on a reliable transport", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);

  SECTION("UDP, T4 = 1.2 s") {
    ServerTransaction tx(TxKind::Invite, false, timers(500ms, 4000ms, 1200ms), clock.now, wire.fn());
    tx.respond(404, "404", clock.now);
    clock.set(300ms);
    REQUIRE(tx.onAck(clock.now));
    CHECK(runUntil(tx, clock, 60s) == std::vector<Fired>{{1500, TimerOutcome::Terminated}});
    CHECK(wire.times == std::vector<long long>{0});  // the ACK came before G's first firing
  }

  SECTION("TCP") {
    ServerTransaction tx(TxKind::Invite, true, TimerConfig{}, clock.now, wire.fn());
    tx.respond(404, "404", clock.now);
    clock.set(300ms);
    REQUIRE(tx.onAck(clock.now));
    CHECK(tx.state() == ServerState::Confirmed);
    CHECK(ms(tx.nextDeadline()) == 300);
    CHECK(tx.onAck(clock.now));  // same instant: still absorbed
    CHECK(tx.onTimer(clock.now) == TimerOutcome::Terminated);
    CHECK_FALSE(tx.nextDeadline());
  }
}

// ---------------------------------------------------------------------------------------
// Server, edge cases

TEST_CASE("an ACK means nothing to a non-INVITE server transaction", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::NonInvite, false, TimerConfig{}, clock.now, wire.fn());
  tx.respond(404, "404", clock.now);
  CHECK_FALSE(tx.onAck(clock.now));
  CHECK(tx.state() == ServerState::Completed);
}

TEST_CASE("a server transport error terminates the transaction as failed", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);

  SECTION("reported by the owner") {
    ServerTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, wire.fn());
    tx.respond(486, "486", clock.now);
    tx.onTransportError();
    CHECK(tx.state() == ServerState::Terminated);
    CHECK(tx.failed());
    CHECK_FALSE(tx.nextDeadline());
    clock.set(1s);
    CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
    tx.onRequestRetransmission(clock.now);
    CHECK(wire.times == std::vector<long long>{0});
  }

  SECTION("reported from inside send during Timer G") {
    std::optional<ServerTransaction> tx;
    int sends = 0;
    tx.emplace(TxKind::Invite, false, TimerConfig{}, clock.now, [&](std::string_view) {
      if (++sends == 2) tx->onTransportError();
    });
    tx->respond(486, "486", clock.now);
    clock.set(500ms);
    CHECK(tx->onTimer(clock.now) == TimerOutcome::Timeout);
    CHECK(tx->failed());
    CHECK_FALSE(tx->nextDeadline());
    CHECK(sends == 2);
  }
}

TEST_CASE("an overdue Timer G sends once and keeps the RFC schedule", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::Invite, false, TimerConfig{}, clock.now, wire.fn());
  tx.respond(486, "486", clock.now);
  clock.set(12s);  // G was due at 0.5, 1.5, 3.5, 7.5 and 11.5 s
  CHECK(tx.onTimer(clock.now) == TimerOutcome::None);
  CHECK(wire.times == std::vector<long long>{0, 12000});
  CHECK(ms(tx.nextDeadline()) == 15500);
}

TEST_CASE("a server ignores a status outside 100-699", "[transaction]") {
  FakeClock clock;
  Wire wire(clock);
  ServerTransaction tx(TxKind::NonInvite, false, TimerConfig{}, clock.now, wire.fn());
  tx.respond(99, "99", clock.now);
  tx.respond(700, "700", clock.now);
  CHECK(wire.times.empty());
  CHECK(tx.state() == ServerState::Trying);
  CHECK(tx.lastStatus() == 0);
}

TEST_CASE("a client transaction frees its request's bytes on request once a final has come", "[transaction]") {
  const TimerConfig timers;
  const TimePoint t0{};
  int sent = 0;
  ClientTransaction tx(TxKind::NonInvite, false, timers, t0, "REGISTER sip:x SIP/2.0\r\n\r\n",
                       [&](std::string_view) { ++sent; });
  tx.releaseRequest();  // no final yet: still needed for retransmissions
  CHECK_FALSE(tx.request().empty());
  tx.onResponse(200, t0 + std::chrono::milliseconds(10), nullptr);
  tx.releaseRequest();
  CHECK(tx.request().empty());
  CHECK(tx.state() == ClientTransaction::State::Completed);
  CHECK(sent == 1);
}
