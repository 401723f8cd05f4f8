#pragma once

#include "core/flow.h"

#include <cstdint>
#include <string>
#include <vector>

namespace switchback {

/// One configured upstream registrar/proxy, in priority order (the first is the primary).
struct UpstreamConfig {
  std::string name;
  std::string uri;                 // as written, e.g. "sip:127.0.0.1:5070;transport=tcp"
  Transport transport = Transport::Udp;
  std::string host;                // an IP literal, or a DNS name resolved per RFC 3263
  std::uint16_t port = 5060;
  bool hostIsName = false;         // resolve `host` with DNS (NAPTR/SRV/A unless a port is given)
  bool portGiven = false;
  bool outboundProxy = false;      // role: an outbound proxy (the advisory's outboundProxy settings apply)

  bool operator==(const UpstreamConfig&) const = default;
};

using UpstreamList = std::vector<UpstreamConfig>;

} // namespace switchback
