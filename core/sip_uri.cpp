#include "core/sip_uri.h"

#include "core/sofia.h"

#include <charconv>

namespace switchback {

namespace {

enum class Dotted { Address, NotAddress, NotDotted };

// A dotted quad as inet_pton reads it (four decimal parts, 0-255, no leading zeros), without
// the std::string and the two inet_pton calls of make_address: it runs for every Via, Route
// and Request-URI host of every message.
Dotted parseDotted(std::string_view s, boost::asio::ip::address_v4::bytes_type& out) {
  if (s.find_first_not_of("0123456789.") != std::string_view::npos) return Dotted::NotDotted;
  std::size_t part = 0, digits = 0;
  unsigned value = 0;
  for (const char c : s) {
    if (c == '.') {
      if (digits == 0 || part == 3) return Dotted::NotAddress;
      out[part++] = static_cast<unsigned char>(value);
      value = 0;
      digits = 0;
    } else {
      if (digits > 0 && value == 0) return Dotted::NotAddress;  // leading zero
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (++digits > 3 || value > 255) return Dotted::NotAddress;
    }
  }
  if (digits == 0 || part != 3) return Dotted::NotAddress;
  out[3] = static_cast<unsigned char>(value);
  return Dotted::Address;
}

} // namespace

std::optional<boost::asio::ip::address> hostAddress(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::asio::ip::address_v4::bytes_type bytes{};
  switch (parseDotted(host, bytes)) {
  case Dotted::Address: return boost::asio::ip::address(boost::asio::ip::address_v4(bytes));
  case Dotted::NotAddress: return std::nullopt;
  case Dotted::NotDotted:
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // a name: neither family
    break;
  }
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
