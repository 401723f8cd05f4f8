#pragma once

#include <optional>
#include <string>
#include <string_view>

extern "C" struct msg_auth_s;

namespace switchback {

struct DigestCredentials {
  std::string username;
  std::string password;
};

/// The Authorization value answering an RFC 2617 / RFC 3261 §22.4 Digest challenge (MD5,
/// qop=auth or none), for a request Switchback sends on a registrant's behalf. nullopt when
/// the challenge is not one it can answer (another scheme or algorithm).
std::optional<std::string> digestAuthorization(const msg_auth_s* challenge, std::string_view method,
                                               std::string_view uri, const DigestCredentials& credentials,
                                               std::string_view cnonce);

std::string md5Hex(std::string_view s);

} // namespace switchback
