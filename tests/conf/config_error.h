#pragma once

#include "conf/config.h"

#include <string>

namespace switchback::test {

/// The least valid configuration: three lines, so a key appended to it is on line 4.
inline const std::string kMinimalConfig = "listen: [\"udp:127.0.0.1:5060\"]\n"
                                          "upstreams:\n"
                                          "  - { name: primary, uri: \"sip:127.0.0.1:5070\" }\n";

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
