#include "routing/upstream_router.h"

namespace switchback {

std::optional<NextHop> UpstreamRouter::upstreamFor(std::string_view, std::string_view) {
  return hop(nodes_.primary());
}

std::optional<NextHop> UpstreamRouter::nodeAt(const Endpoint& address) const {
  if (const UpstreamNode* n = nodes_.findBySource(address)) return hop(*n);
  return std::nullopt;
}

} // namespace switchback
