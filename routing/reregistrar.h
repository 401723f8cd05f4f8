#pragma once

#include "core/binding_table.h"
#include "core/digest.h"
#include "core/network.h"
#include "core/sharded_hash.h"
#include "core/proxy_engine.h"
#include "health/node_table.h"
#include "routing/pacer.h"
#include "routing/routing_config.h"

#include <functional>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

namespace switchback {

/// Registers bindings on another node without the phones' passwords, paced per node:
/// it replays the registrant's last successful REGISTER with its last Authorization
/// (authOptimizedInFailover). A node that challenges the replay leaves the registrant to its
/// phone's next refresh; other failures retry with the RFC 5626 backoff.
class Reregistrar {
public:
  enum class Result { Registered, Challenged, Failed };
  using Done = std::function<void(const std::string& aor, std::size_t node, Result result, TimePoint now)>;
  using ClockFn = std::function<TimePoint()>;

  /// `clock` gives the time when an answer comes back (the engine calls back without one).
  Reregistrar(const PacingConfig& config, const NodeTable& nodes, BindingTable& bindings, ProxyEngine& engine,
              Wire& wire, ClockFn clock, CredentialStore credentials = {});

  void onDone(Done done) { done_ = std::move(done); }
  /// A reload: the new rate applies from the next release; queued work stays queued.
  void reconfigure(const PacingConfig& config, CredentialStore credentials);
  /// A reload changed the node table: queued work follows its node; work for a removed node is dropped.
  void remap(const NodeTable::Remap& remap);
  /// Queues a registration of `aor` on `node` (once; a second request while queued is ignored).
  void request(const std::string& aor, std::size_t node, TimePoint now);
  void cancel(const std::string& aor);
  /// Asks `node` (paced) whether it still holds `aor`'s registration: the last REGISTER replayed
  /// with no Contact (RFC 3261 §10.2.3, a query). A 200 that does not list the phone's contacts
  /// with an expiry, or another final refusal, invalidates the registration there; a challenge
  /// does not (any registrar challenges a stale nonce: it says nothing about the registration).
  void verify(const std::string& aor, std::size_t node, TimePoint now);
  std::uint64_t registrationsLost() const { return lost_; }
  /// A registration of `aor` on `node` is queued or in flight (not waiting out a backoff).
  bool underWay(const std::string& aor, std::size_t node) const;
  /// Releases what the pacers allow and the retries that are due.
  void tick(TimePoint now);

  std::size_t queued() const;
  std::size_t queuedFor(std::size_t node) const { return node < pacers_.size() ? pacers_[node].depth() : 0; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t succeeded() const { return succeeded_; }
  std::uint64_t challenged() const { return challenged_; }
  std::uint64_t surrogates() const { return surrogates_; }
  std::uint64_t failed() const { return failed_; }

private:
  void send(const std::string& aor, std::size_t node, TimePoint now);
  void query(const std::string& aor, std::size_t node, TimePoint now);
  /// (b) answers the node's challenge with the registrant's configured credentials.
  void sendSurrogate(const std::string& aor, std::size_t node, const Flow& phoneFlow, const std::string& replay,
                     const SipMessage& challenge, TimePoint now);
  void originateRegister(const Flow& flow, std::string request, std::uint32_t cseq, TimePoint now,
                         std::function<void(const LocalResult&, const std::string&)> outcome);
  bool recordSuccess(const std::string& aor, std::size_t node, const Flow& phoneFlow, const std::string& bytes,
                     const SipMessage& response, RegisteredBy how, TimePoint now);
  void finished(const std::string& aor, std::size_t node, Result result, TimePoint now);

  PacingConfig config_;
  const NodeTable& nodes_;
  BindingTable& bindings_;
  ProxyEngine& engine_;
  Wire& wire_;
  ClockFn clock_;
  CredentialStore credentials_;
  std::vector<Pacer> pacers_;                       // one per node
  // (registrant, node): a million of them after a failover of everyone, so hashed and sharded
  // (a tree of a million strings with one prefix costs microseconds of comparisons per insert).
  struct AorNodeHash {
    std::size_t operator()(const std::pair<std::string, std::size_t>& k) const {
      return std::hash<std::string>{}(k.first) ^ (k.second * 0x9E3779B97F4A7C15ull);
    }
  };
  using AorNodeSet = ShardedHash<std::unordered_set<std::pair<std::string, std::size_t>, AorNodeHash>>;
  AorNodeSet queued_;
  AorNodeSet verifying_;
  std::map<std::string, int> failures_;
  std::map<std::string, unsigned long> minExpires_;   // a node's 423 Min-Expires, per registrant
  std::multimap<TimePoint, std::pair<std::string, std::size_t>> retries_;
  std::mt19937_64 rng_;
  Done done_;
  std::uint64_t sent_ = 0, succeeded_ = 0, challenged_ = 0, failed_ = 0, surrogates_ = 0, lost_ = 0;
};

} // namespace switchback
