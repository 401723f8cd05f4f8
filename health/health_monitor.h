#pragma once

#include "health/node_health.h"
#include "health/node_table.h"

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace switchback {

/// Watches every upstream node: active OPTIONS probes on a fixed interval with a timeout,
/// and passive accounting of real traffic (timeouts, 503, transport errors). Tells the rest
/// of Switchback only about edges (up→down, down→up), each logged once with its reason.
class HealthMonitor {
public:
  /// Sends one OPTIONS probe to the node and later calls `answered` with the final status
  /// (0 when it never came). Set by the composition root, which owns the transactions.
  using ProbeFn = std::function<void(const UpstreamNode& node, std::function<void(int status)> answered)>;
  using EdgeFn = std::function<void(const UpstreamNode& node, const HealthEdge& edge)>;

  HealthMonitor(const HealthConfig& config, const NodeTable& nodes, TimePoint now = {});

  void setProbe(ProbeFn probe) { probe_ = std::move(probe); }
  void onEdge(EdgeFn f) { edgeListeners_.push_back(std::move(f)); }

  /// Sends the probes that are due and declares the ones past their timeout lost.
  void tick(TimePoint now);

  enum class Outcome { Answered, Unavailable, Timeout, TransportError };
  void observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now);

  bool usable(std::size_t index, TimePoint now) const { return slots_.at(index).health.usable(now); }
  const NodeHealth& health(std::size_t index) const { return slots_.at(index).health; }
  std::optional<Millis> lastProbeLatency(std::size_t index) const { return slots_.at(index).latency; }

  /// A reload: new thresholds and intervals; nodes keep their state.
  void reconfigure(const HealthConfig& config);
  /// A reload changed the node table: state follows each node by name; new nodes start fresh
  /// and are probed at once.
  void remap(const NodeTable::Remap& remap, TimePoint now);

  void disable(std::size_t index, TimePoint now);
  void enable(std::size_t index, TimePoint now);

private:
  struct Slot {
    NodeHealth health;
    TimePoint nextProbe{};
    std::uint64_t inFlight = 0;      // sequence number of the outstanding probe, 0 if none
    TimePoint sentAt{};
    std::optional<Millis> latency;
  };

  void apply(std::size_t index, std::optional<HealthEdge> edge);
  void answered(std::uint64_t seq, int status);

  HealthConfig config_;
  const NodeTable& nodes_;
  std::vector<Slot> slots_;
  ProbeFn probe_;
  std::vector<EdgeFn> edgeListeners_;
  std::uint64_t nextSeq_ = 1;
  TimePoint now_{};
};

} // namespace switchback
