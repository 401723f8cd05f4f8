#include "conf/config_reader.h"
#include "core/store/redis_connection.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace switchback::config_reading {

void readTimers(const Reader& r, const YAML::Node& t, TimerConfig& c) {
  r.onlyKeys(t, "timers", {"t1_ms", "t2_ms", "t4_ms"});
  if (t["t1_ms"]) c.t1 = Millis(r.integer(t["t1_ms"], "timers.t1_ms", 10, 10000));
  if (t["t2_ms"]) c.t2 = Millis(r.integer(t["t2_ms"], "timers.t2_ms", 10, 60000));
  if (t["t4_ms"]) c.t4 = Millis(r.integer(t["t4_ms"], "timers.t4_ms", 100, 60000));
  if (c.t2 >= c.t1) return;
  const std::string t1 = std::to_string(c.t1.count());
  const std::string t2 = std::to_string(c.t2.count());
  // Blame the value the person wrote: with t2_ms left at its default, raising t1_ms is the mistake.
  if (t["t2_ms"]) r.fail(t["t2_ms"], "timers.t2_ms", t2 + " is below t1_ms (" + t1 + "); allowed: " + t1 + "-60000");
  r.fail(t["t1_ms"], "timers.t1_ms",
         t1 + " is above t2_ms (" + t2 + ", the default); allowed: 10-" + t2 + ", or set t2_ms up to 60000");
}

// TLS: files relative to the configuration file, each checked readable here.
void readTls(const Reader& r, const YAML::Node& root, Config& c) {
  const YAML::Node n = root["tls"];
  auto& t = c.transport.tls;
  auto file = [&](const char* name) {
    const std::string key = std::string("tls.") + name;
    std::filesystem::path path = r.string(n[name], key);
    if (path.is_relative() && !r.path().empty()) path = std::filesystem::path(r.path()).parent_path() / path;
    std::ifstream in(path);
    if (!in) r.fail(n[name], key, "cannot read '" + path.string() + "': " + std::strerror(errno) + "; allowed: a readable PEM file");
    return path.string();
  };
  if (n) {
    r.onlyKeys(n, "tls", {"certificate", "key", "client_ca", "ca_file", "verify_upstreams", "handshake_timeout_s", "max_handshakes"});
    if (n["certificate"]) t.certificate = file("certificate");
    if (n["key"]) t.key = file("key");
    if (n["client_ca"]) t.clientCa = file("client_ca");
    if (n["ca_file"]) t.caFile = file("ca_file");
    if (n["verify_upstreams"]) t.verifyUpstreams = flag(r, n["verify_upstreams"], "tls.verify_upstreams");
    if (n["handshake_timeout_s"]) t.handshakeTimeout = Seconds(r.integer(n["handshake_timeout_s"], "tls.handshake_timeout_s", 1, 300));
    if (n["max_handshakes"]) t.maxHandshakes = r.integer(n["max_handshakes"], "tls.max_handshakes", 1, 1000000);
    if (n["certificate"] && !n["key"]) r.missing(n, "tls.key", "key: switchback.key (the certificate's private key)");
    if (n["key"] && !n["certificate"]) r.missing(n, "tls.certificate", "certificate: switchback.pem");
  }
  const YAML::Node listen = root["listen"];
  for (std::size_t i = 0; i < c.transport.listen.size(); ++i)
    if (c.transport.listen[i].transport == Transport::Tls && t.certificate.empty())
      r.fail(listen[i], "listen[" + std::to_string(i) + "]",
             "a tls: listen address needs a certificate; required: tls: { certificate: FILE, key: FILE }");
  const YAML::Node ups = root["upstreams"];
  for (std::size_t i = 0; i < c.upstreams.size(); ++i) {
    if (c.upstreams[i].transport != Transport::Tls) continue;
    const bool listening = std::any_of(c.transport.listen.begin(), c.transport.listen.end(),
                                       [](const ListenAddress& l) { return l.transport == Transport::Tls; });
    if (!listening)
      r.fail(ups[i]["uri"], "upstreams[" + std::to_string(i) + "].uri",
             "'" + c.upstreams[i].uri + "' is reached over TLS, which needs a tls: listen address (its Via and Record-Route name it)");
  }
}

// Hostile networks: limits on one message and on streams (the limits: keys they add).
void readMessageLimits(const Reader& r, const YAML::Node& l, Config& c) {
  auto& m = c.guard.limits;
  if (l["max_headers"]) m.maxHeaders = r.integer(l["max_headers"], "limits.max_headers", 8, 10000);
  if (l["max_header_bytes"]) m.maxHeaderBytes = r.integer(l["max_header_bytes"], "limits.max_header_bytes", 512, 1048576);
  if (l["max_via"]) m.maxVia = r.integer(l["max_via"], "limits.max_via", 1, 1000);
  if (l["partial_message_timeout_s"])
    c.transport.partialMessageTimeout = Seconds(r.integer(l["partial_message_timeout_s"], "limits.partial_message_timeout_s", 1, 3600));
  if (l["max_connections_per_source"])
    c.transport.maxConnectionsPerSource = r.integer(l["max_connections_per_source"], "limits.max_connections_per_source", 0, 1000000);
  c.transport.maxHeaderBytes = m.maxHeaderBytes;
  c.transport.maxHeaderLines = m.maxHeaders;
}

void readAccess(const Reader& r, const YAML::Node& root, AccessConfig& a) {
  const YAML::Node n = root["security"];
  if (!n) return;
  r.onlyKeys(n, "security", {"phone_networks", "domains"});
  if (n["phone_networks"]) {
    const auto nets = stringList(r, n["phone_networks"], "security.phone_networks", "networks");
    for (std::size_t i = 0; i < nets.size(); ++i) {
      auto cidr = Cidr::parse(nets[i]);
      if (!cidr)
        r.fail(n["phone_networks"][i], "security.phone_networks[" + std::to_string(i) + "]",
               "'" + nets[i] + "' is not a network; allowed: ADDRESS/PREFIX, e.g. 10.0.0.0/8, 2001:db8::/32 (prefix 0-32, 0-128)");
      a.phoneNetworks.push_back(*cidr);
    }
  }
  if (n["domains"]) {
    a.domains = stringList(r, n["domains"], "security.domains", "domains");
    for (std::size_t i = 0; i < a.domains.size(); ++i)
      if (a.domains[i].empty() || a.domains[i].find_first_of(" \t@:;<>") != std::string::npos)
        r.fail(n["domains"][i], "security.domains[" + std::to_string(i) + "]",
               "'" + a.domains[i] + "' is not allowed; allowed: a host name or IP address, e.g. example.com");
  }
}

void readRateLimits(const Reader& r, const YAML::Node& root, RateLimitConfig& x) {
  const YAML::Node n = root["rate_limits"];
  if (!n) return;
  r.onlyKeys(n, "rate_limits", {"requests_per_second", "registers_per_second", "ban_s", "retry_after_s",
                                "max_transactions", "scanner_user_agents"});
  if (n["requests_per_second"])
    x.requestsPerSecond = static_cast<double>(r.integer(n["requests_per_second"], "rate_limits.requests_per_second", 0, 1000000));
  if (n["registers_per_second"])
    x.registersPerSecond = static_cast<double>(r.integer(n["registers_per_second"], "rate_limits.registers_per_second", 0, 1000000));
  if (n["ban_s"]) x.banTime = Seconds(r.integer(n["ban_s"], "rate_limits.ban_s", 0, 86400));
  if (n["retry_after_s"]) x.retryAfter = Seconds(r.integer(n["retry_after_s"], "rate_limits.retry_after_s", 1, 3600));
  if (n["max_transactions"]) x.maxTransactions = r.integer(n["max_transactions"], "rate_limits.max_transactions", 0, 10000000);
  if (n["scanner_user_agents"]) {
    x.scannerUserAgents = stringList(r, n["scanner_user_agents"], "rate_limits.scanner_user_agents", "User-Agent substrings");
    for (std::size_t i = 0; i < x.scannerUserAgents.size(); ++i)
      if (x.scannerUserAgents[i].empty())
        r.fail(n["scanner_user_agents"][i], "rate_limits.scanner_user_agents[" + std::to_string(i) + "]",
               "is empty; allowed: a non-empty substring, matched case-insensitively");
  }
}

void readNat(const Reader& r, const YAML::Node& root, NatConfig& nat) {
  const YAML::Node n = root["nat"];
  if (!n) return;
  r.onlyKeys(n, "nat", {"keepalive_interval_s", "keepalive_method", "max_missed", "remove_unreachable", "stun", "flow_timer"});
  if (n["keepalive_interval_s"])
    nat.keepaliveInterval = Seconds(r.integer(n["keepalive_interval_s"], "nat.keepalive_interval_s", 0, 3600));
  if (n["keepalive_method"]) {
    const std::string m = r.string(n["keepalive_method"], "nat.keepalive_method");
    if (m != "options" && m != "crlf") r.fail(n["keepalive_method"], "nat.keepalive_method", "'" + m + "' is not allowed; allowed: options, crlf");
    nat.method = m == "crlf" ? NatConfig::Method::Crlf : NatConfig::Method::Options;
  }
  if (n["max_missed"]) nat.maxMissed = static_cast<std::uint32_t>(r.integer(n["max_missed"], "nat.max_missed", 1, 100));
  if (n["remove_unreachable"]) nat.removeUnreachable = flag(r, n["remove_unreachable"], "nat.remove_unreachable");
  if (n["stun"]) nat.stun = flag(r, n["stun"], "nat.stun");
  if (n["flow_timer"]) nat.flowTimer = flag(r, n["flow_timer"], "nat.flow_timer");
}

void readStore(const Reader& r, const YAML::Node& root, Config& c) {
  const YAML::Node s = root["store"];
  if (!s) return;
  r.onlyKeys(s, "store", {"kind", "path", "url", "timeout_ms", "flush_interval_ms"});
  const std::string kind = s["kind"] ? r.string(s["kind"], "store.kind") : "sqlite";
  if (kind != "sqlite" && kind != "redis") r.fail(s["kind"], "store.kind", "'" + kind + "' is not allowed; allowed: sqlite, redis");
  c.store.kind = kind == "redis" ? StoreConfig::Kind::Redis : StoreConfig::Kind::Sqlite;
  if (s["path"]) {
    if (kind != "sqlite") r.fail(s["path"], "store.path", "is for kind sqlite; kind redis takes url");
    c.persistence.path = r.string(s["path"], "store.path");
    if (c.persistence.path.empty()) r.fail(s["path"], "store.path", "is empty; give the database file's path");
  }
  if (s["url"]) {
    if (kind != "redis") r.fail(s["url"], "store.url", "is for kind redis; kind sqlite takes path");
    c.store.url = r.string(s["url"], "store.url");
  }
  if (kind == "redis") {
    try {
      (void)parseRedisUrl(c.store.url);
    } catch (const std::invalid_argument& e) {
      r.fail(s["url"] ? s["url"] : s, "store.url", "'" + c.store.url + "' " + e.what() + "; e.g. redis://127.0.0.1:6379");
    }
  }
  if (s["timeout_ms"]) c.store.timeout = Millis(r.integer(s["timeout_ms"], "store.timeout_ms", 50, 60000));
  if (s["flush_interval_ms"]) {
    c.store.flushInterval = Millis(r.integer(s["flush_interval_ms"], "store.flush_interval_ms", 1, 60000));
    if (kind == "sqlite") c.persistence.flushInterval = c.store.flushInterval;
  }
}

void readCluster(const Reader& r, const YAML::Node& root, Config& c) {
  const YAML::Node n = root["cluster"];
  if (!n) return;
  r.onlyKeys(n, "cluster", {"name", "node_id", "shared_registrations", "advertise", "heartbeat_ms", "dead_after_ms", "grace_s"});
  auto& k = c.cluster;
  k.enabled = true;
  if (c.store.kind != StoreConfig::Kind::Redis)
    r.fail(n, "cluster", "needs the shared store: store: { kind: redis, url: \"redis://127.0.0.1:6379\" }");
  auto name = [&](const char* key, std::string& out) {
    out = r.string(n[key], std::string("cluster.") + key);
    if (out.empty() || out.find_first_of(" \t\r\n:{}*?[]") != std::string::npos)
      r.fail(n[key], std::string("cluster.") + key, "'" + out + "' is not allowed; letters, digits, '-', '_', '.'");
  };
  if (n["name"]) name("name", k.name);
  if (!n["node_id"]) r.missing(n, "cluster.node_id", "cluster: { node_id: sb-a }");
  name("node_id", k.nodeId);
  if (n["shared_registrations"]) k.sharedRegistrations = flag(r, n["shared_registrations"], "cluster.shared_registrations");
  if (n["advertise"]) {
    k.advertise = r.string(n["advertise"], "cluster.advertise");
    if (k.advertise.rfind("sip:", 0) != 0 || k.advertise.size() < 5 || k.advertise.find_first_of(";@<> ") != std::string::npos)
      r.fail(n["advertise"], "cluster.advertise", "'" + k.advertise + "' is not allowed; a SIP URI of host and port, e.g. sip:192.0.2.10:5060");
    const HostPort hp = parseHostPort(r, n["advertise"], "cluster.advertise", k.advertise,
                                      std::string_view(k.advertise).substr(4), 5060, true);
    k.advertiseHost = hp.host;
    k.advertisePort = hp.port;
  }
  if (n["heartbeat_ms"]) k.heartbeatInterval = Millis(r.integer(n["heartbeat_ms"], "cluster.heartbeat_ms", 50, 60000));
  if (n["dead_after_ms"]) k.deadAfter = Millis(r.integer(n["dead_after_ms"], "cluster.dead_after_ms", 100, 600000));
  if (k.deadAfter < 2 * k.heartbeatInterval)
    r.fail(n["dead_after_ms"] ? n["dead_after_ms"] : n, "cluster.dead_after_ms",
           "must be at least two heartbeats (" + std::to_string(2 * k.heartbeatInterval.count()) + " ms)");
  if (n["grace_s"]) k.grace = Seconds(r.integer(n["grace_s"], "cluster.grace_s", 0, 86400));
}

} // namespace switchback::config_reading
