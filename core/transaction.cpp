#include "core/transaction.h"

#include <algorithm>
#include <initializer_list>

namespace switchback {

namespace {

// RFC 3261 §17.1.1.2 says "at least 32 seconds"; 32 s is 64*T1 at the default T1.
constexpr Millis kTimerD{32000};

// A zero or negative interval would never move the next retransmission past `now` and
// spin onTimer forever; conf/ rejects such values, but a pure machine must not hang on them.
Millis atLeastOneMs(Millis interval) { return std::max(interval, Millis(1)); }

std::optional<TimePoint> earliest(std::initializer_list<std::optional<TimePoint>> deadlines) {
  std::optional<TimePoint> best;
  for (const auto& t : deadlines)
    if (t && (!best || *t < *best)) best = t;
  return best;
}

bool due(const std::optional<TimePoint>& deadline, TimePoint now) { return deadline && *deadline <= now; }

bool isSuccess(int status) { return status >= 200 && status < 300; }
bool isValidStatus(int status) { return status >= 100 && status <= 699; }

} // namespace

// ---------------------------------------------------------------------------------------
// Client

ClientTransaction::ClientTransaction(TxKind kind, bool reliable, const TimerConfig& timers, TimePoint now,
                                     std::string request, SendFn send)
    : kind_(kind), reliable_(reliable), timers_(timers), request_(std::move(request)), send_(std::move(send)),
      state_(kind == TxKind::Invite ? State::Calling : State::Trying) {
  if (!reliable_) {  // Timer A / Timer E: a reliable transport retransmits for us
    retransmitInterval_ = atLeastOneMs(timers_.t1);
    retransmitAt_ = now + retransmitInterval_;
  }
  timeoutAt_ = now + 64 * timers_.t1;  // Timer B / Timer F
  send_(request_);
}

void ClientTransaction::releaseRequest() {
  // A transaction lives on for Timer K/D/M after its final, and its context for the server
  // side's Timer J (32 s over UDP): thousands a second would keep every request's bytes.
  if (state_ == State::Completed || state_ == State::Accepted || state_ == State::Terminated)
    std::string().swap(request_);
}

ClientTransaction::Verdict ClientTransaction::onResponse(int status, TimePoint now,
                                                         const std::function<std::string()>& buildAck) {
  if (!isValidStatus(status)) return Verdict::Absorb;
  const bool provisional = status < 200;
  switch (state_) {
  case State::Calling:
  case State::Trying:
  case State::Proceeding:
    if (provisional) {
      if (kind_ == TxKind::Invite) {
        // §17.1.1.2: the server is alive; from here Timer C in the TU bounds the wait.
        retransmitAt_.reset();
        timeoutAt_.reset();
      }
      // Non-INVITE keeps E (re-armed at T2 after its next firing, §17.1.2.2) and F.
      state_ = State::Proceeding;
      return Verdict::Forward;
    }
    retransmitAt_.reset();
    timeoutAt_.reset();
    if (kind_ == TxKind::Invite && isSuccess(status)) {
      state_ = State::Accepted;
      endAt_ = now + 64 * timers_.t1;  // Timer M, on every transport (RFC 6026 §8.4)
      return Verdict::Forward;
    }
    state_ = State::Completed;
    if (kind_ == TxKind::NonInvite) {
      endAt_ = now + (reliable_ ? Millis(0) : timers_.t4);  // Timer K
      return Verdict::Forward;
    }
    endAt_ = now + (reliable_ ? Millis(0) : kTimerD);  // Timer D
    ack_ = buildAck ? buildAck() : std::string();
    if (!ack_.empty()) send_(ack_);
    return Verdict::Forward;
  case State::Accepted:
    return isSuccess(status) ? Verdict::Forward : Verdict::Absorb;
  case State::Completed:
    // The server did not get our ACK and retransmitted its final: ACK again. A 2xx here is
    // not a retransmission of what we ACKed, and the hop-by-hop ACK would not match it.
    if (kind_ == TxKind::Invite && status >= 300 && !ack_.empty()) send_(ack_);
    return Verdict::Absorb;
  case State::Terminated:
    return Verdict::Absorb;
  }
  return Verdict::Absorb;
}

void ClientTransaction::scheduleNextRetransmit() {
  if (kind_ == TxKind::Invite)
    retransmitInterval_ *= 2;  // Timer A doubles with no cap; B ends it first
  else if (state_ == State::Proceeding)
    retransmitInterval_ = timers_.t2;
  else
    retransmitInterval_ = std::min(retransmitInterval_ * 2, timers_.t2);
  retransmitInterval_ = atLeastOneMs(retransmitInterval_);
  *retransmitAt_ += retransmitInterval_;
}

TimerOutcome ClientTransaction::onTimer(TimePoint now) {
  if (state_ == State::Terminated) return TimerOutcome::None;
  if (due(timeoutAt_, now)) {  // B or F
    terminate(true);
    return TimerOutcome::Timeout;
  }
  if (due(endAt_, now)) {  // D, K or M
    terminate(false);
    return TimerOutcome::Terminated;
  }
  if (due(retransmitAt_, now)) {  // A or E
    do scheduleNextRetransmit();
    while (*retransmitAt_ <= now);
    send_(request_);
    if (failed_) return TimerOutcome::Timeout;  // send reported a transport error
  }
  return TimerOutcome::None;
}

void ClientTransaction::onTransportError() {
  if (state_ != State::Terminated) terminate(true);
}

void ClientTransaction::terminate(bool failed) {
  state_ = State::Terminated;
  failed_ = failed_ || failed;
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
  if (!isValidStatus(status)) return;
  switch (state_) {
  case State::Trying:
  case State::Proceeding:
    break;
  case State::Accepted:
    // RFC 6026 §7.1: the TU retransmits its 2xx (or another branch answers) through us.
    if (isSuccess(status)) {
      lastStatus_ = status;
      send_(bytes);
    }
    return;
  case State::Completed:
  case State::Confirmed:
  case State::Terminated:
    return;  // a final was sent already; one final per transaction
  }
  lastStatus_ = status;
  lastResponse_ = std::move(bytes);
  if (status < 200) {
    state_ = State::Proceeding;
  } else if (kind_ == TxKind::Invite && isSuccess(status)) {
    state_ = State::Accepted;
    endAt_ = now + 64 * timers_.t1;  // Timer L, on every transport
  } else if (kind_ == TxKind::Invite) {
    state_ = State::Completed;
    if (!reliable_) {  // Timer G
      retransmitInterval_ = atLeastOneMs(timers_.t1);
      retransmitAt_ = now + retransmitInterval_;
    }
    timeoutAt_ = now + 64 * timers_.t1;  // Timer H
  } else {
    state_ = State::Completed;
    endAt_ = now + (reliable_ ? Millis(0) : 64 * timers_.t1);  // Timer J
  }
  send_(lastResponse_);
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
  endAt_ = now + (reliable_ ? Millis(0) : timers_.t4);  // Timer I: absorbs ACK retransmissions
  return true;
}

TimerOutcome ServerTransaction::onTimer(TimePoint now) {
  if (state_ == State::Terminated) return TimerOutcome::None;
  if (due(timeoutAt_, now)) {  // H: the ACK never came
    terminate(true);
    return TimerOutcome::Timeout;
  }
  if (due(endAt_, now)) {  // I, J or L
    terminate(false);
    return TimerOutcome::Terminated;
  }
  if (due(retransmitAt_, now)) {  // G
    do {
      retransmitInterval_ = atLeastOneMs(std::min(retransmitInterval_ * 2, timers_.t2));
      *retransmitAt_ += retransmitInterval_;
    } while (*retransmitAt_ <= now);
    send_(lastResponse_);
    if (failed_) return TimerOutcome::Timeout;  // send reported a transport error
  }
  return TimerOutcome::None;
}

void ServerTransaction::onTransportError() {
  if (state_ != State::Terminated) terminate(true);
}

void ServerTransaction::terminate(bool failed) {
  state_ = State::Terminated;
  failed_ = failed_ || failed;
  retransmitAt_.reset();
  timeoutAt_.reset();
  endAt_.reset();
}

std::optional<TimePoint> ServerTransaction::nextDeadline() const {
  if (state_ == State::Terminated) return std::nullopt;
  return earliest({retransmitAt_, timeoutAt_, endAt_});
}

} // namespace switchback
