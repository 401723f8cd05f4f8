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
};

struct TransportConfig {
  std::vector<ListenAddress> listen;
  std::size_t maxMessageBytes = 65535;
  std::size_t maxTcpConnections = 4096;
  std::chrono::seconds tcpIdleTimeout{600};
  std::size_t maxHeaderBytes = 16384;           // a stream whose head grows past this is closed
  std::chrono::seconds partialMessageTimeout{10};  // a message begun must be complete by then (slowloris)
  std::size_t maxConnectionsPerSource = 0;      // TCP/TLS connections from one address; 0: no cap
};

} // namespace switchback
