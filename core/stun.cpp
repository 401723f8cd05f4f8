#include "core/stun.h"

#include <array>
#include <cstdint>

namespace switchback {

namespace {

constexpr std::uint32_t kMagicCookie = 0x2112A442;
constexpr std::uint16_t kBindingRequest = 0x0001;
constexpr std::uint16_t kBindingSuccess = 0x0101;
constexpr std::uint16_t kXorMappedAddress = 0x0020;
constexpr std::size_t kHeader = 20;

std::uint16_t read16(std::string_view d, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(d[at]) << 8) | static_cast<unsigned char>(d[at + 1]));
}

std::uint32_t read32(std::string_view d, std::size_t at) {
  return (static_cast<std::uint32_t>(read16(d, at)) << 16) | read16(d, at + 2);
}

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

bool isStun(std::string_view d) {
  return d.size() >= kHeader && (static_cast<unsigned char>(d[0]) & 0xC0) == 0 && read32(d, 4) == kMagicCookie;
}

// Attributes 0x0000-0x7FFF are comprehension-required (RFC 5389 §15); a keep-alive carries at
// most SOFTWARE and FINGERPRINT (comprehension-optional) and perhaps MESSAGE-INTEGRITY/USERNAME,
// which a keep-alive server may ignore (RFC 5626 §8: no authentication is used).
bool attributesWellFormed(std::string_view d) {
  std::size_t at = kHeader;
  while (at + 4 <= d.size()) {
    const std::uint16_t type = read16(d, at);
    const std::size_t length = read16(d, at + 2);
    const std::size_t padded = (length + 3) & ~std::size_t{3};
    if (at + 4 + padded > d.size()) return false;
    const bool known = type == 0x0006 || type == 0x0008 || type == 0x8022 || type == 0x8028 || type == 0x0024 ||
                       type == 0x8029 || type == 0x802A || type == 0x0025;
    if (type < 0x8000 && !known) return false;
    at += 4 + padded;
  }
  return at == d.size();
}

} // namespace

DatagramKind classifyDatagram(std::string_view d) {
  if (d.find_first_not_of("\r\n") == std::string_view::npos) return DatagramKind::CrlfKeepAlive;
  if (!isStun(d)) return DatagramKind::Sip;
  return read16(d, 0) == kBindingRequest ? DatagramKind::StunBindingRequest : DatagramKind::StunOther;
}

std::optional<std::string> stunBindingResponse(std::string_view request, const Endpoint& mapped) {
  if (!isStun(request) || read16(request, 0) != kBindingRequest) return std::nullopt;
  const std::size_t length = read16(request, 2);
  if (length % 4 != 0 || length + kHeader != request.size() || !attributesWellFormed(request)) return std::nullopt;

  const bool v6 = mapped.address.is_v6();
  std::string out;
  out.reserve(kHeader + 24);
  put16(out, kBindingSuccess);
  put16(out, static_cast<std::uint16_t>(4 + (v6 ? 20 : 8)));
  out.append(request.substr(4, 16));  // magic cookie and transaction ID
  put16(out, kXorMappedAddress);
  put16(out, static_cast<std::uint16_t>(v6 ? 20 : 8));
  out.push_back(0);
  out.push_back(v6 ? 0x02 : 0x01);
  put16(out, static_cast<std::uint16_t>(mapped.port ^ (kMagicCookie >> 16)));
  // X-Address: the address XOR the magic cookie (and, for IPv6, the transaction ID after it).
  const std::string_view mask = request.substr(4, 16);
  if (v6) {
    const auto bytes = mapped.address.to_v6().to_bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) out.push_back(static_cast<char>(bytes[i] ^ static_cast<unsigned char>(mask[i])));
  } else {
    const auto bytes = mapped.address.to_v4().to_bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) out.push_back(static_cast<char>(bytes[i] ^ static_cast<unsigned char>(mask[i])));
  }
  return out;
}

} // namespace switchback
