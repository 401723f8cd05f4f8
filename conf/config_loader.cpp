#include "conf/config.h"
#include "core/store/redis_connection.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

namespace switchback {

namespace {

using Keys = std::set<std::string>;

std::string joined(const Keys& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// What the person wrote instead, for "expected X, got Y".
std::string kindOf(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return node.size() == 0 ? "an empty list" : "a list";
  return "'" + node.Scalar() + "'";
}

// Walks the YAML tree keeping the file name, so every error says where.
class Reader {
public:
  Reader(std::string source, const YAML::Node& root) : source_(std::move(source)) { indexEmptyValues(root, 0); }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& what) const {
    std::string where = source_;
    if (node.IsDefined()) {
      const YAML::Mark mark = markOf(node);
      if (mark.line >= 0) where += ":" + std::to_string(mark.line + 1);
    }
    throw ConfigError(where + ": " + key + ": " + what);
  }

  // A missing key has no node of its own: point at the mapping that should hold it.
  [[noreturn]] void missing(const YAML::Node& parent, const std::string& key, const std::string& example) const {
    fail(parent, key, "missing; required, e.g. " + example);
  }

  void onlyKeys(const YAML::Node& map, const std::string& key, const Keys& allowed) const {
    const std::string where = key.empty() ? "(top level)" : key;
    if (!map.IsMap()) fail(map, where, "expected a mapping with keys " + joined(allowed) + ", got " + kindOf(map));
    Keys seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) fail(kv.first, where, "has a key that is " + kindOf(kv.first) + "; allowed: " + joined(allowed));
      const std::string& name = kv.first.Scalar();
      const std::string path = key.empty() ? name : key + "." + name;
      if (!allowed.count(name)) fail(kv.first, path, "unknown key; allowed: " + joined(allowed));
      // yaml-cpp keeps both entries and lookups find the first, so the second would be silently ignored.
      if (!seen.insert(name).second) fail(kv.first, path, "appears twice in the same mapping; allowed: once");
    }
  }

  YAML::Node nonEmptyList(const YAML::Node& parent, const std::string& key, const std::string& of,
                          const std::string& example) const {
    const YAML::Node node = parent[key];
    if (!node.IsDefined()) missing(parent, key, example);
    if (!node.IsSequence() || node.size() == 0)
      fail(node, key, "expected a non-empty list of " + of + ", got " + kindOf(node) + "; e.g. " + example);
    return node;
  }

  std::string string(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a string, got " + kindOf(node));
    return node.Scalar();
  }

  std::uint64_t integer(const YAML::Node& node, const std::string& key, std::uint64_t min, std::uint64_t max) const {
    const std::string range = std::to_string(min) + "-" + std::to_string(max);
    if (!node.IsScalar()) fail(node, key, "expected an integer, got " + kindOf(node) + "; allowed: " + range);
    const std::string& text = node.Scalar();
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max)
      fail(node, key, "'" + text + "' is not allowed; allowed: " + range);
    return v;
  }

  const std::string& source() const { return source_; }
  const std::string& path() const { return source_; }

private:
  // yaml-cpp marks an empty value ("timers:" and nothing after it) at the next token, which is
  // usually the next line's key; remember the value's own key so errors point at its line.
  void indexEmptyValues(const YAML::Node& node, int depth) {
    if (depth > 32) return;  // deeper than any valid config; aliases could make it endless
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (kv.second.IsNull()) emptyValueKeys_.emplace(kv.second.Mark().pos, kv.first.Mark());
        else indexEmptyValues(kv.second, depth + 1);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) indexEmptyValues(item, depth + 1);
    }
  }

  YAML::Mark markOf(const YAML::Node& node) const {
    if (node.IsNull()) {
      if (const auto it = emptyValueKeys_.find(node.Mark().pos); it != emptyValueKeys_.end()) return it->second;
    }
    return node.Mark();
  }

  std::string source_;
  std::map<int, YAML::Mark> emptyValueKeys_;
};

struct HostPort {
  std::string host;       // without brackets
  std::uint16_t port;
  std::string canonical;  // "[::1]:5060" however the address was spelled, to find duplicates
  bool isName = false;    // a DNS name (only where names are allowed)
  bool portGiven = false;
};

bool isDnsName(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.front() == '-') return false;
  bool letter = false;
  for (char c : h) {
    if (std::isalpha(static_cast<unsigned char>(c))) letter = true;
    else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return letter;
}

// "host:port" or "[v6]:port" with an IP literal host. `text` is the value as written, for
// messages; `hostPort` the part of it to parse.
HostPort parseHostPort(const Reader& r, const YAML::Node& node, const std::string& key, const std::string& text,
                       std::string_view hostPort, std::optional<std::uint16_t> defaultPort, bool allowName = false) {
  const std::string quoted = "'" + text + "'";
  const bool bracketed = !hostPort.empty() && hostPort.front() == '[';
  std::string_view host = hostPort;
  std::optional<std::string_view> port;
  if (bracketed) {
    const auto close = hostPort.find(']');
    if (close == std::string_view::npos) r.fail(node, key, quoted + " has an unclosed '['; allowed: [IPv6]:PORT");
    host = hostPort.substr(1, close - 1);
    const auto rest = hostPort.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        r.fail(node, key, quoted + " has '" + std::string(rest) + "' after ']'; allowed: ':' and a port 1-65535");
      port = rest.substr(1);
    }
  } else if (const auto colon = hostPort.find(':'); colon != std::string_view::npos) {
    if (hostPort.find(':', colon + 1) != std::string_view::npos)
      r.fail(node, key, quoted + " has an IPv6 address without brackets; allowed: [IPv6]:PORT, e.g. [::1]:5060");
    host = hostPort.substr(0, colon);
    port = hostPort.substr(colon + 1);
  }

  std::uint16_t portValue = defaultPort.value_or(0);
  if (port) {
    unsigned v = 0;
    const auto [p, e] = std::from_chars(port->data(), port->data() + port->size(), v);
    if (port->empty() || e != std::errc() || p != port->data() + port->size() || v < 1 || v > 65535)
      r.fail(node, key, quoted + (port->empty() ? " has an empty port" : " has port " + std::string(*port)) + "; allowed: 1-65535");
    portValue = static_cast<std::uint16_t>(v);
  } else if (!defaultPort) {
    r.fail(node, key, quoted + " has no port; allowed: HOST:PORT with PORT 1-65535");
  }

  const std::string hostText(host);
  if (allowName && !bracketed && isDnsName(hostText)) {
    boost::system::error_code v4;
    boost::asio::ip::make_address_v4(hostText, v4);
    if (v4) return {hostText, portValue, hostText + ":" + std::to_string(portValue), true, port.has_value()};
  }
  boost::system::error_code ec;
  std::string canonical;
  if (bracketed) {
    canonical = "[" + boost::asio::ip::make_address_v6(hostText, ec).to_string() + "]";
    boost::system::error_code v4;
    if (ec && (boost::asio::ip::make_address_v4(hostText, v4), !v4))
      r.fail(node, key, quoted + " has an IPv4 address in brackets; allowed: brackets only around an IPv6 address");
  } else {
    canonical = boost::asio::ip::make_address_v4(hostText, ec).to_string();
  }
  if (ec || hostText.empty())
    r.fail(node, key,
           quoted + " has host '" + hostText + "'; allowed: " +
               (allowName ? "an IPv4 address, a bracketed IPv6 address or a DNS name"
                          : "an IPv4 address or a bracketed IPv6 address (not a DNS name)"));
  return {hostText, portValue, canonical + ":" + std::to_string(portValue), false, port.has_value()};
}

Transport parseTransport(const Reader& r, const YAML::Node& node, const std::string& key, std::string_view t,
                         const std::string& text) {
  if (t == "udp" || t == "UDP") return Transport::Udp;
  if (t == "tcp" || t == "TCP") return Transport::Tcp;
  if (t == "tls" || t == "TLS") return Transport::Tls;
  r.fail(node, key, "'" + text + "' has transport '" + std::string(t) + "'; allowed: udp, tcp, tls");
}

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

bool flag(const Reader& r, const YAML::Node& node, const std::string& key) {
  const std::string v = r.string(node, key);
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  r.fail(node, key, "'" + v + "' is not allowed; allowed: 0, 1");
}

// The advisory's parameters, by their own names, for one scope.
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

std::vector<std::string> stringList(const Reader& r, const YAML::Node& node, const std::string& key, const std::string& of) {
  if (!node.IsSequence()) r.fail(node, key, "expected a list of " + of + ", got " + kindOf(node));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) out.push_back(r.string(node[i], key + "[" + std::to_string(i) + "]"));
  return out;
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
