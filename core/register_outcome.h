#pragma once

#include "core/binding_table.h"
#include "core/sip_message.h"

#include <string>

namespace switchback {

/// What a 2xx to a REGISTER means for the binding table: the contacts the request named, each
/// with the expiry the node granted (0 when the node no longer lists it), and the request's
/// Call-ID, CSeq and Authorization. `flow` is the phone's; `how` says who registered.
RegisterOutcome registerOutcome(const SipMessage& request, const SipMessage& response, const std::string& node,
                                const Flow& flow, const std::string& requestBytes, RegisteredBy how = RegisteredBy::Phone);

/// The advisory's only success: "a 200 OK response with valid expires". A 200 whose Contacts
/// grant each contact the request asked to keep a positive expiry (a removal needs only the
/// 200); any other 2xx, or a 200 that does not list such a contact with an expiry, registers
/// nothing and changes nothing.
bool validRegistration(const SipMessage& request, const SipMessage& response);

} // namespace switchback
