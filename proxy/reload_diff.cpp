#include "proxy/reload_diff.h"

namespace switchback {

std::vector<std::string> restartOnlyChanges(const Config& running, const Config& fresh) {
  std::vector<std::string> kept;
  const auto& t = running.transport;
  const auto& f = fresh.transport;
  if (f.listen != t.listen) kept.emplace_back("listen");
  if (fresh.admin.enabled != running.admin.enabled || fresh.admin.host != running.admin.host ||
      fresh.admin.port != running.admin.port)
    kept.emplace_back("admin");
  if (fresh.persistence.path != running.persistence.path) kept.emplace_back("persistence.path");
  if (f.maxMessageBytes != t.maxMessageBytes || f.maxTcpConnections != t.maxTcpConnections ||
      f.tcpIdleTimeout != t.tcpIdleTimeout || f.maxHeaderBytes != t.maxHeaderBytes ||
      f.maxHeaderLines != t.maxHeaderLines || f.partialMessageTimeout != t.partialMessageTimeout ||
      f.maxConnectionsPerSource != t.maxConnectionsPerSource || !(fresh.guard.limits == running.guard.limits))
    kept.emplace_back("limits");
  if (!(f.tls == t.tls)) kept.emplace_back("tls");
  if (fresh.dns.resolvConf != running.dns.resolvConf) kept.emplace_back("dns");
  if (!(fresh.store == running.store)) kept.emplace_back("store");
  if (!(fresh.cluster == running.cluster)) kept.emplace_back("cluster");
  return kept;
}

Config appliedConfig(const Config& running, Config fresh) {
  fresh.transport = running.transport;
  fresh.admin = running.admin;
  fresh.persistence.path = running.persistence.path;
  fresh.dns = running.dns;
  fresh.guard.limits = running.guard.limits;
  fresh.store = running.store;
  fresh.cluster = running.cluster;
  return fresh;
}

} // namespace switchback
