#pragma once

#include "core/sip_message.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace switchback {

/// A response to `request` as RFC 3261 §8.2.6 builds it: every Via, From, To (with
/// `toTag` added when the request had none and status > 100), Call-ID, CSeq.
std::string buildResponse(const SipMessage& request, int status, std::string_view reason,
                          std::string_view toTag = {}, std::string_view extraHeaders = {});

/// The hop-by-hop ACK for a non-2xx final response to a forwarded INVITE (§17.1.1.3).
std::string buildAck(const SipMessage& forwardedInvite, const SipMessage& response);

/// The CANCEL for a forwarded INVITE (§9.1): same Request-URI, top Via, Route, Call-ID, From, To.
std::string buildCancel(const SipMessage& forwardedInvite);

/// An OPTIONS request to probe an upstream node (RFC 3261 §11), with `via` on top.
std::string buildOptionsProbe(const std::string& via, const std::string& targetUri, std::uint64_t seq);

/// The loop-detection hash of §16.6 step 8: Request-URI, From tag, To tag, Call-ID, CSeq
/// number, Route, Proxy-Require and Proxy-Authorization, as received.
std::uint64_t loopHash(const SipMessage& request);

std::string hex64(std::uint64_t v);
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037ull);

} // namespace switchback
