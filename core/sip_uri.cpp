#include "core/sip_uri.h"

#include "core/sofia.h"

#include <charconv>

namespace switchback {

std::optional<boost::asio::ip::address> hostAddress(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return a;
}

std::optional<UriTarget> uriTarget(const url_t* url) {
  if (url == nullptr || url->url_host == nullptr) return std::nullopt;
  auto address = hostAddress(url->url_host);
  if (!address) return std::nullopt;
  UriTarget t{Transport::Udp, Endpoint{*address, 5060}};
  char value[16];
  if (url->url_params && url_param(url->url_params, "transport", value, sizeof value) > 0) {
    const std::string_view v(value);
    if (v == "tcp" || v == "TCP") t.transport = Transport::Tcp;
    else if (v == "tls" || v == "TLS") t.transport = Transport::Tls;
  }
  if (url->url_type == url_sips) t.transport = Transport::Tls;  // RFC 3261 §26.2: TLS on every hop
  if (t.transport == Transport::Tls) t.endpoint.port = 5061;
  const auto p = sv(url->url_port);
  if (!p.empty()) {
    std::uint16_t port = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port == 0) return std::nullopt;
    t.endpoint.port = port;
  }
  return t;
}

} // namespace switchback
