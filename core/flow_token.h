#pragma once

#include "core/flow.h"

#include <optional>
#include <string>
#include <string_view>

namespace switchback {

/// The flow token Switchback puts in the user part of its Path and Record-Route URIs
/// (RFC 5626 §5.2), so requests from upstream find the phone's flow again:
/// "sb-" transport listener "-" hex address "-" port, e.g. "sb-u0-7f000001-5061".
std::string encodeFlowToken(const Flow& flow);

/// Parses a token; anything else, however malformed, yields nullopt.
std::optional<Flow> decodeFlowToken(std::string_view token);

} // namespace switchback
