#pragma once

#include "core/clock.h"
#include "core/sip_message.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchback {

/// Whether a REGISTER asks for RFC 5626 outbound: a Contact with reg-id, or Supported: outbound.
bool wantsOutbound(const SipMessage& request);

/// RFC 5626 §5.4: the edge proxy tells an outbound phone how often to send keep-alives on its
/// flow with Flow-Timer in the 2xx to its REGISTER (unless the registrar set one already).
void addFlowTimer(SipMessage& response, const SipMessage& request, Seconds interval);

} // namespace switchback

namespace switchback {

/// The registrant's last successful REGISTER as Switchback sends it itself: our Via alone, CSeq
/// `cseq`, a fresh Max-Forwards; the rest as it was. nullopt if the stored request does not parse.
std::optional<SipMessage> replayOf(std::string_view lastRegister, const std::string& via, std::uint32_t cseq,
                                   std::size_t maxSize = 65535);

/// A REGISTER removing `contacts` (Expires: 0) built from the registrant's last successful
/// REGISTER: our Via alone, CSeq `cseq`, Call-ID, From, To, Path and Authorization as they were.
/// Empty if the stored request does not parse.
std::string buildDeregistration(const std::string& lastRegister, const std::string& via, std::uint32_t cseq,
                                const std::vector<std::string>& contacts);

} // namespace switchback
