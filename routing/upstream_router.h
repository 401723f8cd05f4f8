#pragma once

#include "core/proxy_engine.h"
#include "health/node_table.h"

namespace switchback {

/// Chooses the upstream node for requests from phones. For now every request goes to the
/// primary; the failover policy chain replaces this with the advisory's rules.
class UpstreamRouter : public UpstreamPolicy {
public:
  explicit UpstreamRouter(const NodeTable& nodes) : nodes_(nodes) {}

  std::optional<NextHop> upstreamFor(std::string_view aor, std::string_view method) override;
  std::optional<NextHop> nodeAt(const Endpoint& address) const override;

private:
  static NextHop hop(const UpstreamNode& n) { return NextHop{n.name, n.transport, n.endpoint}; }
  const NodeTable& nodes_;
};

} // namespace switchback
