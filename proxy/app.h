#pragma once

#include "conf/config.h"
#include "core/binding_store.h"
#include "core/binding_table.h"
#include "core/nat_keeper.h"
#include "core/store/cluster.h"
#include "core/store/redis_store.h"
#include "core/store/sqlite_store.h"
#include "core/network.h"
#include "core/proxy_engine.h"
#include "core/slow_turns.h"
#include "core/stats.h"
#include "health/health_monitor.h"
#include "health/node_table.h"
#include "proxy/admin_server.h"
#include "proxy/status.h"
#include "routing/failover_router.h"
#include "routing/reregistrar.h"

#include <boost/asio/io_context.hpp>

#include <limits>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <set>

namespace switchback {

/// The composition root: owns the event loop and builds every component from the config.
/// SIGHUP reloads the config file, SIGTERM/SIGINT drain and exit.
class App : private MessageSink {
public:
  App(const Config& config, const NodeTable::Resolved& resolved = {}, std::string configPath = {});
  ~App() override;

  /// Binds, serves until SIGTERM or SIGINT, returns the exit code.
  int run();

private:
  void onMessage(std::string_view bytes, const Flow& flow) override {
    SlowTurns::Scope timed(turns_, "message", false);
    nat_->heard(flow);
    engine_->onMessage(bytes, flow);
    tickIfDue();
  }
  void onKeepAlive(const Flow& flow) override { nat_->heard(flow); }
  // NAT keep-alives (app_nat.cpp).
  void sendKeepAlive(const Flow& flow, std::string_view contact, bool options);
  void reportUnreachable(TimePoint now);
  void removeUnreachable(const NatKeeper::Unreachable& u, TimePoint now);
  void waitForSignal();
  /// Arms the tick timer for kTick after the last tick.
  void tick();
  /// The timer work of one tick (transaction timers, probes, re-registrations, keep-alives).
  void runTick(TimePoint now);
  /// A message woke the loop: the tick runs now if half its period has passed, so that under
  /// load the timer seldom has to wake the loop by itself (each wake-up costs more than the tick).
  void tickIfDue();
  void probe(const UpstreamNode& node, std::function<void(int)> answered);
  void purge();
  void refreshDns(TimePoint now);
  void restoreBindings();
  /// Writes at most `max` changed registrants to the store; true if more are waiting.
  bool persist(std::size_t max = std::numeric_limits<std::size_t>::max());
  void schedulePersist();
  /// Runs slices of the work that comes by the million (runSlices) `after` from now, once.
  void wakeSlices(Millis after);
  void runSlices();
  void trimAfterStorm();
  static constexpr std::size_t kStormTransactions = 1000;
  static constexpr std::size_t kPersistSlice = 16;
  static constexpr std::size_t kPersistCatchUp = 1024;  // the most rows one turn writes to keep pace
  static constexpr Millis kSliceBudget{1};
  static constexpr Millis kSliceGap{2};
  Millis flushInterval() const;
  // The cluster: bindings shared through Redis, heartbeats, takeover (app_cluster.cpp).
  void startCluster();
  void applyPeer(const std::string& aor, const std::string& owner, std::string_view record);
  void removePeer(const std::string& aor);
  void onHeartbeat(const std::vector<std::string>& live, const std::map<std::string, std::int64_t>& beatMs);
  void onStoreEdge(bool up, const std::string& why);
  void takeover(const std::string& dead, TimePoint now);
  /// The registrants' records as the store keeps them (removed ones as removals).
  std::vector<StoredBinding> storedBindings(const std::vector<std::string>& aors);
  std::optional<ClusterStatus> clusterStatus(TimePoint now) const;
  void reload();
  void drain();
  void drainCheck(TimePoint deadline, std::optional<TimePoint> quietSince);
  void stop();
  /// Runs on the admin thread: hands the request to the SIP thread and waits for its answer.
  AdminServer::Reply admin(const std::string& method, const std::string& target);
  AdminServer::Reply adminOnSipThread(const std::string& method, const std::string& target);

  Config config_;
  std::string configPath_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tickTimer_;
  boost::asio::steady_timer purgeTimer_;
  boost::asio::steady_timer persistTimer_;
  boost::asio::steady_timer sliceTimer_;
  bool slicesArmed_ = false;
  bool persistDue_ = false;   // the store's interval came: changed rows go out in slices
  std::size_t persistLeft_ = 0;  // changed rows the last store slice left waiting
  boost::asio::steady_timer drainTimer_;
  Stats stats_;
  SlowTurns turns_;
  Guard guard_;
  BindingTable bindings_;
  NodeTable nodes_;
  HealthMonitor health_;
  FailoverRouter router_;
  Network network_;
  std::unique_ptr<ProxyEngine> engine_;
  std::unique_ptr<NatKeeper> nat_;
  std::unique_ptr<Reregistrar> reregistrar_;
  std::unique_ptr<Store> store_;                 // none: bindings in memory only
  SqliteStore* sqlite_ = nullptr;                // store_, when it is SQLite
  RedisStore* shared_ = nullptr;                 // store_, when it is Redis (a cluster)
  std::unique_ptr<ClusterMembership> membership_;
  std::optional<bool> sharedUp_;                 // the last edge of the Redis connection (warned once each)
  std::map<std::string, std::int64_t> beatMs_;   // each node's last heartbeat (wall-clock ms)
  std::uint64_t takeovers_ = 0, takenOver_ = 0, peerUnreadable_ = 0;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<DnsResolver> dns_;
  std::set<std::string> resolving_;
  std::uint64_t probeSeq_ = 0;
  std::uint64_t reloads_ = 0, reloadFailures_ = 0;
  bool stopping_ = false;
  TimePoint lastTick_{};
  std::size_t peakTransactions_ = 0;
};

} // namespace switchback
