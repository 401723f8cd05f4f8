#include "routing/upstream_router.h"

namespace switchback {

std::optional<NextHop> UpstreamRouter::upstreamFor(std::string_view, std::string_view) {
  const TimePoint now = clock_();
  for (const auto& n : nodes_.nodes())
    if (health_.usable(n.index, now)) return hop(n);
  return std::nullopt;
}

std::optional<NextHop> UpstreamRouter::nodeAt(const Endpoint& address) const {
  if (const UpstreamNode* n = nodes_.findBySource(address)) return hop(*n);
  return std::nullopt;
}

void UpstreamRouter::observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) {
  static constexpr HealthMonitor::Outcome kMap[] = {HealthMonitor::Outcome::Answered, HealthMonitor::Outcome::Unavailable,
                                                    HealthMonitor::Outcome::Timeout, HealthMonitor::Outcome::TransportError};
  health_.observe(node, kMap[static_cast<int>(outcome)], retryAfter, now);
}

} // namespace switchback
