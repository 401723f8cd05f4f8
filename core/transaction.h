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

  /// A response matched this transaction. For an INVITE's non-2xx final response
  /// (first or retransmitted) the machine sends the ACK that buildAck returns.
  /// Forward: pass it to the TU; Absorb: a retransmission the TU must not see.
  Verdict onResponse(int status, TimePoint now, const std::function<std::string()>& buildAck);

  /// Fires every timer due at `now`.
  TimerOutcome onTimer(TimePoint now);

  /// A transport error (ICMP unreachable, TCP reset) while sending: as a timeout (§17.1.4).
  void onTransportError();

  std::optional<TimePoint> nextDeadline() const;
  State state() const { return state_; }
  TxKind kind() const { return kind_; }
  const std::string& request() const { return request_; }

private:
  // implementation-defined members
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
  std::string ack_;
};

/// Server transaction (§17.2): created when a request arrives.
class ServerTransaction {
public:
  enum class State { Trying, Proceeding, Completed, Confirmed, Accepted, Terminated };

  ServerTransaction(TxKind kind, bool reliable, const TimerConfig& timers, TimePoint now, SendFn send);

  /// The TU responds: the machine sends `bytes` and keeps the last one for retransmissions.
  /// For an INVITE a 2xx moves to Accepted (RFC 6026); later 2xx retransmissions pass through here too.
  void respond(int status, std::string bytes, TimePoint now);

  /// The same request arrived again: resend the last response, if any. Never reaches the TU.
  void onRequestRetransmission(TimePoint now);

  /// An ACK for a non-2xx final (INVITE only): Completed → Confirmed. Returns true if absorbed.
  bool onAck(TimePoint now);

  TimerOutcome onTimer(TimePoint now);
  void onTransportError();

  std::optional<TimePoint> nextDeadline() const;
  State state() const { return state_; }
  TxKind kind() const { return kind_; }
  int lastStatus() const { return lastStatus_; }

private:
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
};

} // namespace switchback
