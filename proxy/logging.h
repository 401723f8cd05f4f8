#pragma once

#include "conf/config.h"

namespace switchback {

/// Sets the spdlog level and routes sofia-sip's own log (printf fragments) into spdlog.
void setupLogging(const LogConfig& config);

} // namespace switchback
