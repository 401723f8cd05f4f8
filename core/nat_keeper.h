#pragma once

#include "core/binding_table.h"
#include "core/clock.h"
#include "core/flow.h"
#include "core/nat_config.h"
#include "core/sharded_hash.h"

#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchback {

/// Keeps registered phones' NAT pinholes open and tells which phones stopped answering.
///
/// One entry per flow a registered contact came from (a phone with several lines has one), each
/// pinged once per interval at a phase taken from a hash of the flow, so pings are spread evenly
/// over the interval, also after a restart restores every binding at once. Work is keyed by
/// time (a heap of due times): a tick touches only the flows that are due.
///
/// What counts as an answer: anything received from the flow since the last ping (the 200 to an
/// OPTIONS, a CRLF pong on a stream, a STUN or CRLF keep-alive, any SIP message). A flow with
/// nothing heard for `maxMissed` intervals is unreachable until something is heard again.
class NatKeeper {
public:
  /// Sends one keep-alive on `flow`: an OPTIONS to `contact` if `options`, else a CRLF ping.
  using SendFn = std::function<void(const Flow& flow, std::string_view contact, bool options)>;

  struct Unreachable {
    std::string aor;
    Flow flow;
  };

  NatKeeper(const NatConfig& config, const BindingTable& bindings, SendFn send);

  /// A reload: a new interval re-phases every flow (no burst when keep-alives are turned on).
  void reconfigure(const NatConfig& config, TimePoint now);
  /// A contact of `aor` is registered from `flow` (a REGISTER, a restore): keep it open.
  void watch(const std::string& aor, const Flow& flow, TimePoint now);
  /// Something arrived from `flow`.
  void heard(const Flow& flow);
  /// Sends the keep-alives that are due and counts the misses.
  void tick(TimePoint now);
  /// A cluster: only the node that owns a registrant keeps its flow open; a flow whose
  /// registrant another node owns now is dropped when its keep-alive falls due.
  void setOwned(std::function<bool(const std::string& aor)> owned) { owned_ = std::move(owned); }

  /// Flows that became unreachable since the last call (for the log, and removal upstream).
  std::vector<Unreachable> takeNewlyUnreachable();
  bool unreachable(const Flow& flow) const;

  std::size_t flows() const { return index_.size(); }
  std::size_t unreachableNow() const { return unreachableNow_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t missed() const { return missed_; }
  std::uint64_t unreachableTotal() const { return unreachableTotal_; }
  std::uint64_t recovered() const { return recovered_; }
  /// Contacts removed for being unreachable (nat.remove_unreachable), counted by their remover.
  std::uint64_t removed() const { return removed_; }
  void countRemoved(std::size_t n) { removed_ += n; }
  /// Removals a node did not accept (no 2xx to the REGISTER with Expires: 0): the binding expires there.
  std::uint64_t deregistrationsFailed() const { return deregistrationsFailed_; }
  void countDeregistrationFailed() { ++deregistrationsFailed_; }
  const NatConfig& config() const { return config_; }

private:
  struct Key {
    Transport transport;
    std::uint16_t listener;
    Endpoint remote;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Entry {
    Flow flow;
    std::string aor;
    std::uint32_t generation = 0;   // a heap item for an older generation is stale
    std::uint32_t missed = 0;
    bool awaiting = false;          // pinged, nothing heard since
    bool unreachable = false;
    bool live = false;
  };
  struct Due {
    TimePoint at;
    std::uint32_t slot;
    std::uint32_t generation;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  static Key keyOf(const Flow& flow) { return Key{flow.transport, flow.listener, flow.remote}; }
  TimePoint firstDue(const Key& key, TimePoint now) const;
  void fire(std::uint32_t slot, TimePoint now);
  void erase(std::uint32_t slot);
  /// The registered contact of `aor` on `flow`, if it still has one.
  const ContactBinding* contactOn(const std::string& aor, const Key& key) const;

  NatConfig config_;
  const BindingTable& bindings_;
  SendFn send_;
  std::function<bool(const std::string&)> owned_;
  ShardedHash<std::unordered_map<Key, std::uint32_t, KeyHash>> index_;   // a flow per phone: sharded like the bindings
  std::vector<Entry> slots_;
  std::vector<std::uint32_t> free_;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  std::vector<Unreachable> newly_;
  std::size_t unreachableNow_ = 0;
  std::uint64_t sent_ = 0, missed_ = 0, unreachableTotal_ = 0, recovered_ = 0, removed_ = 0;
  std::uint64_t deregistrationsFailed_ = 0;
};

} // namespace switchback
