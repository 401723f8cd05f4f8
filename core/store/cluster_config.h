#pragma once

#include "core/clock.h"

#include <cstdint>
#include <string>

namespace switchback {

/// Where bindings are kept beyond memory: `store:` (a `persistence:` block is kind sqlite).
struct StoreConfig {
  enum class Kind { Sqlite, Redis };
  Kind kind = Kind::Sqlite;
  std::string url = "redis://127.0.0.1:6379";  // kind redis
  Millis timeout{1000};                        // a Redis command with no answer by then: the connection is made again
  Millis flushInterval{20};                    // kind redis: how often changed bindings are written and published

  bool operator==(const StoreConfig&) const = default;
};

/// Several nodes as one service (`cluster:`), sharing bindings through the Redis store.
struct ClusterConfig {
  bool enabled = false;
  std::string name = "switchback";        // keys are sb:{name}:…
  std::string nodeId;                     // unique in the cluster
  bool sharedRegistrations = true;        // false: a phone must register via this node before its calls
  std::string advertise;                  // "sip:host:port": Path and Record-Route name it (a shared VIP)
  std::string advertiseHost;              // its host (no brackets) and port (5060 if not given), as read
  std::uint16_t advertisePort = 0;
  Millis heartbeatInterval{300};
  Millis deadAfter{1000};                 // the heartbeat key's TTL: a node silent this long is dead
  Seconds grace{30};                      // a binding's key outlives its expiry by this much

  bool operator==(const ClusterConfig&) const = default;
};

} // namespace switchback
