#pragma once

#include "core/clock.h"

#include <cstdint>

namespace switchback {

/// Keeping phones' NAT pinholes open (RFC 5626 §4.4, the nathelper convention) and noticing
/// phones that no longer answer.
struct NatConfig {
  enum class Method { Options, Crlf };

  Seconds keepaliveInterval{25};     // per registered flow; 0: no keep-alives are sent
  Method method = Method::Options;   // UDP: OPTIONS, or a "\r\n\r\n" datagram; TCP/TLS always get a CRLF ping
  std::uint32_t maxMissed = 3;       // intervals with nothing heard from the phone before it is unreachable
  bool removeUnreachable = false;    // an unreachable phone's contacts are removed here and upstream (Expires: 0)
  bool stun = true;                  // answer STUN Binding requests on the UDP SIP sockets
  bool flowTimer = true;             // Flow-Timer (RFC 5626 §5.4) in 2xx to an outbound phone's REGISTER

  bool operator==(const NatConfig&) const = default;
};

} // namespace switchback
