// The cluster part of the admin endpoint (/status "cluster", /metrics), kept apart from status.cpp.
#include "proxy/status.h"

#include <cstdio>

namespace switchback {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

} // namespace

std::string renderClusterJson(const StatusView& v) {
  if (!v.cluster) return "\"cluster\":null";
  const ClusterStatus& c = *v.cluster;
  std::string nodes;
  for (const auto& n : c.nodes) {
    if (!nodes.empty()) nodes += ",";
    nodes += "{\"id\":" + jsonEscape(n.id) + ",\"alive\":" + (n.alive ? "true" : "false") +
             ",\"self\":" + (n.id == c.config.nodeId ? "true" : "false") + ",\"heartbeat_age_ms\":" +
             (n.heartbeatAgeMs ? number(*n.heartbeatAgeMs) : "null") + ",\"owned\":" + std::to_string(n.owned) + "}";
  }
  const auto& s = c.store;
  return "\"cluster\":{\"name\":" + jsonEscape(c.config.name) + ",\"node_id\":" + jsonEscape(c.config.nodeId) +
         ",\"enabled\":" + (c.config.enabled ? "true" : "false") +
         ",\"shared_registrations\":" + (c.config.sharedRegistrations ? "true" : "false") +
         ",\"advertise\":" + jsonEscape(c.config.advertise) + ",\"nodes\":[" + nodes + "]" +
         ",\"takeovers\":" + std::to_string(c.takeovers) + ",\"taken_over\":" + std::to_string(c.takenOver) +
         ",\"unreadable_records\":" + std::to_string(c.unreadable) + ",\"store\":{\"kind\":\"redis\",\"url\":" +
         jsonEscape(c.url) + ",\"up\":" + (s.up ? "true" : "false") + ",\"written\":" + std::to_string(s.written) +
         ",\"errors\":" + std::to_string(s.errors) + ",\"unsent\":" + std::to_string(s.unsent) +
         ",\"in_flight\":" + std::to_string(s.inFlight) + ",\"published\":" + std::to_string(s.published) +
         ",\"received\":" + std::to_string(s.received) + ",\"loads\":" + std::to_string(s.loads) +
         ",\"lag_ms\":{\"last\":" + number(s.lagLastMs) + ",\"median\":" + number(s.lagMedianMs) +
         ",\"p99\":" + number(s.lagP99Ms) + ",\"samples\":" + std::to_string(s.lagSamples) + "}}}";
}

void appendClusterMetrics(std::string& out, const StatusView& v) {
  if (!v.cluster) return;
  const ClusterStatus& c = *v.cluster;
  auto metric = [&](const char* name, const char* type, const char* help, const std::string& value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " + value + "\n";
  };
  std::size_t alive = 0;
  for (const auto& n : c.nodes) alive += n.alive ? 1 : 0;
  metric("switchback_cluster_nodes", "gauge", "Nodes of the cluster alive now (heartbeat key present)", std::to_string(alive));
  out += "# HELP switchback_cluster_owned_bindings Registrants each node owns, as this node knows them\n"
         "# TYPE switchback_cluster_owned_bindings gauge\n";
  for (const auto& n : c.nodes)
    out += "switchback_cluster_owned_bindings{node=" + jsonEscape(n.id) + "} " + std::to_string(n.owned) + "\n";
  metric("switchback_cluster_takeovers_total", "counter", "Lapsed peers this node took a share of", std::to_string(c.takeovers));
  metric("switchback_cluster_taken_over_total", "counter", "Registrants this node took over from lapsed peers",
         std::to_string(c.takenOver));
  metric("switchback_store_up", "gauge", "1 while the connection to Redis is up", c.store.up ? "1" : "0");
  metric("switchback_store_errors_total", "counter", "Redis commands that failed and connections lost",
         std::to_string(c.store.errors));
  metric("switchback_store_writes_total", "counter", "Registrant writes Redis acknowledged", std::to_string(c.store.written));
  metric("switchback_store_unsent", "gauge", "Registrants whose change waits for Redis", std::to_string(c.store.unsent));
  metric("switchback_store_lag_seconds", "gauge", "A peer's last change: written there to heard here",
         std::to_string(c.store.lagLastMs / 1000.0));
}

} // namespace switchback
