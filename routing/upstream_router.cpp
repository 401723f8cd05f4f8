#include "routing/upstream_router.h"

namespace switchback {

const UpstreamNode& UpstreamRouter::nodeForRequest(std::string_view) const { return nodes_.primary(); }

} // namespace switchback
