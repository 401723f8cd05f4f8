#include "core/transaction.h"

#include <algorithm>

namespace switchback {

namespace {

std::optional<TimePoint> earliest(std::initializer_list<std::optional<TimePoint>> ts) {
  std::optional<TimePoint> best;
  for (const auto& t : ts)
    if (t && (!best || *t < *best)) best = t;
  return best;
}

bool due(const std::optional<TimePoint>& t, TimePoint now) { return t && *t <= now; }

} // namespace

// ---------------------------------------------------------------------------------------
// Client

ClientTransaction::ClientTransaction(TxKind kind, bool reliable, const TimerConfig& timers, TimePoint now,
                                     std::string request, SendFn send)
    : kind_(kind), reliable_(reliable), timers_(timers), request_(std::move(request)), send_(std::move(send)),
      state_(kind == TxKind::Invite ? State::Calling : State::Trying) {
  if (!reliable_) {  // Timer A / Timer E
    retransmitInterval_ = timers_.t1;
    retransmitAt_ = now + retransmitInterval_;
  }
  timeoutAt_ = now + 64 * timers_.t1;  // Timer B / Timer F
  send_(request_);
}

ClientTransaction::Verdict ClientTransaction::onResponse(int status, TimePoint now,
                                                         const std::function<std::string()>& buildAck) {
  const bool provisional = status < 200;
  switch (state_) {
  case State::Calling:
  case State::Trying:
  case State::Proceeding:
    if (provisional) {
      if (kind_ == TxKind::Invite) {
        retransmitAt_.reset();  // §17.1.1.2: no more A, and B no longer applies
        timeoutAt_.reset();
      } else if (retransmitAt_) {
        // §17.1.2.2: in Proceeding, E fires every T2.
        retransmitInterval_ = timers_.t2;
      }
      state_ = State::Proceeding;
      return Verdict::Forward;
    }
    retransmitAt_.reset();
    timeoutAt_.reset();
    if (kind_ == TxKind::Invite && status < 300) {
      state_ = State::Accepted;  // RFC 6026: absorb nothing, forward 2xx retransmissions
      endAt_ = now + 64 * timers_.t1;  // Timer M
      return Verdict::Forward;
    }
    state_ = State::Completed;
    if (kind_ == TxKind::Invite) {
      ack_ = buildAck();
      if (!ack_.empty()) send_(ack_);
      endAt_ = now + (reliable_ ? Millis(0) : Millis(32000));  // Timer D
    } else {
      endAt_ = now + (reliable_ ? Millis(0) : timers_.t4);  // Timer K
    }
    return Verdict::Forward;
  case State::Accepted:
    return status >= 200 && status < 300 ? Verdict::Forward : Verdict::Absorb;
  case State::Completed:
    if (kind_ == TxKind::Invite && !provisional && !ack_.empty()) send_(ack_);  // the final was retransmitted
    return Verdict::Absorb;
  case State::Terminated:
    return Verdict::Absorb;
  }
  return Verdict::Absorb;
}

TimerOutcome ClientTransaction::onTimer(TimePoint now) {
  if (state_ == State::Terminated) return TimerOutcome::None;
  if (due(timeoutAt_, now)) {  // B or F
    state_ = State::Terminated;
    retransmitAt_.reset();
    timeoutAt_.reset();
    endAt_.reset();
    return TimerOutcome::Timeout;
  }
  if (due(endAt_, now)) {  // D, K or M
    state_ = State::Terminated;
    retransmitAt_.reset();
    endAt_.reset();
    return TimerOutcome::Terminated;
  }
  while (due(retransmitAt_, now)) {  // A or E, once per interval that has passed
    send_(request_);
    if (kind_ == TxKind::Invite) retransmitInterval_ *= 2;  // Timer A doubles without a cap
    else retransmitInterval_ = std::min(retransmitInterval_ * 2, timers_.t2);
    if (state_ == State::Proceeding && kind_ == TxKind::NonInvite) retransmitInterval_ = timers_.t2;
    *retransmitAt_ += retransmitInterval_;
  }
  return TimerOutcome::None;
}

void ClientTransaction::onTransportError() {
  state_ = State::Terminated;
  retransmitAt_.reset();
  timeoutAt_.reset();
  endAt_.reset();
}

std::optional<TimePoint> ClientTransaction::nextDeadline() const {
  if (state_ == State::Terminated) return std::nullopt;
  return earliest({retransmitAt_, timeoutAt_, endAt_});
}

// ---------------------------------------------------------------------------------------
// Server

ServerTransaction::ServerTransaction(TxKind kind, bool reliable, const TimerConfig& timers, TimePoint, SendFn send)
    : kind_(kind), reliable_(reliable), timers_(timers), send_(std::move(send)),
      state_(kind == TxKind::Invite ? State::Proceeding : State::Trying) {}

void ServerTransaction::respond(int status, std::string bytes, TimePoint now) {
  const bool provisional = status < 200;
  switch (state_) {
  case State::Trying:
  case State::Proceeding:
    break;
  case State::Accepted:
    // RFC 6026 §7.1: further 2xx from the TU (retransmissions, other branches) pass through.
    if (status >= 200 && status < 300) send_(bytes);
    return;
  default:
    return;  // a final was sent already
  }
  lastStatus_ = status;
  lastResponse_ = std::move(bytes);
  send_(lastResponse_);
  if (provisional) {
    state_ = State::Proceeding;
    return;
  }
  if (kind_ == TxKind::Invite) {
    if (status < 300) {
      state_ = State::Accepted;
      endAt_ = now + 64 * timers_.t1;  // Timer L
      return;
    }
    state_ = State::Completed;
    if (!reliable_) {  // Timer G
      retransmitInterval_ = timers_.t1;
      retransmitAt_ = now + retransmitInterval_;
    }
    timeoutAt_ = now + 64 * timers_.t1;  // Timer H
    return;
  }
  state_ = State::Completed;
  endAt_ = now + (reliable_ ? Millis(0) : 64 * timers_.t1);  // Timer J
}

void ServerTransaction::onRequestRetransmission(TimePoint) {
  if ((state_ == State::Proceeding || state_ == State::Completed) && !lastResponse_.empty()) send_(lastResponse_);
}

bool ServerTransaction::onAck(TimePoint now) {
  if (kind_ != TxKind::Invite) return false;
  if (state_ == State::Confirmed) return true;
  if (state_ != State::Completed) return false;
  state_ = State::Confirmed;
  retransmitAt_.reset();
  timeoutAt_.reset();
  endAt_ = now + (reliable_ ? Millis(0) : timers_.t4);  // Timer I
  return true;
}

TimerOutcome ServerTransaction::onTimer(TimePoint now) {
  if (state_ == State::Terminated) return TimerOutcome::None;
  if (due(timeoutAt_, now)) {  // H: the ACK never came
    state_ = State::Terminated;
    retransmitAt_.reset();
    timeoutAt_.reset();
    return TimerOutcome::Timeout;
  }
  if (due(endAt_, now)) {  // I, J or L
    state_ = State::Terminated;
    endAt_.reset();
    return TimerOutcome::Terminated;
  }
  while (due(retransmitAt_, now)) {  // G
    send_(lastResponse_);
    retransmitInterval_ = std::min(retransmitInterval_ * 2, timers_.t2);
    *retransmitAt_ += retransmitInterval_;
  }
  return TimerOutcome::None;
}

void ServerTransaction::onTransportError() {
  state_ = State::Terminated;
  retransmitAt_.reset();
  timeoutAt_.reset();
  endAt_.reset();
}

std::optional<TimePoint> ServerTransaction::nextDeadline() const {
  if (state_ == State::Terminated) return std::nullopt;
  return earliest({retransmitAt_, timeoutAt_, endAt_});
}

} // namespace switchback
