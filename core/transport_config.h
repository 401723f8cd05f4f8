#pragma once

#include "core/flow.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace switchback {

struct ListenAddress {
  Transport transport = Transport::Udp;
  std::string host;                  // an IPv4 or IPv6 literal (once a name is resolved)
  std::uint16_t port = 5060;
  /// The DNS name the address was given as, if any: resolved to `host` at start and at a reload
  /// (a container knows its own name, not the address its network hands it).
  std::string name;

  bool operator==(const ListenAddress&) const = default;
};

/// TLS (RFC 3261 §26.2 hop by hop): the server side for tls: listeners, the client side for
/// upstreams reached over TLS.
struct TlsConfig {
  std::string certificate;          // PEM chain the tls: listeners present
  std::string key;                  // its PEM private key
  std::string clientCa;             // PEM CAs phones' certificates must chain to; empty: none asked
  std::string caFile;               // PEM CAs upstream servers' certificates must chain to; empty: the system's
  bool verifyUpstreams = true;      // check the upstream's certificate chain and name
  std::chrono::seconds handshakeTimeout{10};
  std::size_t maxHandshakes = 256;  // TLS connections from phones in handshake at once

  bool operator==(const TlsConfig&) const = default;
};

struct TransportConfig {
  std::vector<ListenAddress> listen;
  std::size_t maxMessageBytes = 65535;
  std::size_t maxTcpConnections = 4096;
  std::chrono::seconds tcpIdleTimeout{600};
  std::size_t maxHeaderBytes = 16384;           // a stream whose head grows past this is closed
  std::size_t maxHeaderLines = 128;             // a stream whose head has more header lines is closed
  std::chrono::seconds partialMessageTimeout{10};  // a message begun must be complete by then (slowloris)
  std::size_t maxConnectionsPerSource = 0;      // TCP/TLS connections from one address; 0: no cap
  TlsConfig tls;
};

} // namespace switchback
