#pragma once

#include "core/clock.h"
#include "core/flow.h"
#include "health/dns_resolver.h"
#include "health/upstream_config.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchback {

/// One upstream node as the rest of Switchback sees it. Health state arrives with the
/// health issue; until then every configured node is taken as up.
struct UpstreamNode {
  std::size_t index = 0;           // priority: 0 is the primary
  std::string name;
  std::string uri;
  Transport transport = Transport::Udp;
  Endpoint endpoint;
  bool outboundProxy = false;
  std::string upstream;            // the configured upstream it came from
  std::string dnsTarget;           // the host name it was resolved from; empty for IP literals
  std::optional<Seconds> dnsTtl;   // the TTL of its DNS records (failBack.mode DNSTTL)
  TimePoint dnsExpires{};
};

/// The configured upstreams, resolved to addresses, in priority order.
class NodeTable {
public:
  using Resolved = std::map<std::string, std::vector<DnsTarget>>;  // host name → its targets

  /// Upstreams with an IP literal are one node each; a DNS name becomes one node per target,
  /// in SRV priority/weight order. Throws std::invalid_argument naming an upstream it cannot use.
  explicit NodeTable(const UpstreamList& upstreams, const Resolved& resolved = {}, TimePoint now = {});

  /// A re-resolution of `host`: nodes resolved from it take the new addresses and TTL of the
  /// same targets (the set of nodes itself is fixed at start). Returns how many changed address.
  std::size_t refresh(const std::string& host, const std::vector<DnsTarget>& targets, TimePoint now);

  /// Old node index → its index in the new table (by name), nullopt if it is gone.
  using Remap = std::vector<std::optional<std::size_t>>;
  /// A reload: takes `fresh`'s nodes and says where each old one went.
  Remap replace(NodeTable&& fresh);

  const std::vector<UpstreamNode>& nodes() const { return nodes_; }
  const UpstreamNode& primary() const { return nodes_.front(); }

  /// The node a message came from, by its source address (any transport).
  const UpstreamNode* findBySource(const Endpoint& source) const;
  const UpstreamNode* findByName(std::string_view name) const;

private:
  std::vector<UpstreamNode> nodes_;
};

} // namespace switchback
