#pragma once

#include "core/flow.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchback {

/// What a UDP datagram on a SIP socket is, before the SIP parser sees it (RFC 5626 §4.4.2:
/// SIP, STUN keep-alives and CRLF keep-alives share the port).
enum class DatagramKind { Sip, CrlfKeepAlive, StunBindingRequest, StunOther };

/// STUN is told apart by its first two bits (0) and the magic cookie (RFC 5389 §6); SIP starts
/// with a letter.
DatagramKind classifyDatagram(std::string_view datagram);

/// The Binding success response (RFC 5389 §7.3.1) to a valid Binding request: its transaction
/// ID and an XOR-MAPPED-ADDRESS with the address the request came from. nullopt if the request
/// is malformed (a length that does not match the datagram) or asks for an attribute we must
/// understand and do not (those answered 420 would need a body we do not build: dropped).
std::optional<std::string> stunBindingResponse(std::string_view request, const Endpoint& mapped);

} // namespace switchback
