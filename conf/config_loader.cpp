#include "conf/config_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <yaml-cpp/yaml.h>

namespace switchback {

namespace {

using namespace config_reading;

void readListen(const Reader& r, const YAML::Node& root, TransportConfig& t) {
  const YAML::Node node = r.nonEmptyList(root, "listen", "\"transport:host:port\"", "listen: [\"udp:127.0.0.1:5060\"]");
  std::map<std::string, std::size_t> seen;  // canonical address → index of its first listing
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string key = "listen[" + std::to_string(i) + "]";
    const std::string text = r.string(node[i], key);
    const auto colon = text.find(':');
    if (colon == std::string::npos)
      r.fail(node[i], key, "'" + text + "' is not \"transport:host:port\"; allowed: e.g. udp:127.0.0.1:5060, tcp:[::1]:5060");
    ListenAddress l;
    l.transport = parseTransport(r, node[i], key, std::string_view(text).substr(0, colon), text);
    const auto hp = parseHostPort(r, node[i], key, text, std::string_view(text).substr(colon + 1), std::nullopt,
                                  /*allowName=*/true);
    l.host = hp.host;
    l.port = hp.port;
    if (hp.isName) l.name = hp.host;
    const auto [first, fresh] = seen.emplace(std::string(transportName(l.transport)) + " " + hp.canonical, i);
    if (!fresh)
      r.fail(node[i], key,
             "'" + text + "' is listed twice (also listen[" + std::to_string(first->second) + "]); allowed: each address once");
    t.listen.push_back(l);
  }
}

FailoverOverrides readOverrides(const Reader& r, const YAML::Node& node, const std::string& key, bool allowNested) {
  std::set<std::string> keys{"reRegisterOn", "failRegistrationOn", "onlySignalWithRegistered", "failBack", "queryOnRecovery"};
  if (allowNested) keys.insert("outboundProxy");
  r.onlyKeys(node, key, keys);
  FailoverOverrides o;
  if (node["reRegisterOn"]) o.reRegisterOn = flag(r, node["reRegisterOn"], key + ".reRegisterOn");
  if (node["failRegistrationOn"]) o.failRegistrationOn = flag(r, node["failRegistrationOn"], key + ".failRegistrationOn");
  if (node["queryOnRecovery"]) o.queryOnRecovery = flag(r, node["queryOnRecovery"], key + ".queryOnRecovery");
  if (node["onlySignalWithRegistered"])
    o.onlySignalWithRegistered = flag(r, node["onlySignalWithRegistered"], key + ".onlySignalWithRegistered");
  if (const YAML::Node fb = node["failBack"]) {
    r.onlyKeys(fb, key + ".failBack", {"mode", "timeout"});
    if (fb["mode"]) {
      const std::string m = r.string(fb["mode"], key + ".failBack.mode");
      o.failBackMode = parseFailBackMode(m);
      if (!o.failBackMode)
        r.fail(fb["mode"], key + ".failBack.mode", "'" + m + "' is not allowed; allowed: newRequests, DNSTTL, registration, duration");
    }
    if (fb["timeout"]) {
      const std::string t = r.string(fb["timeout"], key + ".failBack.timeout");
      std::uint64_t v = 0;
      const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || p != t.data() + t.size() || v > 65535)
        r.fail(fb["timeout"], key + ".failBack.timeout", "'" + t + "' is not allowed; allowed: 0, 60-65535 (1-59 act as 60)");
      o.failBackTimeout = static_cast<std::uint32_t>(v);
    }
  }
  return o;
}

FailoverScope readScope(const Reader& r, const YAML::Node& node, const std::string& key) {
  FailoverScope scope;
  scope.server = readOverrides(r, node, key, true);
  if (node["outboundProxy"]) scope.outboundProxy = readOverrides(r, node["outboundProxy"], key + ".outboundProxy", false);
  return scope;
}

void readRouting(const Reader& r, const YAML::Node& root, RoutingConfig& c) {
  if (const YAML::Node f = root["failover"]) {
    c.failover.site = readScope(r, f, "failover");
  }
  // The advisory's voIpProt.server.x: an upstream's own settings (no outboundProxy block: an
  // upstream is either a server or an outbound proxy, and the site's and groups' blocks say how).
  if (const YAML::Node ups = root["upstreams"]; ups && ups.IsSequence())
    for (std::size_t i = 0; i < ups.size(); ++i)
      if (ups[i].IsMap() && ups[i]["failover"] && ups[i]["name"])
        c.failover.servers[r.string(ups[i]["name"], "upstreams[" + std::to_string(i) + "].name")] =
            readOverrides(r, ups[i]["failover"], "upstreams[" + std::to_string(i) + "].failover", false);
  if (const YAML::Node g = root["registrant_groups"]) {
    if (!g.IsSequence()) r.fail(g, "registrant_groups", "expected a list of {name, match, failover}, got " + kindOf(g));
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::string key = "registrant_groups[" + std::to_string(i) + "]";
      r.onlyKeys(g[i], key, {"name", "match", "failover"});
      RegistrantGroup group;
      if (!g[i]["name"]) r.missing(g[i], key + ".name", "name: lobby-phones");
      if (!g[i]["match"]) r.missing(g[i], key + ".match", "match: \"sip:1*@example.com\"");
      group.name = r.string(g[i]["name"], key + ".name");
      group.match = r.string(g[i]["match"], key + ".match");
      if (g[i]["failover"]) group.failover = readScope(r, g[i]["failover"], key + ".failover");
      c.failover.groups.push_back(std::move(group));
    }
  }
  if (const YAML::Node p = root["pacing"]) {
    r.onlyKeys(p, "pacing", {"registrations_per_second", "backoff_base_s", "backoff_max_s", "pending_retry_after_s",
                             "health_gated_failback"});
    auto& x = c.pacing;
    if (p["registrations_per_second"])
      x.registrationsPerSecond = static_cast<double>(r.integer(p["registrations_per_second"], "pacing.registrations_per_second", 1, 100000));
    if (p["backoff_base_s"]) x.backoffBase = Seconds(r.integer(p["backoff_base_s"], "pacing.backoff_base_s", 1, 3600));
    if (p["backoff_max_s"]) x.backoffMax = Seconds(r.integer(p["backoff_max_s"], "pacing.backoff_max_s", 1, 86400));
    if (p["pending_retry_after_s"])
      x.pendingRetryAfter = Seconds(r.integer(p["pending_retry_after_s"], "pacing.pending_retry_after_s", 1, 3600));
    if (p["health_gated_failback"]) c.healthGatedFailback = flag(r, p["health_gated_failback"], "pacing.health_gated_failback");
    const std::string base = std::to_string(x.backoffBase.count());
    const std::string max = std::to_string(x.backoffMax.count());
    // Blame the value the person wrote, as for the timers.
    if (x.backoffMax < x.backoffBase && p["backoff_max_s"])
      r.fail(p["backoff_max_s"], "pacing.backoff_max_s", max + " is below backoff_base_s (" + base + "); allowed: " + base + "-86400");
    if (x.backoffMax < x.backoffBase)
      r.fail(p["backoff_base_s"], "pacing.backoff_base_s",
             base + " is above backoff_max_s (" + max + ", the default); allowed: 1-" + max + ", or set backoff_max_s");
  }
  if (const YAML::Node b = root["sbc"]) {
    r.onlyKeys(b, "sbc", {"require_registration", "reject_status", "reject_reason", "dialog_end_status", "dialog_end_reason",
                          "max_phone_expires_s", "dialog_lifetime_s"});
    if (b["dialog_lifetime_s"])
      c.sbc.dialogLifetime = Seconds(r.integer(b["dialog_lifetime_s"], "sbc.dialog_lifetime_s", 60, 604800));
    if (b["max_phone_expires_s"])
      c.sbc.maxPhoneExpires = Seconds(r.integer(b["max_phone_expires_s"], "sbc.max_phone_expires_s", 0, 86400));
    auto& x = c.sbc;
    if (b["require_registration"]) x.requireRegistration = flag(r, b["require_registration"], "sbc.require_registration");
    if (b["reject_status"]) x.rejectStatus = static_cast<int>(r.integer(b["reject_status"], "sbc.reject_status", 400, 699));
    if (b["reject_reason"]) x.rejectReason = r.string(b["reject_reason"], "sbc.reject_reason");
    if (b["dialog_end_status"]) x.dialogEndStatus = static_cast<int>(r.integer(b["dialog_end_status"], "sbc.dialog_end_status", 400, 699));
    if (b["dialog_end_reason"]) x.dialogEndReason = r.string(b["dialog_end_reason"], "sbc.dialog_end_reason");
  }
}

// The credentials file: one registrant a line, "AOR USERNAME PASSWORD"; '#' starts a comment.
void readCredentials(const Reader& r, const YAML::Node& node, const std::string& configPath, CredentialStore& out) {
  r.onlyKeys(node, "credentials", {"file"});
  if (!node["file"]) r.fail(node, "credentials.file", "missing; e.g. credentials: { file: credentials.txt }");
  std::filesystem::path path = r.string(node["file"], "credentials.file");
  if (path.is_relative() && !configPath.empty()) path = std::filesystem::path(configPath).parent_path() / path;
  std::ifstream in(path);
  if (!in) r.fail(node["file"], "credentials.file", "cannot read '" + path.string() + "'");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::string aor, user, password, extra;
    if (!(fields >> aor)) continue;
    if (!(fields >> user >> password) || (fields >> extra) || aor.rfind("sip:", 0) != 0)
      throw ConfigError(path.string() + ":" + std::to_string(n) + ": expected \"sip:user@domain username password\"");
    out[aor] = DigestCredentials{user, password};
  }
}

UpstreamConfig readUpstream(const Reader& r, const YAML::Node& node, const std::string& key) {
  r.onlyKeys(node, key, {"name", "uri", "role", "failover"});
  UpstreamConfig u;
  if (!node["name"]) r.missing(node, key + ".name", "name: primary");
  u.name = r.string(node["name"], key + ".name");
  if (u.name.empty() || u.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
    r.fail(node["name"], key + ".name", "'" + u.name + "' is not allowed; allowed: letters, digits, '_' and '-'");
  if (!node["uri"]) r.missing(node, key + ".uri", "uri: \"sip:127.0.0.1:5070\"");
  const YAML::Node uri = node["uri"];
  const std::string uriKey = key + ".uri";
  u.uri = r.string(uri, uriKey);
  std::string_view rest(u.uri);
  const bool sips = rest.substr(0, 5) == "sips:";
  if (rest.substr(0, 4) != "sip:" && !sips)
    r.fail(uri, uriKey, "'" + u.uri + "' is not allowed; allowed: sip:HOST[:PORT][;transport=udp|tcp] (or tls), sips:HOST[:PORT]");
  rest.remove_prefix(sips ? 5 : 4);
  std::string_view params;
  if (const auto semi = rest.find(';'); semi != std::string_view::npos) {
    params = rest.substr(semi + 1);
    rest = rest.substr(0, semi);
  }
  if (node["role"]) {
    const std::string role = r.string(node["role"], key + ".role");
    if (role != "server" && role != "outbound_proxy")
      r.fail(node["role"], key + ".role", "'" + role + "' is not allowed; allowed: server, outbound_proxy");
    u.outboundProxy = role == "outbound_proxy";
  }
  const bool tlsParam = params.find("transport=tls") != std::string_view::npos || params.find("transport=TLS") != std::string_view::npos;
  const auto hp = parseHostPort(r, uri, uriKey, u.uri, rest, sips || tlsParam ? 5061 : 5060, /*allowName=*/true);
  u.host = hp.host;
  u.port = hp.port;
  u.hostIsName = hp.isName;
  u.portGiven = hp.portGiven;
  bool transportSeen = false;
  while (!params.empty()) {
    const auto semi = params.find(';');
    const std::string_view p = params.substr(0, semi);
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.substr(0, 10) == "transport=") {
      if (transportSeen) r.fail(uri, uriKey, "'" + u.uri + "' has transport twice; allowed: once");
      transportSeen = true;
      u.transport = parseTransport(r, uri, uriKey, p.substr(10), u.uri);
      if (sips && u.transport != Transport::Tls)
        r.fail(uri, uriKey, "'" + u.uri + "' is sips: over " + std::string(transportName(u.transport)) + "; allowed: sips: with transport=tls or none");
    } else if (p != "lr") {
      r.fail(uri, uriKey, "'" + u.uri + "' has parameter '" + std::string(p) + "'; allowed: transport=udp|tcp, lr (and transport=tls)");
    }
  }
  if (sips) u.transport = Transport::Tls;
  return u;
}

constexpr std::size_t kMaxUpstreams = 1000;

void readUpstreams(const Reader& r, const YAML::Node& root, UpstreamList& out) {
  const YAML::Node ups = r.nonEmptyList(root, "upstreams", "{name, uri}", "upstreams: [{ name: primary, uri: \"sip:127.0.0.1:5070\" }]");
  if (ups.size() > kMaxUpstreams)   // per-registrant state holds a node's place in 16 bits
    r.fail(ups, "upstreams", std::to_string(ups.size()) + " nodes; allowed: at most " + std::to_string(kMaxUpstreams));
  Keys names;
  for (std::size_t i = 0; i < ups.size(); ++i) {
    const std::string key = "upstreams[" + std::to_string(i) + "]";
    out.push_back(readUpstream(r, ups[i], key));
    if (!names.insert(out.back().name).second)
      r.fail(ups[i]["name"], key + ".name", "'" + out.back().name + "' is used twice; allowed: unique names");
  }
}

Config read(const YAML::Node& root, const Reader& r) {
  Config c;
  if (!root.IsDefined() || root.IsNull())
    throw ConfigError(r.source() + ": the file is empty; required: listen, upstreams");
  r.onlyKeys(root, "", {"listen", "upstreams", "dns", "health", "failover", "registrant_groups", "pacing", "sbc",
                        "credentials", "log", "timers", "limits", "admin", "persistence", "shutdown", "security",
                        "rate_limits", "tls", "nat", "store", "cluster"});
  readListen(r, root, c.transport);
  readUpstreams(r, root, c.upstreams);

  if (const YAML::Node hc = root["health"]) {
    r.onlyKeys(hc, "health", {"probe_interval_ms", "probe_timeout_ms", "failures_to_down", "successes_to_up"});
    auto& h = c.health;
    if (hc["probe_interval_ms"]) h.probeInterval = Millis(r.integer(hc["probe_interval_ms"], "health.probe_interval_ms", 50, 3600000));
    if (hc["probe_timeout_ms"]) h.probeTimeout = Millis(r.integer(hc["probe_timeout_ms"], "health.probe_timeout_ms", 10, 60000));
    if (hc["failures_to_down"]) h.failuresToDown = static_cast<int>(r.integer(hc["failures_to_down"], "health.failures_to_down", 1, 100));
    if (hc["successes_to_up"]) h.successesToUp = static_cast<int>(r.integer(hc["successes_to_up"], "health.successes_to_up", 1, 100));
  }
  if (const YAML::Node d = root["dns"]) {
    r.onlyKeys(d, "dns", {"resolv_conf", "ip_literal_ttl_s", "startup_timeout_s"});
    if (d["startup_timeout_s"])
      c.dns.startupTimeout = Seconds(r.integer(d["startup_timeout_s"], "dns.startup_timeout_s", 0, 3600));
    if (d["resolv_conf"]) c.dns.resolvConf = r.string(d["resolv_conf"], "dns.resolv_conf");
    if (d["ip_literal_ttl_s"])
      c.routing.ipLiteralDnsTtl = Seconds(r.integer(d["ip_literal_ttl_s"], "dns.ip_literal_ttl_s", 1, 86400));
    c.dns.ipLiteralTtlGiven = static_cast<bool>(d["ip_literal_ttl_s"]);
  }
  readRouting(r, root, c.routing);
  if (root["credentials"]) readCredentials(r, root["credentials"], r.path(), c.routing.credentials);
  if (const YAML::Node log = root["log"]) {
    r.onlyKeys(log, "log", {"level", "format"});
    if (log["format"]) {
      const std::string f = r.string(log["format"], "log.format");
      if (f != "text" && f != "json") r.fail(log["format"], "log.format", "'" + f + "' is not allowed; allowed: text, json");
      c.log.json = f == "json";
    }
    if (log["level"]) {
      const std::string given = r.string(log["level"], "log.level");
      // spdlog's names, plus the spellings administrators write (syslog's "warning", "err"),
      // in any case; stored as spdlog's own name.
      static const std::map<std::string, std::string> levels{
          {"trace", "trace"}, {"debug", "debug"}, {"info", "info"},         {"warn", "warn"},
          {"warning", "warn"}, {"error", "error"}, {"err", "error"},        {"critical", "critical"},
          {"crit", "critical"}, {"fatal", "critical"}, {"off", "off"}, {"none", "off"}};
      std::string lower = given;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const auto level = levels.find(lower);
      if (level == levels.end())
        r.fail(log["level"], "log.level",
               "'" + given + "' is not allowed; allowed: trace, debug, info, warn (or warning), error (or err), "
               "critical, off");
      c.log.level = level->second;
    }
  }
  if (const YAML::Node t = root["timers"]) readTimers(r, t, c.timers);
  if (const YAML::Node l = root["limits"]) {
    r.onlyKeys(l, "limits", {"max_message_bytes", "max_tcp_connections", "tcp_idle_timeout_s", "max_headers",
                             "max_header_bytes", "max_via", "partial_message_timeout_s", "max_connections_per_source"});
    if (l["max_message_bytes"]) c.transport.maxMessageBytes = r.integer(l["max_message_bytes"], "limits.max_message_bytes", 1024, 1048576);
    if (l["max_tcp_connections"]) c.transport.maxTcpConnections = r.integer(l["max_tcp_connections"], "limits.max_tcp_connections", 1, 1000000);
    if (l["tcp_idle_timeout_s"]) c.transport.tcpIdleTimeout = Seconds(r.integer(l["tcp_idle_timeout_s"], "limits.tcp_idle_timeout_s", 1, 86400));
    readMessageLimits(r, l, c);
  }
  readAccess(r, root, c.guard.access);
  readTls(r, root, c);
  readRateLimits(r, root, c.guard.rate);
  readNat(r, root, c.nat);
  if (const YAML::Node a = root["admin"]) {
    r.onlyKeys(a, "admin", {"listen"});
    if (!a["listen"]) r.missing(a, "admin.listen", "admin: { listen: \"127.0.0.1:8080\" }");
    const std::string text = r.string(a["listen"], "admin.listen");
    const auto hp = parseHostPort(r, a["listen"], "admin.listen", text, text, std::nullopt);
    c.admin = AdminConfig{true, hp.host, hp.port};
  }
  if (const YAML::Node p = root["persistence"]) {
    r.onlyKeys(p, "persistence", {"path", "flush_interval_ms"});
    if (!p["path"]) r.missing(p, "persistence.path", "persistence: { path: /var/lib/switchback/bindings.db }");
    c.persistence.path = r.string(p["path"], "persistence.path");
    if (c.persistence.path.empty()) r.fail(p["path"], "persistence.path", "is empty; give the database file's path");
    if (p["flush_interval_ms"])
      c.persistence.flushInterval = Millis(r.integer(p["flush_interval_ms"], "persistence.flush_interval_ms", 10, 60000));
  }
  if (root["persistence"] && root["store"])
    r.fail(root["store"], "store", "and persistence: are two ways to say one thing; keep one");
  readStore(r, root, c);
  readCluster(r, root, c);
  if (const YAML::Node s = root["shutdown"]) {
    r.onlyKeys(s, "shutdown", {"drain_timeout_ms"});
    if (s["drain_timeout_ms"])
      c.shutdown.drainTimeout = Millis(r.integer(s["drain_timeout_ms"], "shutdown.drain_timeout_ms", 0, 300000));
  }
  return c;
}

std::string withLine(const std::string& source, const YAML::Mark& mark) {
  return mark.line >= 0 ? source + ":" + std::to_string(mark.line + 1) : source;
}

} // namespace

Config loadConfigString(const std::string& yaml, const std::string& sourceName) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(withLine(sourceName, e.mark) + ": YAML syntax error: " + e.msg);
  }
  try {
    const Reader r(sourceName, root);
    return read(root, r);
  } catch (const YAML::Exception& e) {
    // A safety net: the reader checks node kinds before converting, so this should not happen.
    throw ConfigError(withLine(sourceName, e.mark) + ": " + e.msg);
  }
}

Config loadConfigFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(path + ": cannot read the file: it is a directory");
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the file: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return loadConfigString(ss.str(), path);
}

} // namespace switchback
