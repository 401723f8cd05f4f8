#pragma once

#include "core/clock.h"
#include "core/timer_config.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace switchback {

// RFC 3261 §17 transactions (with the RFC 6026 Accepted states) as pure state machines:
// the owner passes the time in every call and gives a send function; the machine decides
// when to (re)transmit and reports what the owner must do. No I/O, no clock, no allocation
// per timer.
//
// Conventions shared by both machines:
// - A timer of zero duration (D, K, I, J on a reliable transport) is still a timer: the
//   machine stays in Completed/Confirmed with nextDeadline() == the `now` of the event that
//   armed it, and the transition happens on the next onTimer() at that same instant. The
//   owner therefore has one path to Terminated (onTimer), and a response or ACK that arrives
//   in the same turn is still absorbed.
// - onTimer(now) fires every timer that is due. A timer that ends the transaction (B, F, H,
//   D, K, M, I, J, L) wins over a retransmission due at the same time: nobody would listen
//   for the answer. A retransmission timer overdue by several intervals (a stalled loop)
//   sends once and keeps its RFC schedule (the next slot after `now`): a burst of identical
//   copies would only add load when the process is already behind.
// - send is called only after the machine's state is consistent, so it may call
//   onTransportError() re-entrantly.
// - A transaction fails (failed() == true, state Terminated) when B, F or H fires or the
//   owner reports a transport error. onTimer() returns Timeout for a failure that happened
//   during that call, including a transport error reported from inside send; after
//   onTransportError() called outside onTimer() the owner already knows, so the machine
//   has no deadline left and onTimer() returns None.

enum class TxKind { Invite, NonInvite };

using SendFn = std::function<void(std::string_view bytes)>;

enum class TimerOutcome {
  None,        // nothing the owner must act on (maybe a retransmission was sent)
  Timeout,     // B or F fired (client) / H fired (server): the transaction failed; it is now Terminated
  Terminated,  // ended normally (D, K, I, J, L, M): the owner may forget it
};

/// Client transaction (§17.1): sends the request at construction.
class ClientTransaction {
public:
  enum class State { Calling, Trying, Proceeding, Accepted, Completed, Terminated };
  enum class Verdict { Forward, Absorb };

  ClientTransaction(TxKind kind, bool reliable, const TimerConfig& timers, TimePoint now,
                    std::string request, SendFn send);

  /// A response matched this transaction. For an INVITE's first non-2xx final response the
  /// machine sends the ACK that buildAck returns (nothing if it returns ""), and resends those
  /// same bytes for every retransmission of a non-2xx final while Completed.
  /// Forward: pass it to the TU; Absorb: a retransmission the TU must not see. In Accepted
  /// every 2xx is forwarded (RFC 6026 §8.4: a proxy passes 2xx retransmissions upstream).
  /// A status outside 100-699 is absorbed without a state change.
  Verdict onResponse(int status, TimePoint now, const std::function<std::string()>& buildAck);

  /// Fires every timer due at `now`.
  TimerOutcome onTimer(TimePoint now);

  /// A transport error (ICMP unreachable, TCP reset) while sending: as a timeout (§17.1.4).
  /// Terminated at once, failed() becomes true, no further sends.
  void onTransportError();

  /// The earliest pending timer; nullopt once Terminated.
  std::optional<TimePoint> nextDeadline() const;
  State state() const { return state_; }
  TxKind kind() const { return kind_; }
  const std::string& request() const { return request_; }
  /// Frees the request's bytes once a final response has come (nothing retransmits them any
  /// more; an owner that needs them reads request() first). A no-op before that.
  void releaseRequest();
  /// True once Timer B/F fired or a transport error was reported.
  bool failed() const { return failed_; }

private:
  void scheduleNextRetransmit();
  void terminate(bool failed);

  TxKind kind_;
  bool reliable_;
  TimerConfig timers_;
  std::string request_;
  SendFn send_;
  State state_;
  std::optional<TimePoint> retransmitAt_;  // A or E
  Millis retransmitInterval_{0};
  std::optional<TimePoint> timeoutAt_;     // B or F
  std::optional<TimePoint> endAt_;         // D, K or M
  std::string ack_;                        // kept to answer retransmitted finals in Completed
  bool failed_ = false;
};

/// Server transaction (§17.2): created when a request arrives.
class ServerTransaction {
public:
  enum class State { Trying, Proceeding, Completed, Confirmed, Accepted, Terminated };

  ServerTransaction(TxKind kind, bool reliable, const TimerConfig& timers, TimePoint now, SendFn send);

  /// The TU responds: the machine sends `bytes` and keeps the last one for retransmissions.
  /// For an INVITE a 2xx moves to Accepted (RFC 6026); later 2xx retransmissions pass through here too.
  void respond(int status, std::string bytes, TimePoint now);

  /// The same request arrived again: resend the last response in Proceeding or Completed;
  /// absorb it silently in Trying (no response yet), Accepted, Confirmed and Terminated.
  /// Never reaches the TU.
  void onRequestRetransmission(TimePoint now);

  /// An ACK for a non-2xx final (INVITE only): Completed → Confirmed. Returns true if absorbed
  /// (Completed or Confirmed); false otherwise, e.g. in Accepted, where the ACK belongs to the
  /// 2xx and travels end to end (§17.2.1, RFC 6026 §7.1).
  bool onAck(TimePoint now);

  /// Fires every timer due at `now`.
  TimerOutcome onTimer(TimePoint now);

  /// A transport error while sending a response: Terminated at once, failed() becomes true.
  void onTransportError();

  /// The earliest pending timer; nullopt once Terminated (and before any final response).
  std::optional<TimePoint> nextDeadline() const;
  State state() const { return state_; }
  TxKind kind() const { return kind_; }
  int lastStatus() const { return lastStatus_; }
  /// The last response sent, as resent for a retransmitted request.
  const std::string& lastResponse() const { return lastResponse_; }
  /// True once Timer H fired (no ACK) or a transport error was reported.
  bool failed() const { return failed_; }

private:
  void terminate(bool failed);

  TxKind kind_;
  bool reliable_;
  TimerConfig timers_;
  SendFn send_;
  State state_;
  int lastStatus_ = 0;
  std::string lastResponse_;
  std::optional<TimePoint> retransmitAt_;  // G
  Millis retransmitInterval_{0};
  std::optional<TimePoint> timeoutAt_;     // H
  std::optional<TimePoint> endAt_;         // I, J or L
  bool failed_ = false;
};

} // namespace switchback
