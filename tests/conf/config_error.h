#pragma once

#include "conf/config.h"

#include <string>

namespace switchback::test {

/// The ConfigError a YAML text raises (loaded as "test.yaml"), or "(no error)".
inline std::string errorOf(const std::string& yaml) {
  try {
    loadConfigString(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace switchback::test
