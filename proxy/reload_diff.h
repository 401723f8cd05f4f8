#pragma once

#include "conf/config.h"

#include <string>
#include <vector>

namespace switchback {

/// A reload (SIGHUP) applies the new configuration while running, except what only a restart
/// can change: the sockets (`listen`, `tls`, the transport `limits`), the admin endpoint, the
/// store's file, the resolver. These are the keys among them whose value changed, in a fixed
/// order: "listen", "admin", "persistence.path", "limits", "tls", "dns".
std::vector<std::string> restartOnlyChanges(const Config& running, const Config& fresh);

/// The configuration that runs after the reload: `fresh`, with every restart-only setting kept at
/// its running value, so that /status tells what is in force.
Config appliedConfig(const Config& running, Config fresh);

} // namespace switchback
