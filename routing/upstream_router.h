#pragma once

#include "core/proxy_engine.h"
#include "health/health_monitor.h"
#include "health/node_table.h"

namespace switchback {

/// Chooses the upstream node for requests from phones: the first usable node in priority
/// order (the advisory's behaviour with reRegisterOn=0, where nodes share registrations).
/// Reports what traffic shows about each node to the health monitor.
class UpstreamRouter : public UpstreamPolicy {
public:
  UpstreamRouter(const NodeTable& nodes, HealthMonitor& health, std::function<TimePoint()> clock)
      : nodes_(nodes), health_(health), clock_(std::move(clock)) {}

  std::optional<NextHop> upstreamFor(std::string_view aor, std::string_view method) override;
  std::optional<NextHop> nodeAt(const Endpoint& address) const override;
  void observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) override;

private:
  static NextHop hop(const UpstreamNode& n) { return NextHop{n.name, n.transport, n.endpoint}; }
  const NodeTable& nodes_;
  HealthMonitor& health_;
  std::function<TimePoint()> clock_;
};

} // namespace switchback
