#pragma once

#include "core/clock.h"

#include <optional>
#include <string>
#include <vector>

namespace switchback {

/// A registrant as a store keeps it: its record (encodeBinding) or nothing (it is gone), the
/// node that owns it (a cluster) and how long the store should keep it.
struct StoredBinding {
  std::string aor;
  std::optional<std::string> record;   // nullopt: the registrant is gone
  std::string owner;
  Millis ttl{0};
};

/// Where a node's bindings go beyond its memory: SqliteStore (one node, the default) or
/// RedisStore (a cluster). The binding table stays the truth for the SIP thread; a store is
/// written in batches from the table's change list and never waited for.
class Store {
public:
  virtual ~Store() = default;
  /// "sqlite" or "redis", and where (for logs and /status).
  virtual std::string describe() const = 0;
  /// Queued or sent; never waits.
  virtual void write(std::vector<StoredBinding> batch) = 0;
  /// Shutting down: what was written is handed over (a bounded wait for SQLite; Redis also takes
  /// this node's heartbeat away, and its last writes go out while the loop runs a little longer).
  virtual void finish() = 0;
};

} // namespace switchback
