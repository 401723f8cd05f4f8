#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchback {

enum class Transport : std::uint8_t { Udp, Tcp, Tls };

std::string_view transportName(Transport t);         // "UDP", "TCP", "TLS"
std::string_view transportParam(Transport t);        // "udp", "tcp", "tls": the URI transport= value
bool isReliable(Transport t);

struct Endpoint {
  boost::asio::ip::address address;
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
  std::string str() const;                           // "1.2.3.4:5060", "[::1]:5060"
};

struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept;
};

/// The path a message arrived on, and the only way back to a phone behind NAT:
/// the local listener, the remote address as observed, and for TCP the connection.
struct Flow {
  Transport transport = Transport::Udp;
  std::uint16_t listener = 0;      // index into the configured listen addresses
  Endpoint remote;
  std::uint64_t connection = 0;    // TCP connection id; 0 for UDP

  bool operator==(const Flow&) const = default;
  std::string str() const;
};

} // namespace switchback
