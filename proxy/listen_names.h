#pragma once

#include "core/transport_config.h"

#include <vector>

namespace switchback {

/// Listen addresses given by DNS name get the name's address (its first IPv4 one, else its
/// first IPv6 one), looked up with the system's resolver (/etc/hosts first). At start and at a
/// reload only. Throws std::runtime_error naming the address when a name does not resolve.
void resolveListenNames(std::vector<ListenAddress>& listen);

} // namespace switchback
