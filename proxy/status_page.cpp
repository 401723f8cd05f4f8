// GET /: the operator's page. Server-rendered from the same view as /status, no script and
// no build step; the browser reloads it every kRefreshSeconds.
#include "proxy/status.h"

#include <chrono>
#include <ctime>

namespace switchback {

namespace {

constexpr int kRefreshSeconds = 2;

std::string html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out.push_back(c);
    }
  }
  return out;
}

/// A steady-clock instant as wall-clock "HH:MM:SS UTC".
std::string wallClock(TimePoint t, TimePoint now) {
  const auto wall = std::chrono::system_clock::now() -
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(now - t);
  const std::time_t tt = std::chrono::system_clock::to_time_t(wall);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm);
  return buf;
}

std::string ago(TimePoint t, TimePoint now) {
  const auto s = std::chrono::duration_cast<Seconds>(now - t).count();
  if (s < 120) return std::to_string(s) + " s ago";
  if (s < 7200) return std::to_string(s / 60) + " min ago";
  return std::to_string(s / 3600) + " h ago";
}

std::string count(const std::map<std::string, std::size_t>& m, const std::string& key) {
  const auto it = m.find(key);
  return std::to_string(it == m.end() ? 0 : it->second);
}

constexpr const char* kStyle =
    "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em;margin:0 0 .2em}"
    "h2{font-size:1.1em;margin:1.4em 0 .4em}table{border-collapse:collapse}"
    "th,td{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}"
    ".state{font-weight:600;padding:.1em .5em;border-radius:.3em}.up{background:#d4f4dd}"
    ".trying{background:#fff2c2}.down{background:#f8d0d0}.disabled{background:#ddd}"
    ".failover{color:#a40000}.failback{color:#1a6b2f}.muted{color:#777}";

void appendNodes(std::string& out, const StatusView& v) {
  const auto registered = registeredByNode(v);
  const auto signaling = signalingByNode(v);
  out += "<h2>Upstream nodes</h2>\n<table id=\"nodes\"><tr><th>node</th><th>address</th><th>state</th><th>since</th>"
         "<th>reason</th><th>probe</th><th>registered</th><th>signaling</th><th>pacing queue</th></tr>\n";
  for (const auto& n : v.nodes.nodes()) {
    const NodeHealth& h = v.health.health(n.index);
    const std::string state(nodeStateName(h.state()));
    const auto latency = v.health.lastProbeLatency(n.index);
    out += "<tr data-node=\"" + html(n.name) + "\" data-state=\"" + html(state) + "\"><td>" + html(n.name) +
           "</td><td>" + html(n.endpoint.str()) + "</td><td><span class=\"state " + html(state) + "\">" + html(state) +
           (v.health.usable(n.index, v.now) ? "" : " (not usable)") + "</span></td><td>" +
           wallClock(h.since(), v.now) + " <span class=\"muted\">(" + ago(h.since(), v.now) + ")</span></td><td>" +
           html(h.reason()) + "</td><td class=\"n\">" +
           (latency && h.state() != NodeState::Down ? std::to_string(latency->count()) + " ms" : "–") +
           "</td><td class=\"n registered\">" + count(registered, n.name) + "</td><td class=\"n signaling\">" +
           (v.router ? count(signaling, n.name) : "–") + "</td><td class=\"n queue\">" +
           std::to_string(v.reregistrar ? v.reregistrar->queuedFor(n.index) : 0) + "</td></tr>\n";
  }
  out += "</table>\n";
}

void appendPacing(std::string& out, const StatusView& v) {
  if (!v.reregistrar) return;
  const Reregistrar& r = *v.reregistrar;
  // A wave's progress: what Switchback has settled against what it still holds back.
  const std::uint64_t done = r.succeeded() + r.challenged() + r.failed();
  const std::uint64_t total = done + r.queued();
  out += "<h2>Re-registration pacing</h2>\n<p id=\"pacing\">" + std::to_string(r.queued()) + " queued, " +
         std::to_string(r.sent()) + " sent, " + std::to_string(r.succeeded()) + " registered, " +
         std::to_string(r.challenged()) + " challenged (left to the phone), " + std::to_string(r.failed()) +
         " failed; cap " + std::to_string(static_cast<long>(v.app.pacingRate)) + "/s per node";
  if (total > 0) out += "; " + std::to_string(done * 100 / total) + " % done";
  out += ".</p>\n";
}

void appendEvents(std::string& out, const StatusView& v) {
  out += "<h2>Recent failovers and failbacks</h2>\n";
  if (!v.router || v.router->recentMoves().empty()) {
    out += "<p id=\"events\" class=\"muted\">None since Switchback started.</p>\n";
    return;
  }
  out += "<table id=\"events\"><tr><th>when</th><th>event</th><th>from</th><th>to</th><th>reason</th>"
         "<th>registrants</th><th>lasted</th></tr>\n";
  const auto& moves = v.router->recentMoves();
  for (auto it = moves.rbegin(); it != moves.rend(); ++it) {
    const char* kind = it->failover ? "failover" : "failback";
    const auto lasted = std::chrono::duration_cast<Seconds>(it->last - it->first).count() + 1;
    out += std::string("<tr class=\"") + kind + "\"><td>" + wallClock(it->first, v.now) + " <span class=\"muted\">(" +
           ago(it->first, v.now) + ")</span></td><td>" + kind + "</td><td>" + html(it->from) + "</td><td>" +
           html(it->to) + "</td><td>" + html(it->failover ? it->reason : "failBack.mode " + it->reason) +
           "</td><td class=\"n\">" + std::to_string(it->registrants) + "</td><td class=\"n\">" +
           std::to_string(lasted) + " s" + (v.now - it->last <= Seconds(2) ? " so far" : "") + "</td></tr>\n";
  }
  out += "</table>\n";
}

} // namespace

std::string renderStatusPage(const StatusView& v) {
  std::string out = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"refresh\" content=\"" + std::to_string(kRefreshSeconds) + "\">"
                    "<title>Switchback status</title><style>" + std::string(kStyle) + "</style></head><body>\n"
                    "<h1>Switchback</h1>\n<p id=\"summary\">" + std::to_string(v.bindings.size()) + " registrants, " +
                    std::to_string(v.bindings.contactCount()) + " contacts, " + std::to_string(v.transactions) +
                    " transactions in progress" + (v.app.draining ? "; <strong>draining</strong>" : "") +
                    ". <span class=\"muted\">Updated " + wallClock(v.now, v.now) + ", every " +
                    std::to_string(kRefreshSeconds) + " s; JSON at <a href=\"/status\">/status</a>, "
                    "Prometheus at <a href=\"/metrics\">/metrics</a>.</span></p>\n";
  appendNodes(out, v);
  appendPacing(out, v);
  appendEvents(out, v);
  out += "</body></html>\n";
  return out;
}

} // namespace switchback
