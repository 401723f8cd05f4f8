#pragma once

#include "core/binding_store.h"
#include "core/binding_table.h"
#include "core/guard.h"
#include "core/nat_keeper.h"
#include "core/slow_turns.h"
#include "core/stats.h"
#include "core/store/cluster_config.h"
#include "core/store/redis_store.h"
#include "health/health_monitor.h"
#include "health/node_table.h"
#include "routing/failover_router.h"
#include "routing/reregistrar.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace switchback {

/// The process itself: reloads, drain, the bindings store.
struct AppStatus {
  std::uint64_t reloads = 0;
  std::uint64_t reloadFailures = 0;
  bool draining = false;
  std::optional<BindingStore::Counters> store;
  double pacingRate = 0;              // the configured re-registration cap per node
  const SlowTurns* turns = nullptr;   // turns of the loop that held the SIP thread too long
};

/// The cluster: this node, its peers and the shared store (cluster_status.cpp).
struct ClusterStatus {
  ClusterConfig config;
  std::string url;
  RedisStore::Counters store;
  struct Node {
    std::string id;
    bool alive = false;
    std::optional<double> heartbeatAgeMs;
    std::size_t owned = 0;                 // registrants it owns, as this node knows them
  };
  std::vector<Node> nodes;
  std::uint64_t takeovers = 0;             // peers' lapses this node took a share of
  std::uint64_t takenOver = 0;             // registrants it took over
  std::uint64_t unreadable = 0;            // peers' records it could not read
};

/// What the admin endpoint shows, rendered from the live state of one shard.
struct StatusView {
  const Stats& stats;
  const BindingTable& bindings;
  const NodeTable& nodes;
  const HealthMonitor& health;
  const FailoverRouter* router;
  const Reregistrar* reregistrar;
  std::size_t transactions;
  std::size_t tcpConnections;
  TimePoint now;
  AppStatus app{};
  const Guard* guard = nullptr;    // hostile-network state: bans, drops (security_status.cpp)
  const NatKeeper* nat = nullptr;  // keep-alives to phones behind NAT (nat_status.cpp)
  std::optional<ClusterStatus> cluster{};
};

std::string renderStatusJson(const StatusView& v);
/// The status page (GET /): server-rendered HTML that refreshes itself (status_page.cpp).
std::string renderStatusPage(const StatusView& v);
/// Registrants registered on each node, by node name (every node listed).
std::map<std::string, std::size_t> registeredByNode(const StatusView& v);
/// Registrants whose new dialogs go to each node now (the advisory's "current working node").
std::map<std::string, std::size_t> signalingByNode(const StatusView& v);
/// One registrant; empty if unknown.
std::string renderBindingJson(const StatusView& v, std::string_view aor);
std::string renderMetrics(const StatusView& v);

std::string jsonEscape(std::string_view s);

/// The "security" object of /status: bans with their expiry, drops and rejections by reason.
std::string renderGuardJson(const StatusView& v);
/// The hostile-network metrics: drops by reason, bans, banned sources.
void appendGuardMetrics(std::string& out, const StatusView& v);

/// The "nat" object of /status: keep-alives sent and missed, flows kept open, unreachable phones.
std::string renderNatJson(const StatusView& v);
/// The NAT keep-alive and STUN metrics.
void appendNatMetrics(std::string& out, const StatusView& v);

/// The "cluster" object of /status (null for a single node) and the cluster's metrics.
std::string renderClusterJson(const StatusView& v);
void appendClusterMetrics(std::string& out, const StatusView& v);

} // namespace switchback
