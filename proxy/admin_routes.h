#pragma once

#include "proxy/admin_server.h"
#include "proxy/status.h"

#include <functional>
#include <string>
#include <string_view>

namespace switchback {

/// The admin endpoint's routes, answered on the SIP thread from the live state:
///   GET  /                        the status page (HTML)
///   GET  /status                  everything, as JSON
///   GET  /status/bindings?aor=…   one registrant
///   GET  /metrics                 Prometheus text
///   GET  /healthz, /healthz/ready ready: not draining and some upstream node usable (else 503)
///   GET  /healthz/live            the SIP thread answers
///   POST /nodes/{name}/disable|enable   take a node out of service by hand, or back
/// `setNodeEnabled` carries out the POST (the view is read-only).
using SetNodeEnabled = std::function<void(const UpstreamNode& node, bool enabled)>;
AdminServer::Reply routeAdmin(std::string_view method, std::string_view target, const StatusView& view,
                              const SetNodeEnabled& setNodeEnabled);

/// %XX and '+' in a query or path segment.
std::string percentDecode(std::string_view s);

} // namespace switchback
