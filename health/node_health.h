#pragma once

#include "core/clock.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchback {

struct HealthConfig {
  Millis probeInterval{200};     // OPTIONS every 200 ms …
  Millis probeTimeout{300};      // … each answered within 300 ms …
  int failuresToDown = 2;        // … two misses in a row: down (a dead node is seen within 1 s)
  int successesToUp = 3;         // three answers in a row bring it back: hysteresis against flapping
};

/// The state of one upstream node (cf. kamailio's dispatcher flags): Up; Trying (failures
/// seen but under the threshold, or answers seen while down but under the threshold); Down;
/// Disabled by an operator. Others see only edges: up→down and down→up.
enum class NodeState { Up, Trying, Down, Disabled };
std::string_view nodeStateName(NodeState s);

struct HealthEdge {
  bool nowUp;               // true: down→up; false: up→down
  std::string reason;
};

class NodeHealth {
public:
  /// `since`: when the node entered service (its state is "configured" until probes tell).
  explicit NodeHealth(const HealthConfig& config, TimePoint since = {}) : config_(config), since_(since) {}

  /// Each returns the edge it caused, if any.
  std::optional<HealthEdge> onSuccess(TimePoint now);
  std::optional<HealthEdge> onFailure(TimePoint now, std::string_view reason);
  /// 503 with Retry-After (RFC 3263 §4.3): unusable for that long, whatever the probes say.
  std::optional<HealthEdge> onRetryAfter(TimePoint now, Seconds retryAfter);
  std::optional<HealthEdge> disable(TimePoint now);
  std::optional<HealthEdge> enable(TimePoint now);

  void reconfigure(const HealthConfig& config) { config_ = config; }

  NodeState state() const { return state_; }
  /// Usable for traffic: up (or trying while still up) and not held off by Retry-After.
  bool usable(TimePoint now) const;
  TimePoint since() const { return since_; }
  const std::string& reason() const { return reason_; }

private:
  std::optional<HealthEdge> setUp(bool up, TimePoint now, std::string reason);

  HealthConfig config_;
  NodeState state_ = NodeState::Up;
  bool up_ = true;               // the side of the hysteresis we are on
  int failures_ = 0;
  int successes_ = 0;
  std::optional<TimePoint> heldUntil_;
  TimePoint since_{};
  std::string reason_ = "configured";
};

} // namespace switchback
