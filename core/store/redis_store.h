#pragma once

#include "core/store/cluster_config.h"
#include "core/store/redis_connection.h"
#include "core/store/store.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchback {

/// Bindings shared by the nodes of a cluster through one Redis (docs/cluster.md has the keys):
/// a key per registrant with a TTL, written and published by the node that changed it; the other
/// nodes keep a warm copy from the channel (no lookup per request) and load every key with SCAN
/// when they start or reconnect. A heartbeat key per node, with a TTL, says who is alive.
/// All on the node's Asio loop; nothing blocks. Redis down: writes are kept (the latest per
/// registrant) and written when it is back; the node serves from memory meanwhile.
class RedisStore : public Store {
public:
  struct Handlers {
    /// A peer's (or, on a load, anyone's) registrant: its owner and its record (encodeBinding).
    std::function<void(const std::string& aor, const std::string& owner, std::string_view record)> upsert;
    std::function<void(const std::string& aor)> remove;
    /// Each heartbeat round: the nodes whose heartbeat key is there now (this one included).
    std::function<void(const std::vector<std::string>& live, const std::map<std::string, std::int64_t>& beatMs)> heartbeat;
    /// The connection to Redis came up (true) or went down (false), with why.
    std::function<void(bool up, const std::string& why)> edge;
    /// A load (SCAN) finished: how many records it read.
    std::function<void(std::size_t records, Millis took)> loaded;
  };

  struct Counters {
    bool up = false;
    std::uint64_t written = 0;       // writes Redis acknowledged
    std::uint64_t errors = 0;        // failed commands and lost connections
    std::uint64_t published = 0;
    std::uint64_t received = 0;      // peers' changes heard on the channel
    std::size_t unsent = 0;          // registrants waiting for Redis
    std::size_t inFlight = 0;        // writes sent, not acknowledged yet
    std::uint64_t loads = 0;
    double lagLastMs = 0, lagMedianMs = 0, lagP99Ms = 0;   // change written by a peer → heard here
    std::uint64_t lagSamples = 0;
  };

  RedisStore(boost::asio::io_context& io, const StoreConfig& store, const ClusterConfig& cluster, Handlers handlers);
  ~RedisStore() override;

  std::string describe() const override { return "redis " + store_.url; }
  void write(std::vector<StoredBinding> batch) override;
  void finish() override { leave(); }

  void start();
  void stop();
  /// Leaving the cluster (SIGTERM): this node's heartbeat key goes now.
  void leave();
  bool up() const { return commands_.connected(); }
  Counters counters() const;
  std::string keyPrefix() const { return prefix_; }

private:
  void send(const StoredBinding& w);
  void flushUnsent();
  void load(std::string cursor, TimePoint started, std::size_t count);
  void beat();
  void scheduleBeat();
  void onChange(std::string_view payload);
  void sampleLag(double ms);

  StoreConfig store_;
  ClusterConfig cluster_;
  Handlers handlers_;
  std::string prefix_;    // "sb:{cluster}:"
  std::string channel_;
  RedisConnection commands_;
  RedisConnection changes_;
  boost::asio::steady_timer beatTimer_;
  std::unordered_map<std::string, StoredBinding> unsent_;
  std::size_t inFlight_ = 0;
  bool loading_ = false;
  Counters counters_;
  std::vector<float> lags_;   // the last kLagSamples, a ring
  std::size_t lagNext_ = 0;
  static constexpr std::size_t kLagSamples = 4096;
};

} // namespace switchback
