#include "conf/config.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

namespace switchback {

namespace {

// Walks the YAML tree keeping the key path and the file name, so every error says where.
class Reader {
public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& what) const {
    std::string where = source_;
    if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
    throw ConfigError(where + ": " + key + ": " + what);
  }

  void onlyKeys(const YAML::Node& map, const std::string& key, const std::set<std::string>& allowed) const {
    if (!map.IsMap()) fail(map, key.empty() ? "(top level)" : key, "expected a mapping of keys");
    for (const auto& kv : map) {
      const auto name = kv.first.as<std::string>();
      if (allowed.count(name)) continue;
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(kv.first, key.empty() ? name : key + "." + name, "unknown key; allowed: " + list);
    }
  }

  std::string string(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a string");
    return node.as<std::string>();
  }

  std::uint64_t integer(const YAML::Node& node, const std::string& key, std::uint64_t min, std::uint64_t max) const {
    if (!node.IsScalar()) fail(node, key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
    const auto text = node.as<std::string>();
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max)
      fail(node, key, "'" + text + "' is not allowed; allowed: " + std::to_string(min) + "-" + std::to_string(max));
    return v;
  }

  const std::string& source() const { return source_; }
  const std::string& path() const { return source_; }

private:
  std::string source_;
};

struct HostPort {
  std::string host;
  std::uint16_t port;
};

// "host:port" or "[v6]:port" with an IP literal host.
HostPort parseHostPort(const Reader& r, const YAML::Node& node, const std::string& key, std::string_view text,
                       std::optional<std::uint16_t> defaultPort) {
  std::string host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) r.fail(node, key, "'" + std::string(text) + "' has an unclosed '['");
    host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') r.fail(node, key, "'" + std::string(text) + "': expected ':' after ']'");
      port = rest.substr(1);
    }
  } else {
    const auto colon = text.rfind(':');
    host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (host.empty() || ec)
    r.fail(node, key, "'" + std::string(text) + "' has host '" + host + "'; allowed: an IPv4 address or a bracketed IPv6 address");
  if (port.empty()) {
    if (!defaultPort) r.fail(node, key, "'" + std::string(text) + "' has no port; allowed: host:port");
    return {host, *defaultPort};
  }
  unsigned v = 0;
  const auto [p, e] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (e != std::errc() || p != port.data() + port.size() || v < 1 || v > 65535)
    r.fail(node, key, "'" + std::string(text) + "' has port " + std::string(port) + "; allowed: 1-65535");
  return {host, static_cast<std::uint16_t>(v)};
}

Transport parseTransport(const Reader& r, const YAML::Node& node, const std::string& key, std::string_view t,
                         std::string_view text) {
  if (t == "udp" || t == "UDP") return Transport::Udp;
  if (t == "tcp" || t == "TCP") return Transport::Tcp;
  r.fail(node, key, "'" + std::string(text) + "' has transport '" + std::string(t) + "'; allowed: udp, tcp");
}

void readListen(const Reader& r, const YAML::Node& node, TransportConfig& t) {
  if (!node.IsDefined()) r.fail(node, "listen", "missing; e.g. listen: [\"udp:127.0.0.1:5060\"]");
  if (!node.IsSequence() || node.size() == 0)
    r.fail(node, "listen", "expected a non-empty list of \"transport:host:port\"");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string key = "listen[" + std::to_string(i) + "]";
    const std::string text = r.string(node[i], key);
    const auto colon = text.find(':');
    if (colon == std::string::npos) r.fail(node[i], key, "'" + text + "': expected \"transport:host:port\"");
    ListenAddress l;
    l.transport = parseTransport(r, node[i], key, std::string_view(text).substr(0, colon), text);
    const auto hp = parseHostPort(r, node[i], key, std::string_view(text).substr(colon + 1), std::nullopt);
    l.host = hp.host;
    l.port = hp.port;
    if (!seen.insert(std::string(transportName(l.transport)) + hp.host + ":" + std::to_string(hp.port)).second)
      r.fail(node[i], key, "'" + text + "' is listed twice");
    t.listen.push_back(l);
  }
}

bool flag(const Reader& r, const YAML::Node& node, const std::string& key) {
  const std::string v = r.string(node, key);
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  r.fail(node, key, "'" + v + "' is not allowed; allowed: 0, 1");
}

// The advisory's parameters, by their own names, for one scope.
FailoverOverrides readOverrides(const Reader& r, const YAML::Node& node, const std::string& key, bool allowNested) {
  std::set<std::string> keys{"reRegisterOn", "failRegistrationOn", "onlySignalWithRegistered", "failBack"};
  if (allowNested) keys.insert("outboundProxy");
  r.onlyKeys(node, key, keys);
  FailoverOverrides o;
  if (node["reRegisterOn"]) o.reRegisterOn = flag(r, node["reRegisterOn"], key + ".reRegisterOn");
  if (node["failRegistrationOn"]) o.failRegistrationOn = flag(r, node["failRegistrationOn"], key + ".failRegistrationOn");
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
  if (const YAML::Node g = root["registrant_groups"]) {
    if (!g.IsSequence()) r.fail(g, "registrant_groups", "expected a list of {name, match, failover}");
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::string key = "registrant_groups[" + std::to_string(i) + "]";
      r.onlyKeys(g[i], key, {"name", "match", "failover"});
      RegistrantGroup group;
      if (!g[i]["name"]) r.fail(g[i], key + ".name", "missing");
      if (!g[i]["match"]) r.fail(g[i], key + ".match", "missing; e.g. match: \"sip:1*@example.com\"");
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
    if (x.backoffMax < x.backoffBase) r.fail(p, "pacing.backoff_max_s", "is below backoff_base_s");
  }
  if (const YAML::Node b = root["sbc"]) {
    r.onlyKeys(b, "sbc", {"require_registration", "reject_status", "reject_reason", "dialog_end_status", "dialog_end_reason",
                          "max_phone_expires_s"});
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
  r.onlyKeys(node, key, {"name", "uri", "role"});
  UpstreamConfig u;
  if (!node["name"]) r.fail(node, key + ".name", "missing");
  u.name = r.string(node["name"], key + ".name");
  if (u.name.empty() || u.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
    r.fail(node["name"], key + ".name", "'" + u.name + "' is not allowed; allowed: letters, digits, '_' and '-'");
  if (!node["uri"]) r.fail(node, key + ".uri", "missing; e.g. uri: \"sip:127.0.0.1:5070\"");
  u.uri = r.string(node["uri"], key + ".uri");
  std::string_view rest(u.uri);
  if (rest.substr(0, 4) != "sip:")
    r.fail(node["uri"], key + ".uri", "'" + u.uri + "' is not allowed; allowed: sip:HOST[:PORT][;transport=udp|tcp]");
  rest.remove_prefix(4);
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
  const auto hp = parseHostPort(r, node["uri"], key + ".uri", rest, 5060);
  u.host = hp.host;
  u.port = hp.port;
  while (!params.empty()) {
    const auto semi = params.find(';');
    const std::string_view p = params.substr(0, semi);
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.substr(0, 10) == "transport=") u.transport = parseTransport(r, node["uri"], key + ".uri", p.substr(10), u.uri);
    else if (p != "lr")
      r.fail(node["uri"], key + ".uri", "'" + u.uri + "' has parameter '" + std::string(p) + "'; allowed: transport, lr");
  }
  return u;
}

Config read(const YAML::Node& root, const Reader& r) {
  Config c;
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(r.source() + ": the file is empty");
  r.onlyKeys(root, "", {"listen", "upstreams", "health", "failover", "registrant_groups", "pacing", "sbc", "credentials",
                        "log", "timers", "limits", "admin"});
  readListen(r, root["listen"], c.transport);

  const YAML::Node ups = root["upstreams"];
  if (!ups.IsDefined()) r.fail(root, "upstreams", "missing; list the registrars in priority order");
  if (!ups.IsSequence() || ups.size() == 0) r.fail(ups, "upstreams", "expected a non-empty list of {name, uri}");
  std::set<std::string> names;
  for (std::size_t i = 0; i < ups.size(); ++i) {
    const std::string key = "upstreams[" + std::to_string(i) + "]";
    c.upstreams.push_back(readUpstream(r, ups[i], key));
    if (!names.insert(c.upstreams.back().name).second)
      r.fail(ups[i]["name"], key + ".name", "'" + c.upstreams.back().name + "' is used twice; names must be unique");
  }

  if (const YAML::Node hc = root["health"]) {
    r.onlyKeys(hc, "health", {"probe_interval_ms", "probe_timeout_ms", "failures_to_down", "successes_to_up"});
    auto& h = c.health;
    if (hc["probe_interval_ms"]) h.probeInterval = Millis(r.integer(hc["probe_interval_ms"], "health.probe_interval_ms", 50, 3600000));
    if (hc["probe_timeout_ms"]) h.probeTimeout = Millis(r.integer(hc["probe_timeout_ms"], "health.probe_timeout_ms", 10, 60000));
    if (hc["failures_to_down"]) h.failuresToDown = static_cast<int>(r.integer(hc["failures_to_down"], "health.failures_to_down", 1, 100));
    if (hc["successes_to_up"]) h.successesToUp = static_cast<int>(r.integer(hc["successes_to_up"], "health.successes_to_up", 1, 100));
  }
  readRouting(r, root, c.routing);
  if (root["credentials"]) readCredentials(r, root["credentials"], r.path(), c.routing.credentials);
  if (const YAML::Node log = root["log"]) {
    r.onlyKeys(log, "log", {"level"});
    if (log["level"]) {
      c.log.level = r.string(log["level"], "log.level");
      static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (!levels.count(c.log.level))
        r.fail(log["level"], "log.level", "'" + c.log.level + "' is not allowed; allowed: trace, debug, info, warn, error, critical, off");
    }
  }
  if (const YAML::Node t = root["timers"]) {
    r.onlyKeys(t, "timers", {"t1_ms", "t2_ms", "t4_ms"});
    if (t["t1_ms"]) c.timers.t1 = Millis(r.integer(t["t1_ms"], "timers.t1_ms", 10, 10000));
    if (t["t2_ms"]) c.timers.t2 = Millis(r.integer(t["t2_ms"], "timers.t2_ms", 10, 60000));
    if (t["t4_ms"]) c.timers.t4 = Millis(r.integer(t["t4_ms"], "timers.t4_ms", 100, 60000));
    if (c.timers.t2 < c.timers.t1)
      r.fail(t, "timers.t2_ms", std::to_string(c.timers.t2.count()) + " is below t1_ms; allowed: t1_ms-60000");
  }
  if (const YAML::Node l = root["limits"]) {
    r.onlyKeys(l, "limits", {"max_message_bytes", "max_tcp_connections", "tcp_idle_timeout_s"});
    if (l["max_message_bytes"]) c.transport.maxMessageBytes = r.integer(l["max_message_bytes"], "limits.max_message_bytes", 1024, 1048576);
    if (l["max_tcp_connections"]) c.transport.maxTcpConnections = r.integer(l["max_tcp_connections"], "limits.max_tcp_connections", 1, 1000000);
    if (l["tcp_idle_timeout_s"]) c.transport.tcpIdleTimeout = Seconds(r.integer(l["tcp_idle_timeout_s"], "limits.tcp_idle_timeout_s", 1, 86400));
  }
  if (const YAML::Node a = root["admin"]) {
    r.onlyKeys(a, "admin", {"listen"});
    if (!a["listen"]) r.fail(a, "admin.listen", "missing; e.g. admin: { listen: \"127.0.0.1:8080\" }");
    const std::string text = r.string(a["listen"], "admin.listen");
    const auto hp = parseHostPort(r, a["listen"], "admin.listen", text, std::nullopt);
    c.admin = AdminConfig{true, hp.host, hp.port};
  }
  return c;
}

} // namespace

Config loadConfigString(const std::string& yaml, const std::string& sourceName) {
  const Reader r(sourceName);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(sourceName + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  try {
    return read(root, r);
  } catch (const YAML::Exception& e) {
    throw ConfigError(sourceName + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Config loadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the file");
  std::stringstream ss;
  ss << in.rdbuf();
  return loadConfigString(ss.str(), path);
}

} // namespace switchback
