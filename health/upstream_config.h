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
  std::string host;                // IP literal (DNS names arrive with the health issue)
  std::uint16_t port = 5060;
  bool outboundProxy = false;      // role: an outbound proxy (the advisory's outboundProxy settings apply)
};

using UpstreamList = std::vector<UpstreamConfig>;

} // namespace switchback
