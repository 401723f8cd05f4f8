#include "proxy/status.h"

#include <cstdio>
#include <malloc.h>
#include <map>
#include <unistd.h>

namespace switchback {

namespace {

/// The process's resident memory, and the heap as malloc counts it: in use, and free but held
/// (what a storm left scattered). Read when asked, not kept.
struct ProcessMemory {
  std::uint64_t resident = 0, heapInUse = 0, heapFree = 0;
};

ProcessMemory processMemory() {
  ProcessMemory m;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2)
      m.resident = resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
    std::fclose(f);
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  const struct mallinfo2 mi = mallinfo2();
  m.heapInUse = mi.uordblks + mi.hblkhd;
  m.heapFree = mi.fordblks;
#endif
  return m;
}

} // namespace

std::string jsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out.push_back(c);
      }
    }
  }
  out.push_back('"');
  return out;
}

std::map<std::string, std::size_t> registeredByNode(const StatusView& v) {
  std::map<std::string, std::size_t> byNode;
  for (const auto& n : v.nodes.nodes()) byNode[n.name] = 0;
  for (const auto& [name, count] : v.bindings.nodeCounts())
    if (count.registered) byNode[name] = count.registered;
  return byNode;
}

std::map<std::string, std::size_t> signalingByNode(const StatusView& v) {
  std::map<std::string, std::size_t> signaling;
  if (!v.router) return signaling;
  for (const auto& n : v.nodes.nodes()) signaling[n.name] = v.router->signalingOn(n.index);
  return signaling;
}

namespace {

long secondsUntil(TimePoint t, TimePoint now) {
  return static_cast<long>(std::chrono::duration_cast<Seconds>(t - now).count());
}

/// Per node: registrants registered there, and known there but no longer registered
/// (expired, or invalidated by failRegistrationOn).
std::map<std::pair<std::string, std::string>, std::size_t> bindingsByNodeState(const StatusView& v) {
  std::map<std::pair<std::string, std::string>, std::size_t> out;
  for (const auto& n : v.nodes.nodes()) out[{n.name, "registered"}] = 0, out[{n.name, "unregistered"}] = 0;
  for (const auto& [name, count] : v.bindings.nodeCounts()) {
    if (count.registered + count.unregistered == 0) continue;
    out[{name, "registered"}] = count.registered;
    out[{name, "unregistered"}] = count.unregistered;
  }
  return out;
}

template <typename Map>
void appendCounterMap(std::string& out, std::string_view metric, std::string_view label, const Map& m) {
  for (const auto& [k, v] : m)
    out.append(metric).append("{").append(label).append("=").append(jsonEscape(k)).append("} ").append(std::to_string(v)).append("\n");
}

} // namespace

std::string renderStatusJson(const StatusView& v) {
  std::string out = "{\"nodes\":[";
  bool first = true;
  for (const auto& n : v.nodes.nodes()) {
    if (!first) out += ",";
    first = false;
    const NodeHealth& h = v.health.health(n.index);
    const auto latency = v.health.lastProbeLatency(n.index);
    out += "{\"name\":" + jsonEscape(n.name) + ",\"uri\":" + jsonEscape(n.uri) + ",\"address\":" +
           jsonEscape(n.endpoint.str()) + ",\"priority\":" + std::to_string(n.index) +
           ",\"state\":" + jsonEscape(nodeStateName(h.state())) +
           ",\"usable\":" + (v.health.usable(n.index, v.now) ? "true" : "false") +
           ",\"since_s\":" + std::to_string(-secondsUntil(h.since(), v.now)) + ",\"reason\":" + jsonEscape(h.reason()) +
           ",\"probe_latency_ms\":" + (latency ? std::to_string(latency->count()) : "null") +
           ",\"dns\":" + (n.dnsTarget.empty() ? std::string("null")
                                                  : "{\"target\":" + jsonEscape(n.dnsTarget) + ",\"ttl_s\":" +
                                                        std::to_string(n.dnsTtl ? n.dnsTtl->count() : 0) + "}") + "}";
  }
  out += "],\"bindings\":{\"registrants\":" + std::to_string(v.bindings.size()) +
         ",\"contacts\":" + std::to_string(v.bindings.contactCount()) + ",\"registered_by_node\":{";
  first = true;
  for (const auto& [name, count] : registeredByNode(v)) {
    if (!first) out += ",";
    first = false;
    out += jsonEscape(name) + ":" + std::to_string(count);
  }
  const Stats& s = v.stats;
  out += "},\"signaling_by_node\":{";
  if (v.router) {
    first = true;
    for (const auto& [name, count] : signalingByNode(v)) out += (first ? "" : ",") + jsonEscape(name) + ":" + std::to_string(count), first = false;
  }
  out += "}},\"failover\":{\"failovers\":" + std::to_string(v.router ? v.router->failovers() : 0) +
         ",\"failbacks\":" + std::to_string(v.router ? v.router->failbacks() : 0) +
         ",\"pending_registrants\":" + std::to_string(v.router ? v.router->pendingCount() : 0) +
         ",\"reregistration\":{\"queued\":" + std::to_string(v.reregistrar ? v.reregistrar->queued() : 0) +
         ",\"sent\":" + std::to_string(v.reregistrar ? v.reregistrar->sent() : 0) +
         ",\"registered\":" + std::to_string(v.reregistrar ? v.reregistrar->succeeded() : 0) +
         ",\"challenged\":" + std::to_string(v.reregistrar ? v.reregistrar->challenged() : 0) +
         ",\"surrogate\":" + std::to_string(v.reregistrar ? v.reregistrar->surrogates() : 0) +
         ",\"failed\":" + std::to_string(v.reregistrar ? v.reregistrar->failed() : 0) + "}";
  if (v.router) {
    out += ",\"failovers_by_reason\":{";
    first = true;
    for (const auto& [k, n] : v.router->failoversByReason()) out += (first ? "" : ",") + jsonEscape(k) + ":" + std::to_string(n), first = false;
    out += "},\"failbacks_by_mode\":{";
    first = true;
    for (const auto& [k, n] : v.router->failbacksByReason()) out += (first ? "" : ",") + jsonEscape(k) + ":" + std::to_string(n), first = false;
    out += "}";
  }
  out += "},\"process\":{\"draining\":" + std::string(v.app.draining ? "true" : "false") +
         ",\"reloads\":" + std::to_string(v.app.reloads) + ",\"reload_failures\":" + std::to_string(v.app.reloadFailures) +
         ",\"store\":" + (v.app.store ? "{\"batches\":" + std::to_string(v.app.store->batches) +
                                             ",\"rows_written\":" + std::to_string(v.app.store->rowsWritten) +
                                             ",\"errors\":" + std::to_string(v.app.store->errors) +
                                             ",\"queued_batches\":" + std::to_string(v.app.store->queued) + "}"
                                       : std::string("null"));
  const ProcessMemory mem = processMemory();
  out += ",\"memory\":{\"resident_bytes\":" + std::to_string(mem.resident) +
         ",\"heap_in_use_bytes\":" + std::to_string(mem.heapInUse) +
         ",\"heap_free_bytes\":" + std::to_string(mem.heapFree) + "}";
  if (v.app.turns) {
    out += ",\"slow_turns\":{";
    first = true;
    for (const auto& [name, h] : v.app.turns->handlers()) {
      char longest[64];
      std::snprintf(longest, sizeof longest, "%.1f,\"longest_cpu_ms\":%.1f", h.longestMs, h.longestCpuMs);
      out += (first ? "" : ",") + jsonEscape(name) + ":{\"count\":" + std::to_string(h.slow) + ",\"longest_ms\":" + longest + "}";
      first = false;
    }
    out += "}";
  }
  out += "},\"transactions\":" + std::to_string(v.transactions) +
         ",\"tcp_connections\":" + std::to_string(v.tcpConnections) +
         ",\"counters\":{\"messages_in\":" + std::to_string(s.messagesIn) +
         ",\"messages_out\":" + std::to_string(s.messagesOut) + ",\"parse_errors\":" + std::to_string(s.parseErrors) +
         ",\"oversized\":" + std::to_string(s.oversized) + ",\"stream_errors\":" + std::to_string(s.streamErrors) +
         ",\"responses_dropped\":" + std::to_string(s.responsesDropped) +
         ",\"transaction_timeouts\":" + std::to_string(s.transactionTimeouts) + "}," + renderGuardJson(v) + "," +
         renderNatJson(v) + "," + renderClusterJson(v) + "}\n";
  return out;
}

std::string renderBindingJson(const StatusView& v, std::string_view aor) {
  const Binding* b = v.bindings.find(aor);
  if (b == nullptr) return {};
  std::string out = "{\"aor\":" + jsonEscape(b->aor) + ",\"call_id\":" + jsonEscape(b->callId) +
                    ",\"cseq\":" + std::to_string(b->cseq) +
                    ",\"has_authorization\":" + (b->authorization().empty() ? "false" : "true") + ",\"contacts\":[";
  bool first = true;
  for (const auto& c : b->contacts) {
    if (!first) out += ",";
    first = false;
    out += "{\"uri\":" + jsonEscape(c.uri) + ",\"expires_in\":" + std::to_string(secondsUntil(c.expires, v.now)) +
           ",\"instance\":" + jsonEscape(c.instance) +
           ",\"reg_id\":" + (c.regId ? std::to_string(*c.regId) : "null") +
           ",\"flow\":{\"transport\":" + jsonEscape(transportName(c.flow.transport)) +
           ",\"remote\":" + jsonEscape(c.flow.remote.str()) + ",\"connection\":" + std::to_string(c.flow.connection) +
           "},\"reachable\":" + (v.nat && v.nat->unreachable(c.flow) ? "false" : "true") + "}";
  }
  out += "],\"nodes\":{";
  first = true;
  for (const auto& [name, reg] : b->nodes) {
    if (!first) out += ",";
    first = false;
    out += jsonEscape(name) + ":{\"registered\":" + (reg.registered ? "true" : "false") +
           ",\"expires_in\":" + std::to_string(secondsUntil(reg.expires, v.now)) + ",\"granted\":[";
    const auto granted = reg.granted();
    for (std::size_t i = 0; i < granted.size(); ++i) out += (i ? "," : "") + jsonEscape(granted[i]);
    out += "]}";
  }
  out += "},\"last_registered_by\":" + jsonEscape(registeredByName(b->lastRegisteredBy));
  if (v.router) out += ",\"dialogs\":" + std::to_string(v.router->dialogs().busy(b->aor));  // 0: idle
  out += "}\n";
  return out;
}

std::string renderMetrics(const StatusView& v) {
  const Stats& s = v.stats;
  std::string out;
  auto metric = [&](std::string_view type, std::string_view name, std::string_view help, std::uint64_t value) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
    out.append(type).append("\n").append(name).append(" ").append(std::to_string(value)).append("\n");
  };
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) { metric("counter", name, help, v); };
  auto gauge = [&](std::string_view name, std::string_view help, std::uint64_t v) { metric("gauge", name, help, v); };
  const ProcessMemory mem = processMemory();
  gauge("switchback_resident_memory_bytes", "Resident memory of the process", mem.resident);
  gauge("switchback_heap_in_use_bytes", "Heap memory in use (malloc)", mem.heapInUse);
  gauge("switchback_heap_free_bytes", "Heap memory free but held by malloc", mem.heapFree);
  counter("switchback_messages_received_total", "SIP messages received", s.messagesIn);
  counter("switchback_messages_sent_total", "SIP messages sent", s.messagesOut);
  counter("switchback_parse_errors_total", "Messages dropped as unparseable, with NUL bytes or too large", s.parseErrors);
  counter("switchback_oversized_total", "Messages dropped for exceeding the maximum size", s.oversized);
  counter("switchback_stream_errors_total", "TCP streams closed for bad framing", s.streamErrors);
  counter("switchback_tcp_refused_total", "TCP connections refused at the connection cap", s.tcpConnectionsRefused);
  counter("switchback_tcp_idle_closed_total", "TCP connections closed when idle", s.tcpIdleClosed);
  counter("switchback_keepalives_total", "CRLF keep-alives received", s.keepAlives);
  counter("switchback_send_errors_total", "Sends that failed", s.sendErrors);
  counter("switchback_responses_dropped_total", "Responses dropped (not ours, malformed, no route)", s.responsesDropped);
  counter("switchback_retransmissions_absorbed_total", "Retransmissions absorbed by transactions", s.retransmissionsAbsorbed);
  counter("switchback_transaction_timeouts_total", "Client transactions that timed out", s.transactionTimeouts);
  out += "# HELP switchback_requests_total Requests received by method\n# TYPE switchback_requests_total counter\n";
  appendCounterMap(out, "switchback_requests_total", "method", s.requestsByMethod);
  out += "# HELP switchback_responses_total Responses received by class\n# TYPE switchback_responses_total counter\n";
  appendCounterMap(out, "switchback_responses_total", "class", s.responsesByClass);
  out += "# HELP switchback_rejected_total Requests Switchback answered with an error, by reason\n# TYPE switchback_rejected_total counter\n";
  appendCounterMap(out, "switchback_rejected_total", "reason", s.rejected);
  gauge("switchback_registrants", "Registrants in the binding table", v.bindings.size());
  gauge("switchback_contacts", "Contacts in the binding table", v.bindings.contactCount());
  out += "# HELP switchback_bindings_registered Registrants registered per upstream node\n# TYPE switchback_bindings_registered gauge\n";
  appendCounterMap(out, "switchback_bindings_registered", "node", registeredByNode(v));
  if (v.router) {
    out += "# HELP switchback_registrants_signaling Registrants whose new dialogs go to each node now\n# TYPE switchback_registrants_signaling gauge\n";
    appendCounterMap(out, "switchback_registrants_signaling", "node", signalingByNode(v));
  }
  out += "# HELP switchback_node_up Whether an upstream node is usable (1) or not (0)\n# TYPE switchback_node_up gauge\n";
  for (const auto& n : v.nodes.nodes())
    out += "switchback_node_up{node=" + jsonEscape(n.name) + "} " + (v.health.usable(n.index, v.now) ? "1" : "0") + "\n";
  out += "# HELP switchback_probe_latency_seconds Latency of the last answered OPTIONS probe\n# TYPE switchback_probe_latency_seconds gauge\n";
  for (const auto& n : v.nodes.nodes())
    if (auto l = v.health.lastProbeLatency(n.index)) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.3f", static_cast<double>(l->count()) / 1000.0);
      out += "switchback_probe_latency_seconds{node=" + jsonEscape(n.name) + "} " + seconds + "\n";
    }
  out += "# HELP switchback_bindings Registrants known per upstream node, by registration state\n# TYPE switchback_bindings gauge\n";
  for (const auto& [key, n] : bindingsByNodeState(v))
    out += "switchback_bindings{node=" + jsonEscape(key.first) + ",state=" + jsonEscape(key.second) + "} " + std::to_string(n) + "\n";
  out += "# HELP switchback_transactions_total Final responses by request method and class\n# TYPE switchback_transactions_total counter\n";
  for (const auto& [key, n] : s.finalResponses)
    out += "switchback_transactions_total{method=" + jsonEscape(key.first) + ",class=" + jsonEscape(key.second) + "} " +
           std::to_string(n) + "\n";
  if (v.router) {
    out += "# HELP switchback_failovers_total Registrants moved to a lower-priority node, by reason\n# TYPE switchback_failovers_total counter\n";
    appendCounterMap(out, "switchback_failovers_total", "reason", v.router->failoversByReason());
    out += "# HELP switchback_failbacks_total Registrants moved back to a higher-priority node, by failBack.mode\n# TYPE switchback_failbacks_total counter\n";
    appendCounterMap(out, "switchback_failbacks_total", "mode", v.router->failbacksByReason());
    gauge("switchback_pending_registrants", "Registrants waiting for a registration before signaling", v.router->pendingCount());
    gauge("switchback_dialogs", "Calls through Switchback, ringing or answered", v.router->dialogs().size());
    counter("switchback_dialogs_expired_total", "Dialogs forgotten after their lifetime without traffic",
            v.router->dialogs().expired());
    counter("switchback_dialogs_ended_by_rule_total", "Calls ended by onlySignalWithRegistered",
            v.router->dialogs().endedByRule());
  }
  if (v.reregistrar) {
    gauge("switchback_pacing_queue_depth", "Registrations Switchback waits to send, paced", v.reregistrar->queued());
    out += "# HELP switchback_pacing_node_queue_depth Registrations waiting for a node's pacer\n# TYPE switchback_pacing_node_queue_depth gauge\n";
    for (const auto& n : v.nodes.nodes())
      out += "switchback_pacing_node_queue_depth{node=" + jsonEscape(n.name) + "} " + std::to_string(v.reregistrar->queuedFor(n.index)) + "\n";
    out += "# HELP switchback_pacing_rate_limit Configured re-registrations per second per node\n# TYPE switchback_pacing_rate_limit gauge\n";
    out += "switchback_pacing_rate_limit " + std::to_string(v.app.pacingRate) + "\n";
    counter("switchback_reregistrations_sent_total", "REGISTERs Switchback sent on phones' behalf", v.reregistrar->sent());
    counter("switchback_reregistrations_succeeded_total", "Of those, registered", v.reregistrar->succeeded());
    counter("switchback_reregistrations_challenged_total", "Of those, challenged (left to the phone)", v.reregistrar->challenged());
  }
  gauge("switchback_transactions_active", "Proxy transactions in progress", v.transactions);
  counter("switchback_requests_retried_total", "Unanswered requests sent once more when their node was seen down",
          s.retriedElsewhere);
  counter("switchback_responses_503_converted_total",
          "503 answers from a node or phone passed on as 500 (RFC 3261 16.7: the 503 is about its sender)",
          s.converted503);
  gauge("switchback_tcp_connections", "Open TCP connections", v.tcpConnections);
  gauge("switchback_draining", "1 while draining after SIGTERM", v.app.draining ? 1 : 0);
  out += "# HELP switchback_reloads_total Configuration reloads (SIGHUP) by result\n# TYPE switchback_reloads_total counter\n";
  out += "switchback_reloads_total{result=\"applied\"} " + std::to_string(v.app.reloads) + "\n";
  out += "switchback_reloads_total{result=\"rejected\"} " + std::to_string(v.app.reloadFailures) + "\n";
  if (v.app.store) {
    counter("switchback_store_rows_written_total", "Binding rows written to the store", v.app.store->rowsWritten);
    counter("switchback_store_errors_total", "Store batches that failed (kept and retried)", v.app.store->errors);
    gauge("switchback_store_queued_batches", "Batches waiting for the store's writer", v.app.store->queued);
  }
  if (v.app.turns) {
    out += "# HELP switchback_slow_turns_total Turns of the SIP thread's loop longer than " +
           std::to_string(v.app.turns->threshold().count()) + " ms, by handler\n# TYPE switchback_slow_turns_total counter\n";
    for (const auto& [name, h] : v.app.turns->handlers())
      out += "switchback_slow_turns_total{handler=" + jsonEscape(name) + "} " + std::to_string(h.slow) + "\n";
    out += "# HELP switchback_slow_turn_longest_seconds The longest turn of the SIP thread's loop, by handler\n"
           "# TYPE switchback_slow_turn_longest_seconds gauge\n";
    for (const auto& [name, h] : v.app.turns->handlers())
      out += "switchback_slow_turn_longest_seconds{handler=" + jsonEscape(name) + "} " + std::to_string(h.longestMs / 1000) + "\n";
  }
  appendGuardMetrics(out, v);
  appendNatMetrics(out, v);
  appendClusterMetrics(out, v);
  return out;
}

} // namespace switchback
