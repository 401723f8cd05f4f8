#include "health/node_health.h"

namespace switchback {

std::string_view nodeStateName(NodeState s) {
  switch (s) {
  case NodeState::Up: return "up";
  case NodeState::Trying: return "trying";
  case NodeState::Down: return "down";
  case NodeState::Disabled: return "disabled";
  }
  return "up";
}

std::optional<HealthEdge> NodeHealth::setUp(bool up, TimePoint now, std::string reason) {
  const bool changed = up != up_;
  up_ = up;
  state_ = up ? NodeState::Up : NodeState::Down;
  failures_ = successes_ = 0;
  if (!changed) return std::nullopt;
  since_ = now;
  reason_ = reason;
  return HealthEdge{up, std::move(reason)};
}

std::optional<HealthEdge> NodeHealth::onSuccess(TimePoint now) {
  if (state_ == NodeState::Disabled) return std::nullopt;
  failures_ = 0;
  if (up_) {
    state_ = NodeState::Up;
    return std::nullopt;
  }
  if (heldUntil_ && now < *heldUntil_) return std::nullopt;
  if (++successes_ >= config_.successesToUp) return setUp(true, now, "answering again");
  state_ = NodeState::Trying;
  return std::nullopt;
}

std::optional<HealthEdge> NodeHealth::onFailure(TimePoint now, std::string_view reason) {
  if (state_ == NodeState::Disabled) return std::nullopt;
  successes_ = 0;
  if (!up_) {
    state_ = NodeState::Down;
    return std::nullopt;
  }
  if (++failures_ >= config_.failuresToDown) return setUp(false, now, std::string(reason));
  state_ = NodeState::Trying;
  return std::nullopt;
}

std::optional<HealthEdge> NodeHealth::onRetryAfter(TimePoint now, Seconds retryAfter) {
  heldUntil_ = now + retryAfter;
  if (state_ == NodeState::Disabled) return std::nullopt;
  return setUp(false, now, "503 with Retry-After " + std::to_string(retryAfter.count()) + " s");
}

std::optional<HealthEdge> NodeHealth::disable(TimePoint now) {
  if (state_ == NodeState::Disabled) return std::nullopt;
  const bool wasUp = up_;
  up_ = false;
  state_ = NodeState::Disabled;
  failures_ = successes_ = 0;
  since_ = now;
  reason_ = "disabled by operator";
  if (!wasUp) return std::nullopt;
  return HealthEdge{false, reason_};
}

std::optional<HealthEdge> NodeHealth::enable(TimePoint now) {
  if (state_ != NodeState::Disabled) return std::nullopt;
  // Back in service only once probes confirm it: start on the down side of the hysteresis.
  state_ = NodeState::Down;
  since_ = now;
  reason_ = "enabled by operator, awaiting probes";
  return std::nullopt;
}

bool NodeHealth::usable(TimePoint now) const {
  if (!up_ || state_ == NodeState::Disabled) return false;
  return !(heldUntil_ && now < *heldUntil_);
}

} // namespace switchback
