#include "proxy/app.h"

#include "core/sip_builder.h"
#include "proxy/status.h"

#include <spdlog/spdlog.h>

namespace switchback {

namespace {

constexpr auto kTick = std::chrono::milliseconds(10);  // transaction timer resolution

std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

// The name each TLS node's certificate must carry: the host its upstream URI names.
void nameTlsNodes(Network& network, const NodeTable& nodes, const UpstreamList& upstreams) {
  for (const auto& n : nodes.nodes())
    for (const auto& u : upstreams)
      if (n.transport == Transport::Tls && n.upstream == u.name) network.setTlsServerName(n.endpoint, u.host);
}

ProxyConfig proxyConfig(const Config& c) {
  ProxyConfig p;
  p.timers = c.timers;
  p.maxMessageBytes = c.transport.maxMessageBytes;
  p.maxPhoneExpires = c.routing.sbc.maxPhoneExpires;
  return p;
}

} // namespace

App::App(const Config& config, const NodeTable::Resolved& resolved)
    : config_(config), signals_(io_, SIGINT, SIGTERM), tickTimer_(io_), purgeTimer_(io_), guard_(config.guard, stats_),
      nodes_(config.upstreams, resolved, Clock::now()),
      health_(config.health, nodes_), router_(config.routing, nodes_, health_, bindings_),
      network_(io_, config.transport, *this, stats_) {
  engine_ = std::make_unique<ProxyEngine>(proxyConfig(config_), network_, router_, bindings_, stats_,
                                          [] { return Clock::now(); });
  engine_->setGuard(&guard_);
  nameTlsNodes(network_, nodes_, config_.upstreams);
  network_.setGuard(&guard_);
  health_.setProbe([this](const UpstreamNode& n, std::function<void(int)> answered) { probe(n, std::move(answered)); });
  reregistrar_ = std::make_unique<Reregistrar>(config_.routing.pacing, nodes_, bindings_, *engine_, network_,
                                               config_.routing.credentials);
  router_.setReregistrar(reregistrar_.get());
  health_.onEdge([this](const UpstreamNode& n, const HealthEdge& e) { router_.onNodeEdge(n, e, Clock::now()); });
  for (const auto& n : nodes_.nodes())
    if (!n.dnsTarget.empty() && !dns_) dns_ = std::make_unique<DnsResolver>(io_, config_.dns.resolvConf);
  if (config_.admin.enabled)
    admin_ = std::make_unique<AdminServer>(io_, config_.admin.host, config_.admin.port,
                                           [this](const std::string& m, const std::string& t) { return admin(m, t); });
}

App::~App() = default;

int App::run() {
  network_.start();
  if (admin_) admin_->start();
  for (const auto& n : nodes_.nodes())
    spdlog::info("upstream {} '{}' at {} {}", n.index == 0 ? "primary" : "node", n.name,
                 transportName(n.transport), n.endpoint.str());
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signal);
    stop();
  });
  tick();
  purge();
  io_.run();
  spdlog::info("stopped");
  return 0;
}

void App::tick() {
  tickTimer_.expires_after(kTick);
  tickTimer_.async_wait([this](const boost::system::error_code& ec) {
    // A handler already queued when stop() cancelled the timer still runs: the flag ends it.
    if (ec || stopping_) return;
    const TimePoint now = Clock::now();
    engine_->onTimer(now);
    health_.tick(now);
    reregistrar_->tick(now);
    tick();
  });
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
    if (const auto n = bindings_.purgeExpired(now)) spdlog::debug("purged {} expired contacts", n);
    router_.everySecond(now);
    guard_.expire(now);
    refreshDns(now);
    purge();
  });
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

void App::stop() {
  stopping_ = true;
  tickTimer_.cancel();
  purgeTimer_.cancel();
  signals_.cancel();
  dns_.reset();
  network_.stop();
  if (admin_) admin_->stop();
  // Every source of work is closed above; an admin request still being read (10 s timeout)
  // or a DNS query in flight must not hold the exit back.
  io_.stop();
}

AdminServer::Reply App::admin(const std::string& method, const std::string& target) {
  if (method != "GET") return {405, "text/plain", "method not allowed\n"};
  const StatusView view{stats_,  bindings_, nodes_, health_, &router_, reregistrar_.get(), engine_->activeTransactions(),
                        network_.tcpConnections(), Clock::now(), &guard_};
  const auto q = target.find('?');
  const std::string path = target.substr(0, q);
  const std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
  if (path == "/healthz") return {200, "text/plain", "ok\n"};
  if (path == "/metrics") return {200, "text/plain; version=0.0.4", renderMetrics(view)};
  if (path == "/status") return {200, "application/json", renderStatusJson(view)};
  if (path == "/status/bindings") {
    if (query.rfind("aor=", 0) != 0) return {400, "text/plain", "usage: /status/bindings?aor=sip:user@domain\n"};
    const std::string body = renderBindingJson(view, percentDecode(query.substr(4)));
    if (body.empty()) return {404, "application/json", "{\"error\":\"no such registrant\"}\n"};
    return {200, "application/json", body};
  }
  return {404, "text/plain", "not found\n"};
}

} // namespace switchback
