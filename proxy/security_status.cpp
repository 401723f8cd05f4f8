// The hostile-network part of the admin endpoint (/status "security", /metrics), kept apart
// from status.cpp.
#include "proxy/status.h"

namespace switchback {

namespace {

template <typename Map>
std::string jsonCounts(const Map& m) {
  std::string out = "{";
  for (const auto& [k, n] : m) out += (out.size() > 1 ? "," : "") + jsonEscape(k) + ":" + std::to_string(n);
  return out + "}";
}

} // namespace

std::string renderGuardJson(const StatusView& v) {
  std::string out = "\"security\":{\"banned\":[";
  if (v.guard) {
    bool first = true;
    for (const auto& b : v.guard->limiter().bans(v.now)) {
      out += std::string(first ? "" : ",") + "{\"source\":" + jsonEscape(b.source) + ",\"expires_in_s\":" +
             std::to_string(std::chrono::duration_cast<Seconds>(b.until - v.now).count() + 1) + "}";
      first = false;
    }
  }
  out += "],\"bans_issued\":" + std::to_string(v.guard ? v.guard->limiter().bansIssued() : 0);
  out += ",\"dropped\":" + jsonCounts(v.stats.dropped) + ",\"rejected\":" + jsonCounts(v.stats.rejected) + "}";
  return out;
}

void appendGuardMetrics(std::string& out, const StatusView& v) {
  out += "# HELP switchback_dropped_total Hostile input dropped without an answer, by reason\n"
         "# TYPE switchback_dropped_total counter\n";
  for (const auto& [reason, n] : v.stats.dropped)
    out += "switchback_dropped_total{reason=" + jsonEscape(reason) + "} " + std::to_string(n) + "\n";
  if (!v.guard) return;
  out += "# HELP switchback_bans_total Sources banned for flooding\n# TYPE switchback_bans_total counter\n"
         "switchback_bans_total " + std::to_string(v.guard->limiter().bansIssued()) + "\n";
  out += "# HELP switchback_banned_sources Sources banned now\n# TYPE switchback_banned_sources gauge\n"
         "switchback_banned_sources " + std::to_string(v.guard->limiter().bans(v.now).size()) + "\n";
  out += "# HELP switchback_rate_tracked_sources Sources with a rate bucket\n# TYPE switchback_rate_tracked_sources gauge\n"
         "switchback_rate_tracked_sources " + std::to_string(v.guard->limiter().trackedSources()) + "\n";
}

} // namespace switchback
