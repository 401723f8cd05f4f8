// The NAT keep-alive part of the admin endpoint (/status "nat", /metrics), kept apart from
// status.cpp.
#include "proxy/status.h"

namespace switchback {

namespace {

std::string methodName(const NatConfig& c) { return c.method == NatConfig::Method::Options ? "options" : "crlf"; }

} // namespace

std::string renderNatJson(const StatusView& v) {
  if (!v.nat) return "\"nat\":null";
  const NatKeeper& n = *v.nat;
  return "\"nat\":{\"keepalive_interval_s\":" + std::to_string(n.config().keepaliveInterval.count()) +
         ",\"keepalive_method\":" + jsonEscape(methodName(n.config())) + ",\"flows\":" + std::to_string(n.flows()) +
         ",\"keepalives_sent\":" + std::to_string(n.sent()) + ",\"keepalives_missed\":" + std::to_string(n.missed()) +
         ",\"unreachable\":" + std::to_string(n.unreachableNow()) +
         ",\"unreachable_total\":" + std::to_string(n.unreachableTotal()) +
         ",\"recovered\":" + std::to_string(n.recovered()) + ",\"removed\":" + std::to_string(n.removed()) +
         ",\"stun_answered\":" + std::to_string(v.stats.stunAnswered) + "}";
}

void appendNatMetrics(std::string& out, const StatusView& v) {
  out += "# HELP switchback_stun_answered_total STUN Binding requests answered on the UDP SIP sockets\n"
         "# TYPE switchback_stun_answered_total counter\nswitchback_stun_answered_total " +
         std::to_string(v.stats.stunAnswered) + "\n";
  if (!v.nat) return;
  const NatKeeper& n = *v.nat;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  metric("switchback_nat_flows", "gauge", "Registered flows kept open with keep-alives", n.flows());
  metric("switchback_nat_keepalives_sent_total", "counter", "Keep-alives sent to phones", n.sent());
  metric("switchback_nat_keepalives_missed_total", "counter", "Keep-alive intervals with nothing heard from the phone",
         n.missed());
  metric("switchback_nat_unreachable", "gauge", "Phones' flows marked unreachable now", n.unreachableNow());
  metric("switchback_nat_unreachable_total", "counter", "Phones' flows marked unreachable", n.unreachableTotal());
  metric("switchback_nat_recovered_total", "counter", "Unreachable flows heard from again", n.recovered());
  metric("switchback_nat_removed_total", "counter", "Contacts removed for being unreachable", n.removed());
}

} // namespace switchback
