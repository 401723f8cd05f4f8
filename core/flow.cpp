#include "core/flow.h"

namespace switchback {

std::string_view transportName(Transport t) {
  switch (t) {
  case Transport::Udp: return "UDP";
  case Transport::Tcp: return "TCP";
  case Transport::Tls: return "TLS";
  }
  return "UDP";
}

std::string_view transportParam(Transport t) {
  switch (t) {
  case Transport::Udp: return "udp";
  case Transport::Tcp: return "tcp";
  case Transport::Tls: return "tls";
  }
  return "udp";
}

bool isReliable(Transport t) { return t != Transport::Udp; }

std::string Endpoint::str() const {
  std::string s;
  if (address.is_v6()) s.append(1, '[').append(address.to_string()).append(1, ']');
  else s.append(address.to_string());
  s.append(1, ':').append(std::to_string(port));
  return s;
}

std::string Flow::str() const {
  std::string s(transportName(transport));
  s.append(1, ':').append(remote.str());
  if (connection != 0) s.append(1, '#').append(std::to_string(connection));
  return s;
}

} // namespace switchback

namespace switchback {

std::size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
  std::size_t h = e.port;
  if (e.address.is_v4()) return std::hash<std::uint64_t>{}((std::uint64_t{e.address.to_v4().to_uint()} << 16) | h);
  for (unsigned char byte : e.address.to_v6().to_bytes()) h = h * 131 + byte;
  return std::hash<std::size_t>{}(h);
}

} // namespace switchback
