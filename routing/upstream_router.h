#pragma once

#include "health/node_table.h"

namespace switchback {

/// Chooses the upstream node for a request from a phone. For now every request goes to
/// the primary; the failover policy chain replaces this with the advisory's rules.
class UpstreamRouter {
public:
  explicit UpstreamRouter(const NodeTable& nodes) : nodes_(nodes) {}

  const UpstreamNode& nodeForRequest(std::string_view aor) const;

private:
  const NodeTable& nodes_;
};

} // namespace switchback
