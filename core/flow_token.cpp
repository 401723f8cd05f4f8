#include "core/flow_token.h"

#include <array>
#include <charconv>

namespace switchback {

namespace {

constexpr std::string_view kPrefix = "sb-";
constexpr char kHex[] = "0123456789abcdef";

template <std::size_t N>
void appendHex(std::string& out, const std::array<unsigned char, N>& bytes) {
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
}

template <std::size_t N>
bool parseHex(std::string_view s, std::array<unsigned char, N>& bytes) {
  if (s.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data() + 2 * i, s.data() + 2 * i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + 2 * i + 2) return false;
    bytes[i] = static_cast<unsigned char>(v);
  }
  return true;
}

template <typename T>
bool parseDecimal(std::string_view s, T& value) {
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && p == s.data() + s.size();
}

} // namespace

std::string encodeFlowToken(const Flow& flow) {
  std::string out(kPrefix);
  out.push_back(flow.transport == Transport::Udp ? 'u' : flow.transport == Transport::Tcp ? 't' : 'l');
  out.append(std::to_string(flow.listener));
  out.push_back('-');
  const auto& a = flow.remote.address;
  if (a.is_v4()) appendHex(out, a.to_v4().to_bytes());
  else appendHex(out, a.to_v6().to_bytes());
  out.push_back('-');
  out.append(std::to_string(flow.remote.port));
  return out;
}

std::optional<Flow> decodeFlowToken(std::string_view token) {
  if (token.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  token.remove_prefix(kPrefix.size());
  const std::size_t d1 = token.find('-');
  const std::size_t d2 = d1 == token.npos ? token.npos : token.find('-', d1 + 1);
  if (d2 == token.npos || d1 < 2) return std::nullopt;
  Flow flow;
  switch (token[0]) {
  case 'u': flow.transport = Transport::Udp; break;
  case 't': flow.transport = Transport::Tcp; break;
  case 'l': flow.transport = Transport::Tls; break;
  default: return std::nullopt;
  }
  if (!parseDecimal(token.substr(1, d1 - 1), flow.listener)) return std::nullopt;
  const std::string_view hex = token.substr(d1 + 1, d2 - d1 - 1);
  if (hex.size() == 8) {
    std::array<unsigned char, 4> b{};
    if (!parseHex(hex, b)) return std::nullopt;
    flow.remote.address = boost::asio::ip::address_v4(b);
  } else if (hex.size() == 32) {
    std::array<unsigned char, 16> b{};
    if (!parseHex(hex, b)) return std::nullopt;
    flow.remote.address = boost::asio::ip::address_v6(b);
  } else {
    return std::nullopt;
  }
  if (!parseDecimal(token.substr(d2 + 1), flow.remote.port) || flow.remote.port == 0) return std::nullopt;
  return flow;
}

} // namespace switchback
