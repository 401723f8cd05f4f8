#pragma once

#include "conf/config.h"
#include "core/binding_table.h"
#include "core/network.h"
#include "core/proxy_engine.h"
#include "core/stats.h"
#include "health/health_monitor.h"
#include "health/node_table.h"
#include "proxy/admin_server.h"
#include "routing/failover_router.h"
#include "routing/reregistrar.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <set>

namespace switchback {

/// The composition root: owns the event loop and builds every component from the config.
class App : private MessageSink {
public:
  explicit App(const Config& config, const NodeTable::Resolved& resolved = {});
  ~App() override;

  /// Binds, serves until SIGTERM or SIGINT, returns the exit code.
  int run();

private:
  void onMessage(std::string_view bytes, const Flow& flow) override { engine_->onMessage(bytes, flow); }
  void tick();
  void probe(const UpstreamNode& node, std::function<void(int)> answered);
  void purge();
  void refreshDns(TimePoint now);
  void stop();
  AdminServer::Reply admin(const std::string& method, const std::string& target);

  Config config_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer tickTimer_;
  boost::asio::steady_timer purgeTimer_;
  Stats stats_;
  Guard guard_;
  BindingTable bindings_;
  NodeTable nodes_;
  HealthMonitor health_;
  FailoverRouter router_;
  Network network_;
  std::unique_ptr<ProxyEngine> engine_;
  std::unique_ptr<Reregistrar> reregistrar_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<DnsResolver> dns_;
  std::set<std::string> resolving_;
  std::uint64_t probeSeq_ = 0;
  bool stopping_ = false;
};

} // namespace switchback
