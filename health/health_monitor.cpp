#include "health/health_monitor.h"

#include <spdlog/spdlog.h>

namespace switchback {

HealthMonitor::HealthMonitor(const HealthConfig& config, const NodeTable& nodes, TimePoint now)
    : config_(config), nodes_(nodes) {
  for (std::size_t i = 0; i < nodes.nodes().size(); ++i) slots_.push_back(Slot{NodeHealth(config, now), {}, 0, {}, {}});
}

void HealthMonitor::tick(TimePoint now) {
  now_ = now;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.inFlight != 0 && now - s.sentAt >= config_.probeTimeout) {
      s.inFlight = 0;
      apply(i, s.health.onFailure(now, "no answer to OPTIONS within " + std::to_string(config_.probeTimeout.count()) + " ms"));
    }
    if (s.inFlight != 0 || now < s.nextProbe || !probe_ || s.health.state() == NodeState::Disabled) continue;
    const std::uint64_t seq = nextSeq_++;
    s.inFlight = seq;
    s.sentAt = now;
    s.nextProbe = now + config_.probeInterval;
    probe_(nodes_.nodes()[i], [this, seq](int status) { answered(seq, status); });
  }
}

void HealthMonitor::answered(std::uint64_t seq, int status) {
  // By sequence number, not index: a reload may have moved the node meanwhile.
  std::size_t index = 0;
  while (index < slots_.size() && slots_[index].inFlight != seq) ++index;
  if (index == slots_.size()) return;  // declared lost already, or superseded
  Slot& s = slots_[index];
  s.inFlight = 0;
  if (status == 0) return apply(index, s.health.onFailure(now_, "OPTIONS could not be sent"));
  if (status == 503) return apply(index, s.health.onFailure(now_, "OPTIONS answered 503"));
  // Any other answer, even 404 or 405, shows a live SIP stack.
  s.latency = std::chrono::duration_cast<Millis>(now_ - s.sentAt);
  apply(index, s.health.onSuccess(now_));
}

void HealthMonitor::observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) {
  const UpstreamNode* n = nodes_.findByName(node);
  if (n == nullptr) return;
  NodeHealth& h = slots_[n->index].health;
  switch (outcome) {
  case Outcome::Answered: return;  // traffic answered: no news (probes decide when a node comes back)
  case Outcome::Timeout: return apply(n->index, h.onFailure(now, "a transaction timed out"));
  case Outcome::TransportError: return apply(n->index, h.onFailure(now, "transport error"));
  case Outcome::Unavailable:
    if (retryAfter) return apply(n->index, h.onRetryAfter(now, *retryAfter));
    return apply(n->index, h.onFailure(now, "503 without Retry-After"));
  }
}

void HealthMonitor::reconfigure(const HealthConfig& config) {
  config_ = config;
  for (auto& s : slots_) s.health.reconfigure(config);
}

void HealthMonitor::remap(const NodeTable::Remap& remap, TimePoint now) {
  std::vector<std::optional<Slot>> carried(nodes_.nodes().size());
  for (std::size_t i = 0; i < remap.size() && i < slots_.size(); ++i)
    if (remap[i]) carried[*remap[i]] = std::move(slots_[i]);
  slots_.clear();
  for (auto& c : carried) slots_.push_back(c ? std::move(*c) : Slot{NodeHealth(config_, now), {}, 0, {}, {}});
}

void HealthMonitor::disable(std::size_t index, TimePoint now) { apply(index, slots_.at(index).health.disable(now)); }

void HealthMonitor::enable(std::size_t index, TimePoint now) { apply(index, slots_.at(index).health.enable(now)); }

void HealthMonitor::apply(std::size_t index, std::optional<HealthEdge> edge) {
  if (!edge) return;
  const UpstreamNode& n = nodes_.nodes()[index];
  if (edge->nowUp) spdlog::warn("node '{}' ({}) is UP: {}", n.name, n.endpoint.str(), edge->reason);
  else spdlog::warn("node '{}' ({}) is DOWN: {}", n.name, n.endpoint.str(), edge->reason);
  for (const auto& f : edgeListeners_) f(n, *edge);
}

} // namespace switchback
