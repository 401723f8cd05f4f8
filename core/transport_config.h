#pragma once

#include "core/flow.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace switchback {

struct ListenAddress {
  Transport transport = Transport::Udp;
  std::string host;                  // an IPv4 or IPv6 literal
  std::uint16_t port = 5060;

  bool operator==(const ListenAddress&) const = default;
};

struct TransportConfig {
  std::vector<ListenAddress> listen;
  std::size_t maxMessageBytes = 65535;
  std::size_t maxTcpConnections = 4096;
  std::chrono::seconds tcpIdleTimeout{600};
};

} // namespace switchback
