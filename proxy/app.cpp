#include "proxy/app.h"
#include "proxy/admin_routes.h"
#include "proxy/listen_names.h"

#include "core/sip_builder.h"
#include "proxy/logging.h"
#include "proxy/reload_diff.h"
#include "proxy/status.h"

#include <boost/asio/post.hpp>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <algorithm>
#include <future>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

constexpr auto kTick = std::chrono::milliseconds(10);  // transaction timer resolution
constexpr auto kDrainLinger = std::chrono::milliseconds(500);


// The name each TLS node's certificate must carry: the host its upstream URI names.
void nameTlsNodes(Network& network, const NodeTable& nodes, const UpstreamList& upstreams) {
  for (const auto& n : nodes.nodes())
    for (const auto& u : upstreams)
      if (n.transport == Transport::Tls && n.upstream == u.name) network.setTlsServerName(n.endpoint, u.host);
}

// What the proxy engine takes of the config (timers, limits, the advertised address).
ProxyConfig proxyConfig(const Config& c) {
  ProxyConfig p;
  p.timers = c.timers;
  p.maxMessageBytes = c.transport.maxMessageBytes;
  p.maxPhoneExpires = c.routing.sbc.maxPhoneExpires;
  if (c.nat.flowTimer) p.flowTimer = c.nat.keepaliveInterval;
  if (c.cluster.enabled) {
    p.advertiseHost = c.cluster.advertiseHost;
    p.advertisePort = c.cluster.advertisePort;   // 0: no shared address
  }
  return p;
}

} // namespace

App::App(const Config& config, const NodeTable::Resolved& resolved, std::string configPath)
    : config_(config), configPath_(std::move(configPath)), signals_(io_, SIGINT, SIGTERM), tickTimer_(io_),
      purgeTimer_(io_), persistTimer_(io_), sliceTimer_(io_), drainTimer_(io_), guard_(config.guard, stats_),
      nodes_(config.upstreams, resolved, Clock::now()), health_(config.health, nodes_, Clock::now()),
      router_(config.routing, nodes_, health_, bindings_),
      network_(io_, config.transport, *this, stats_) {
  engine_ = std::make_unique<ProxyEngine>(proxyConfig(config_), network_, Upstreams{router_, router_, router_}, bindings_, stats_,
                                          [] { return Clock::now(); });
  engine_->setGuard(&guard_);
  nat_ = std::make_unique<NatKeeper>(config_.nat, bindings_, [this](const Flow& f, std::string_view contact, bool options) {
    sendKeepAlive(f, contact, options);
  });
  bindings_.onRegisteredFlow([this](const std::string& aor, const Flow& f, TimePoint now) { nat_->watch(aor, f, now); });
  network_.setStun(config_.nat.stun);
  nameTlsNodes(network_, nodes_, config_.upstreams);
  network_.setGuard(&guard_);
  health_.setProbe([this](const UpstreamNode& n, std::function<void(int)> answered) { probe(n, std::move(answered)); });
  reregistrar_ = std::make_unique<Reregistrar>(config_.routing.pacing, nodes_, bindings_, *engine_, network_,
                                               [] { return Clock::now(); },
                                               config_.routing.credentials);
  router_.setReregistrar(reregistrar_.get());
  router_.setResume([this](const std::string& aor) {
    if (!aor.empty()) engine_->resume(aor);
  });
  router_.setOriginate([this](const Flow& out, std::string_view method, std::function<std::string(const std::string&)> build) {
    engine_->originate(out, method, build, [](const LocalResult&) {}, Clock::now());
  });
  health_.onEdge([this](const UpstreamNode& n, const HealthEdge& e) {
    SlowTurns::Scope timed(turns_, "node edge");
    router_.onNodeEdge(n, e, Clock::now());
    wakeSlices(Millis(0));
    if (!e.nowUp) engine_->retryUnanswered(n.name, Clock::now());
  });
  for (const auto& n : nodes_.nodes())
    if (!n.dnsTarget.empty() && !dns_) dns_ = std::make_unique<DnsResolver>(io_, config_.dns.resolvConf);
  if (config_.store.kind == StoreConfig::Kind::Redis) {
    startCluster();
  } else if (!config_.persistence.path.empty()) {
    auto sqlite = std::make_unique<SqliteStore>(config_.persistence.path);
    sqlite_ = sqlite.get();
    store_ = std::move(sqlite);
    restoreBindings();
    bindings_.trackChanges();
  }
  if (config_.admin.enabled)
    admin_ = std::make_unique<AdminServer>(config_.admin.host, config_.admin.port,
                                           [this](const std::string& m, const std::string& t) { return admin(m, t); });
}

App::~App() = default;

int App::run() {
  network_.start();
  if (admin_) admin_->start();
  for (const auto& n : nodes_.nodes())
    spdlog::info("upstream {} '{}' at {} {}", n.index == 0 ? "primary" : "node", n.name,
                 transportName(n.transport), n.endpoint.str());
  signals_.add(SIGHUP);
  waitForSignal();
  lastTick_ = Clock::now();
  tick();
  purge();
  if (shared_) shared_->start();
  if (store_) schedulePersist();
  io_.run();
  if (admin_) admin_->stop();
  if (store_) {
    // The last changes. Redis's go out on the loop, run a little longer; a node leaving the
    // cluster takes its heartbeat key with it, so its peers take its registrants over now.
    io_.restart();
    persist();
    store_->finish();
    if (shared_) {
      io_.run_for(std::chrono::milliseconds(300));
      shared_->stop();
    }
    spdlog::info("bindings store: {} registrants written to {}", bindings_.size(), store_->describe());
  }
  spdlog::info("stopped");
  return 0;
}

void App::waitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      reload();
      return waitForSignal();
    }
    if (router_.draining()) {
      spdlog::warn("signal {} while draining: stopping now", signal);
      return stop();
    }
    drain();
    waitForSignal();
  });
}

void App::tick() {
  tickTimer_.expires_at(lastTick_ + kTick);
  tickTimer_.async_wait([this](const boost::system::error_code& ec) {
    // A handler already queued when stop() cancelled the timer still runs: the flag ends it.
    if (ec || stopping_) return;
    const TimePoint now = Clock::now();
    turns_.record("loop lag", now - (lastTick_ + kTick));
    runTick(now);
  });
}

void App::runTick(TimePoint now) {
  SlowTurns::Scope timed(turns_, "tick");
  lastTick_ = now;
  engine_->onTimer(now);
  if (!router_.draining()) {  // no new probes or re-registrations once draining
    health_.tick(now);
    reregistrar_->tick(now);
    nat_->tick(now);
  }
  tick();  // moves the timer on (a wait still pending is cancelled)
}

void App::tickIfDue() {
  // Early by at most half a period: a timer due between two ticks is never fired early (each
  // component fires only what is due at `now`), and never more than kTick late, as before.
  const TimePoint now = Clock::now();
  if (now - lastTick_ >= kTick / 2 && !stopping_) runTick(now);
}

void App::probe(const UpstreamNode& node, std::function<void(int)> answered) {
  auto flow = network_.flowTo(node.transport, node.endpoint);
  if (!flow) return answered(0);
  const std::string target =
      "sip:" + node.endpoint.str() +
      (node.transport == Transport::Udp ? std::string() : ";transport=" + std::string(transportParam(node.transport)));
  const std::uint64_t seq = ++probeSeq_;
  engine_->originate(
      *flow, "OPTIONS", [&](const std::string& via) { return buildOptionsProbe(via, target, seq); },
      [answered = std::move(answered)](const LocalResult& r) { answered(r.status); }, Clock::now());
}

void App::purge() {
  purgeTimer_.expires_after(std::chrono::seconds(1));
  purgeTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    const TimePoint now = Clock::now();
    {
      SlowTurns::Scope timed(turns_, "purge expired");
      if (const auto n = bindings_.purgeExpired(now)) spdlog::debug("purged {} expired contacts", n);
    }
    {
      SlowTurns::Scope timed(turns_, "failover every second");
      router_.everySecond(now);
      wakeSlices(Millis(0));
    }
    {
      SlowTurns::Scope timed(turns_, "unreachable");
      reportUnreachable(now);
    }
    {
      SlowTurns::Scope timed(turns_, "heap trim");
      trimAfterStorm();
    }
    guard_.expire(now);
    refreshDns(now);
    purge();
  });
}

void App::trimAfterStorm() {
  // A registration storm leaves the heap as large as its transactions in flight were at their
  // peak (those waiting out Timer J are packed in blocks of their own, given back as they expire:
  // core/completed_transactions.h). Once the storm is over, free heap pages go back too.
  const std::size_t active = engine_->activeTransactions();
  peakTransactions_ = std::max(peakTransactions_, active);
  if (peakTransactions_ < kStormTransactions || active * 10 > peakTransactions_) return;
  peakTransactions_ = active;
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

void App::restoreBindings() {
  const auto started = Clock::now();
  const std::int64_t wallNow = wallClockMs();
  std::size_t restored = 0, unreadable = 0;
  sqlite_->forEachRow([&](std::string_view aor, std::string_view record) {
    auto b = decodeBinding(record, started, wallNow);
    if (!b || b->aor != aor) {
      ++unreadable;
      return;
    }
    // A connection id names a connection of the process that wrote it; here it would name
    // another phone's. The phone's address still finds its connection if it reconnects.
    for (auto& c : b->contacts) {
      c.flow.connection = 0;
      nat_->watch(b->aor, c.flow, started);
    }
    bindings_.restore(std::move(*b));
    ++restored;
  });
  const std::size_t expired = bindings_.purgeExpired(started);
  const auto ms = std::chrono::duration_cast<Millis>(Clock::now() - started).count();
  spdlog::info("bindings store {}: restored {} registrants ({} contacts) in {} ms; {} contacts had expired, {} records "
               "unreadable",
               config_.persistence.path, bindings_.size(), bindings_.contactCount(), ms, expired, unreadable);
  (void)restored;
}

void App::wakeSlices(Millis after) {
  if (slicesArmed_ || stopping_) return;
  slicesArmed_ = true;
  sliceTimer_.expires_after(after);
  sliceTimer_.async_wait([this](const boost::system::error_code& ec) {
    slicesArmed_ = false;
    if (!ec && !stopping_) runSlices();
  });
}

void App::runSlices() {
  // Work that comes by the million (a failover of every registrant, this second's failback
  // checks, the store's changed rows) goes in slices: at most kSliceBudget of them per turn, one
  // slice of each kind in turn, then the loop waits kSliceGap for messages. So the SIP thread
  // answers within about a millisecond, and it sleeps between turns: a thread that never sleeps
  // shares its core with whatever else runs there (the store's writer, a compiler) and waits for it.
  SlowTurns::Scope timed(turns_, "slices");
  const TimePoint start = Clock::now();
  bool edges = true, checks = true, store = persistDue_;
  // The store keeps pace with what changed since its last slice, whatever the budget: a loop
  // busy with SIP (a registration storm, a slow machine) runs few slices, and a store that took
  // only kPersistSlice rows per turn would fall ever further behind the 200 OKs already sent,
  // so a crash would lose far more than the flush interval promises. Rows change by the SIP
  // work that made them, so writing them costs a fraction of it. A bulk change (a takeover's
  // ownership, a purge) is still written in bounded turns (kPersistCatchUp).
  if (store) {
    const std::size_t waiting = bindings_.changedCount();
    if (waiting > persistLeft_ + kPersistSlice) store = persist(std::min(waiting - persistLeft_, kPersistCatchUp));
  }
  while ((edges || checks || store) && Clock::now() - start < kSliceBudget) {
    if (edges) edges = router_.continueEdges(start);
    if (checks && Clock::now() - start < kSliceBudget) checks = router_.continueFailbackChecks(start);
    if (store && Clock::now() - start < kSliceBudget) store = persist(kPersistSlice);
  }
  persistLeft_ = store ? bindings_.changedCount() : 0;
  if (persistDue_ && !store) {
    persistDue_ = false;
    schedulePersist();
  }
  if (edges || checks || store) wakeSlices(kSliceGap);
}

void App::schedulePersist() {
  persistTimer_.expires_after(flushInterval());
  persistTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    persistDue_ = true;
    wakeSlices(Millis(0));
  });
}

bool App::persist(std::size_t max) {
  const auto changed = bindings_.takeChanged(max);
  if (changed.empty()) return false;
  store_->write(storedBindings(changed));
  return bindings_.changedCount() != 0;
}

Millis App::flushInterval() const {
  return shared_ ? config_.store.flushInterval : config_.persistence.flushInterval;
}

void App::refreshDns(TimePoint now) {
  if (!dns_) return;
  for (const auto& u : config_.upstreams) {
    if (!u.hostIsName || resolving_.count(u.host)) continue;
    bool due = false;
    for (const auto& n : nodes_.nodes()) due = due || (n.upstream == u.name && now >= n.dnsExpires);
    if (!due) continue;
    resolving_.insert(u.host);
    dns_->resolve(u.host, u.transport, u.portGiven ? std::optional<std::uint16_t>(u.port) : std::nullopt,
                  [this, host = u.host](std::vector<DnsTarget> targets, std::string error) {
                    resolving_.erase(host);
                    if (!error.empty()) {
                      spdlog::warn("DNS: re-resolving '{}' failed ({}); keeping the addresses it had", host, error);
                      return;
                    }
                    const auto changed = nodes_.refresh(host, targets, Clock::now());
                    nameTlsNodes(network_, nodes_, config_.upstreams);
                    if (changed) spdlog::warn("DNS: '{}' now resolves differently: {} node addresses changed", host, changed);
                  });
  }
}

void App::reload() {
  const auto started = Clock::now();
  if (configPath_.empty()) return;
  Config fresh;
  NodeTable::Resolved resolved;
  try {
    fresh = loadConfigFile(configPath_);
    resolveListenNames(fresh.transport.listen);
    std::vector<std::tuple<std::string, Transport, std::optional<std::uint16_t>>> names;
    for (const auto& u : fresh.upstreams)
      if (u.hostIsName) names.emplace_back(u.host, u.transport, u.portGiven ? std::optional<std::uint16_t>(u.port) : std::nullopt);
    if (!names.empty()) resolved = resolveAtStartup(names, fresh.dns.resolvConf, Millis(2000));
    NodeTable candidate(fresh.upstreams, resolved, started);  // throws on an upstream it cannot use
    const std::vector<std::string> kept = restartOnlyChanges(config_, fresh);
    for (const auto& k : kept) spdlog::warn("reload: '{}' changed; it takes effect at the next restart", k);
    fresh = appliedConfig(config_, std::move(fresh));   // so those keep their running values

    const bool upstreamsChanged = fresh.upstreams != config_.upstreams || !resolved.empty();
    if (upstreamsChanged) {
      std::vector<std::string> before, after;
      for (const auto& n : nodes_.nodes()) before.push_back(n.name + "@" + n.endpoint.str());
      const auto remap = nodes_.replace(std::move(candidate));
      health_.remap(remap, started);
      router_.remap(remap);
      reregistrar_->remap(remap);
      nameTlsNodes(network_, nodes_, fresh.upstreams);
      for (const auto& n : nodes_.nodes()) after.push_back(n.name + "@" + n.endpoint.str());
      if (before != after)
        spdlog::warn("reload: upstream nodes were [{}], now [{}]", fmt::join(before, ", "), fmt::join(after, ", "));
      if (!dns_)
        for (const auto& n : nodes_.nodes())
          if (!n.dnsTarget.empty() && !dns_) dns_ = std::make_unique<DnsResolver>(io_, config_.dns.resolvConf);
    }
    health_.reconfigure(fresh.health);
    router_.reconfigure(fresh.routing);
    reregistrar_->reconfigure(fresh.routing.pacing, fresh.routing.credentials);
    engine_->reconfigure(proxyConfig(fresh));
    nat_->reconfigure(fresh.nat, started);
    network_.setStun(fresh.nat.stun);
    if (!(fresh.guard == config_.guard)) {
      guard_.reconfigure(fresh.guard);
      spdlog::warn("reload: security and rate limits applied; bans in force are kept");
    }
    if (fresh.log.level != config_.log.level) spdlog::set_level(spdlog::level::from_str(fresh.log.level));
    config_ = std::move(fresh);
  } catch (const std::exception& e) {
    ++reloadFailures_;
    spdlog::error("reload of {} failed, the running configuration stays: {}", configPath_, e.what());
    return;
  }
  ++reloads_;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
  spdlog::warn("reload of {} applied in {:.1f} ms: {} upstream nodes, {} registrants and {} transactions kept",
               configPath_, us / 1000.0, nodes_.nodes().size(), bindings_.size(), engine_->activeTransactions());
}

void App::drain() {
  router_.startDraining();
  const std::size_t open = engine_->unfinishedTransactions();
  spdlog::warn("draining: new dialogs get 503; {} transactions in progress, up to {} ms", open,
               config_.shutdown.drainTimeout.count());
  if (open == 0) {
    spdlog::info("drained: no transaction in progress");
    return stop();
  }
  drainCheck(Clock::now() + config_.shutdown.drainTimeout, std::nullopt);
}

void App::drainCheck(TimePoint deadline, std::optional<TimePoint> quietSince) {
  // Every 50 ms: the drain ends 500 ms after the last transaction finished (so the ACK of a
  // call just answered, and last retransmissions, still pass), or at the deadline.
  if (stopping_) return;
  const TimePoint now = Clock::now();
  const std::size_t left = engine_->unfinishedTransactions();
  if (left) quietSince.reset();
  else if (!quietSince) quietSince = now;
  if ((quietSince && now - *quietSince >= kDrainLinger) || now >= deadline) {
    if (left) spdlog::warn("drain time is up: {} transactions still in progress are dropped", left);
    else spdlog::info("drained: no transaction in progress");
    return stop();
  }
  drainTimer_.expires_after(std::chrono::milliseconds(50));
  drainTimer_.async_wait([this, deadline, quietSince](const boost::system::error_code& ec) {
    if (!ec) drainCheck(deadline, quietSince);
  });
}

void App::stop() {
  stopping_ = true;
  tickTimer_.cancel();
  purgeTimer_.cancel();
  persistTimer_.cancel();
  sliceTimer_.cancel();
  drainTimer_.cancel();
  signals_.cancel();
  dns_.reset();
  network_.stop();
  // Every source of work is closed above; a DNS query in flight must not hold the exit back.
  io_.stop();
}

AdminServer::Reply App::admin(const std::string& method, const std::string& target) {
  auto promise = std::make_shared<std::promise<AdminServer::Reply>>();
  auto reply = promise->get_future();
  boost::asio::post(io_, [this, promise, method, target] {
    try {
      promise->set_value(adminOnSipThread(method, target));
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  if (reply.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
    return {503, "text/plain", "the SIP thread did not answer within 2 s\n"};
  return reply.get();
}

AdminServer::Reply App::adminOnSipThread(const std::string& method, const std::string& target) {
  SlowTurns::Scope timed(turns_, "admin");
  const TimePoint now = Clock::now();
  const StatusView view{stats_, bindings_, nodes_, health_, &router_, reregistrar_.get(), engine_->activeTransactions(),
                        network_.tcpConnections(), now, AppStatus{reloads_, reloadFailures_, router_.draining(),
                        sqlite_ ? std::optional<BindingStore::Counters>(sqlite_->counters()) : std::nullopt,
                        config_.routing.pacing.registrationsPerSecond, &turns_}, &guard_, nat_.get(), clusterStatus(now)};
  return routeAdmin(method, target, view, [this, now](const UpstreamNode& n, bool enabled) {
    spdlog::warn("admin: node '{}' {} by hand", n.name, enabled ? "enabled" : "disabled");
    if (enabled) health_.enable(n.index, now);
    else health_.disable(n.index, now);
  });
}

} // namespace switchback
