#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchback {

/// A registrant's last REGISTER as another node of the cluster forwarded it, with that node's
/// Path entry (the one whose user part is our flow token, "sb-…") naming `host`:`port` instead:
/// replayed by this node (a takeover), it registers this node's Path, so calls come here. The
/// flow token stays: it names the phone's address, which this node reaches from its own socket.
/// Unchanged if it has no such entry or does not parse.
std::string withOwnPath(const std::string& lastRegister, const std::string& host, std::uint16_t port);

} // namespace switchback
