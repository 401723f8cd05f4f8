#pragma once

#include "core/flow.h"

#include <optional>
#include <string_view>

#include "core/sofia.h"

namespace switchback {

/// An IP literal host ("1.2.3.4", "[::1]", "::1"); nullopt for names and garbage.
std::optional<boost::asio::ip::address> hostAddress(std::string_view host);

/// Where a SIP URI with an IP-literal host points: transport from ;transport=, port or 5060.
struct UriTarget {
  Transport transport;
  Endpoint endpoint;
};
std::optional<UriTarget> uriTarget(const url_t* url);

} // namespace switchback
