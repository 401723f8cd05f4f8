#pragma once
// Inside conf/: reading the YAML tree with an error that says file:line for every mistake, and
// the readers of the config's sections that config_loader.cpp calls (config_sections.cpp).

#include "conf/config.h"

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>
#include <yaml-cpp/yaml.h>

namespace switchback::config_reading {

using Keys = std::set<std::string>;

std::string joined(const Keys& keys);
// What the person wrote instead, for "expected X, got Y".
std::string kindOf(const YAML::Node& node);

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

// "host:port" or "[v6]:port" with an IP literal host (or a DNS name where allowName). `text` is
// the value as written, for messages; `hostPort` the part of it to parse.
HostPort parseHostPort(const Reader& r, const YAML::Node& node, const std::string& key, const std::string& text,
                       std::string_view hostPort, std::optional<std::uint16_t> defaultPort, bool allowName = false);
Transport parseTransport(const Reader& r, const YAML::Node& node, const std::string& key, std::string_view t,
                         const std::string& text);
bool flag(const Reader& r, const YAML::Node& node, const std::string& key);
std::vector<std::string> stringList(const Reader& r, const YAML::Node& node, const std::string& key, const std::string& of);

// The sections of transport, security and store (config_sections.cpp).
void readTimers(const Reader& r, const YAML::Node& t, TimerConfig& c);
void readTls(const Reader& r, const YAML::Node& root, Config& c);
void readMessageLimits(const Reader& r, const YAML::Node& l, Config& c);
void readAccess(const Reader& r, const YAML::Node& root, AccessConfig& a);
void readRateLimits(const Reader& r, const YAML::Node& root, RateLimitConfig& x);
void readNat(const Reader& r, const YAML::Node& root, NatConfig& nat);
void readStore(const Reader& r, const YAML::Node& root, Config& c);
void readCluster(const Reader& r, const YAML::Node& root, Config& c);

} // namespace switchback::config_reading
