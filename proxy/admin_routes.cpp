#include "proxy/admin_routes.h"

#include <cstdlib>

namespace switchback {

std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(v));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

AdminServer::Reply routeAdmin(std::string_view method, std::string_view target, const StatusView& view,
                              const SetNodeEnabled& setNodeEnabled) {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (method == "POST" && path.starts_with("/nodes/")) {
    const auto slash = path.rfind('/');
    const std::string name = percentDecode(path.substr(7, slash > 7 ? slash - 7 : 0));
    const std::string_view action = path.substr(slash + 1);
    if (slash <= 7 || (action != "disable" && action != "enable"))
      return {404, "text/plain", "usage: POST /nodes/{name}/disable or /nodes/{name}/enable\n"};
    const UpstreamNode* n = view.nodes.findByName(name);
    if (n == nullptr) return {404, "text/plain", "no upstream node named '" + name + "'\n"};
    setNodeEnabled(*n, action == "enable");
    return {200, "application/json", renderStatusJson(view)};
  }
  if (method != "GET") return {405, "text/plain", "method not allowed\n"};
  if (path == "/healthz/live") return {200, "text/plain", "live\n"};  // the SIP thread answered
  if (path == "/healthz" || path == "/healthz/ready") {
    // Ready while not draining and some upstream node is usable.
    bool anyUsable = false;
    for (const auto& n : view.nodes.nodes()) anyUsable = anyUsable || view.health.usable(n.index, view.now);
    if (view.app.draining) return {503, "text/plain", "draining\n"};
    if (!anyUsable) return {503, "text/plain", "live, not ready: no upstream node is usable\n"};
    return {200, "text/plain", "ok\n"};
  }
  if (path == "/") return {200, "text/html; charset=utf-8", renderStatusPage(view)};
  if (path == "/metrics") return {200, "text/plain; version=0.0.4", renderMetrics(view)};
  if (path == "/status") return {200, "application/json", renderStatusJson(view)};
  if (path == "/status/bindings") {
    if (!query.starts_with("aor=")) return {400, "text/plain", "usage: /status/bindings?aor=sip:user@domain\n"};
    const std::string body = renderBindingJson(view, percentDecode(query.substr(4)));
    if (body.empty()) return {404, "application/json", "{\"error\":\"no such registrant\"}\n"};
    return {200, "application/json", body};
  }
  return {404, "text/plain", "not found\n"};
}

} // namespace switchback
