#pragma once

#include "core/flow.h"
#include "health/upstream_config.h"

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
};

/// The configured upstreams, resolved to addresses, in priority order.
class NodeTable {
public:
  /// Throws std::invalid_argument naming the node if its host is not an IP literal.
  explicit NodeTable(const UpstreamList& upstreams);

  const std::vector<UpstreamNode>& nodes() const { return nodes_; }
  const UpstreamNode& primary() const { return nodes_.front(); }

  /// The node a message came from, by its source address (any transport).
  const UpstreamNode* findBySource(const Endpoint& source) const;
  const UpstreamNode* findByName(std::string_view name) const;

private:
  std::vector<UpstreamNode> nodes_;
};

} // namespace switchback
