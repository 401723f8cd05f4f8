#include "proxy/listen_names.h"

#include <boost/asio/ip/address.hpp>
#include <memory>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <sys/socket.h>

namespace switchback {

namespace {

std::string lookUp(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found); rc != 0)
    throw std::runtime_error("listen address '" + name + "' does not resolve: " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  const addrinfo* chosen = nullptr;
  for (const addrinfo* a = found; a; a = a->ai_next)
    if (a->ai_family == AF_INET || (a->ai_family == AF_INET6 && chosen == nullptr)) {
      chosen = a;
      if (a->ai_family == AF_INET) break;
    }
  if (chosen == nullptr) throw std::runtime_error("listen address '" + name + "' has no IPv4 or IPv6 address");
  if (chosen->ai_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(chosen->ai_addr);
    return boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr)).to_string();
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(chosen->ai_addr);
  boost::asio::ip::address_v6::bytes_type bytes;
  std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr), bytes.begin());
  return boost::asio::ip::address_v6(bytes).to_string();
}

} // namespace

void resolveListenNames(std::vector<ListenAddress>& listen) {
  for (auto& l : listen) {
    if (l.name.empty()) continue;
    l.host = lookUp(l.name);
    spdlog::debug("listen address '{}' is {}", l.name, l.host);
  }
}

} // namespace switchback
