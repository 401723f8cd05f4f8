#include "conf/config.h"

namespace switchback {

std::vector<std::string> configWarnings(const Config& c) {
  std::vector<std::string> out;
  auto dnsTtl = [](const FailoverOverrides& o) { return o.failBackMode == FailBackMode::DnsTtl; };
  bool usesDnsTtl = dnsTtl(c.routing.failover.site.server) || dnsTtl(c.routing.failover.site.outboundProxy);
  for (const auto& g : c.routing.failover.groups) usesDnsTtl = usesDnsTtl || dnsTtl(g.failover.server) || dnsTtl(g.failover.outboundProxy);
  if (!usesDnsTtl || c.dns.ipLiteralTtlGiven) return out;
  for (const auto& u : c.upstreams)
    if (!u.hostIsName)
      out.push_back("failBack.mode DNSTTL with upstream '" + u.name + "' given by IP address (no DNS TTL): it is taken to have " +
                    std::to_string(c.routing.ipLiteralDnsTtl.count()) + " s (set dns.ip_literal_ttl_s)");
  return out;
}

} // namespace switchback
