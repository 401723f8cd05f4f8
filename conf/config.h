#pragma once

#include "core/guard_config.h"
#include "core/nat_config.h"
#include "core/store/cluster_config.h"
#include "core/timer_config.h"
#include "core/transport_config.h"
#include "health/node_health.h"
#include "health/upstream_config.h"
#include "routing/routing_config.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace switchback {

struct LogConfig {
  std::string level = "info";      // trace, debug, info, warn, error, critical, off
  bool json = false;               // one JSON object per line, for log shippers
};

/// Bindings on disk, restored at start (empty path: kept in memory only).
struct PersistenceConfig {
  std::string path;
  Millis flushInterval{200};       // the loss window after a crash
};

struct ShutdownConfig {
  Millis drainTimeout{5000};       // SIGTERM: how long transactions in flight may take to finish
};

struct DnsConfig {
  std::string resolvConf;          // empty: /etc/resolv.conf; sofia-sip's format also takes "port N"
  bool ipLiteralTtlGiven = false;  // dns.ip_literal_ttl_s was set (else DNSTTL over IP literals is warned about)
  /// How long a start waits for names (upstreams, listen addresses) to resolve: in a container or
  /// at boot the resolver may come up after Switchback. Retried each second until then.
  Seconds startupTimeout{30};
};

struct AdminConfig {
  bool enabled = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

/// Everything Switchback reads from its YAML file, validated.
struct Config {
  TransportConfig transport;
  TimerConfig timers;
  UpstreamList upstreams;
  DnsConfig dns;
  HealthConfig health;
  RoutingConfig routing;
  LogConfig log;
  AdminConfig admin;
  PersistenceConfig persistence;
  ShutdownConfig shutdown;
  GuardConfig guard;               // limits:, security:, rate_limits: (hostile networks)
  NatConfig nat;                   // keep-alives to phones behind NAT, STUN, Flow-Timer
  StoreConfig store;               // store: kind sqlite (persistence.path) or redis
  ClusterConfig cluster;           // cluster: nodes sharing bindings through the redis store
};

/// A configuration error a person can act on: "FILE:LINE: key 'a.b': what is wrong (allowed: …)".
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

Config loadConfigFile(const std::string& path);
Config loadConfigString(const std::string& yaml, const std::string& sourceName = "<string>");
/// What a valid configuration does that its author may not expect, one sentence each (printed by
/// --check-config and logged at start).
std::vector<std::string> configWarnings(const Config& config);

} // namespace switchback
