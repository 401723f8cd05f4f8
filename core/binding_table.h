#pragma once

#include "core/clock.h"
#include "core/due_heap.h"
#include "core/flow.h"
#include "core/sharded_hash.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace switchback {

/// How a registration on a node came about (shown per binding in the status).
enum class RegisteredBy { Phone, Replay, Surrogate };
std::string_view registeredByName(RegisteredBy how);   // "phone", "replay", "surrogate"

struct ContactBinding {
  std::string uri;                   // as the phone wrote it
  TimePoint expires;
  std::string instance;              // +sip.instance, if any
  std::optional<std::uint32_t> regId;
  Flow flow;                         // where the REGISTER came from
};

/// What one upstream node granted for this registrant in its last 2xx to REGISTER.
struct NodeRegistration {
  bool registered = false;
  TimePoint expires;
  TimePoint updated;
  /// Contact values in the 2xx, as the node wrote them, one per line (one string, not one each).
  std::string grantedContacts;
  std::vector<std::string_view> granted() const;
  void setGranted(const std::vector<std::string>& contacts);
};

struct Binding {
  std::string aor;
  std::vector<ContactBinding> contacts;
  std::string callId;
  std::uint32_t cseq = 0;
  /// The last REGISTER that succeeded, as forwarded, less what a replay replaces or does not
  /// need (Via, User-Agent, Allow, Accept…): request line, From, To, Call-ID, CSeq, Contact,
  /// Expires, Path, Supported, Authorization… (compactRegister).
  std::string lastRegister;
  /// Its Authorization header value, if any (a view into lastRegister).
  std::string_view authorization() const;
  RegisteredBy lastRegisteredBy = RegisteredBy::Phone;
  std::map<std::string, NodeRegistration, std::less<>> nodes;
  /// Kept by the table: when its first contact or node registration expires, and its place in
  /// the table's expiry heap.
  TimePoint due = TimePoint::max();
  std::size_t heapSlot = DueHeap<Binding>::kNoSlot;
};

/// A 2xx to a REGISTER, reduced to what the table needs; built by the proxy from the messages.
struct RegisterOutcome {
  struct Contact {
    std::string uri;
    std::uint32_t expiresSeconds = 0;          // granted by the node; 0 removes the contact
    std::string instance;
    std::optional<std::uint32_t> regId;
  };
  std::string aor;
  std::string node;
  Flow flow;
  RegisteredBy how = RegisteredBy::Phone;
  bool removeAll = false;                      // "Contact: *" with Expires: 0
  std::vector<Contact> contacts;               // the phone's contacts with what was granted
  std::vector<std::string> grantedContacts;    // every Contact in the 2xx
  std::string callId;
  std::uint32_t cseq = 0;
  std::string request;
  std::string authorization;
  std::uint32_t phoneExpiresCap = 0;           // the phone was granted at most this (0: no cap)
};

/// Registrant → contacts, flow, expiry, and registration state per upstream node.
class BindingTable {
  /// The table's key is the registrant's own `aor`, not a copy: the view is pointed at the
  /// Binding's string once it is in the table (a node never moves), and again whenever that
  /// Binding is assigned.
  struct AorKey {
    mutable std::string_view aor;
  };
  struct AorHash {   // not noexcept: so libstdc++ keeps each hash in its node, as for std::string keys
    using is_transparent = void;
    std::size_t operator()(std::string_view aor) const { return std::hash<std::string_view>{}(aor); }
    std::size_t operator()(const AorKey& k) const { return (*this)(k.aor); }
  };
  struct AorEqual {
    using is_transparent = void;
    static std::string_view view(const AorKey& k) { return k.aor; }
    static std::string_view view(std::string_view aor) { return aor; }
    template <typename A, typename B> bool operator()(const A& a, const B& b) const { return view(a) == view(b); }
  };

public:
  void apply(const RegisterOutcome& outcome, TimePoint now);

  const Binding* find(std::string_view aor) const;

  /// failRegistrationOn: the registration on `node` is silently invalidated (nothing is sent).
  void invalidate(std::string_view aor, std::string_view node);

  /// Drops expired contacts, then registrants with none left. Returns how many contacts went.
  /// Looks only at the registrants that fell due (an expiry heap), not at every binding.
  std::size_t purgeExpired(TimePoint now);

  std::size_t size() const { return bindings_.size(); }
  std::size_t contactCount() const { return contacts_; }
  /// Whether a contact was registered from this address, or names it (host:port of its URI).
  bool hasPhoneAt(const Endpoint& address) const { return phones_.count(address) != 0; }
  /// The registrant whose phone is at `address`: `preferred` if one of its contacts is there,
  /// else the last one registered from there, else `preferred`. A forked INVITE's branch names
  /// its callee by the flow it goes out on, not by its To (issue 21 item 4).
  std::string aorAt(const Endpoint& address, const std::string& preferred) const;
  /// Per node: registrants registered there, and known there but no longer registered
  /// (expired, or invalidated by failRegistrationOn). Counters, not a count.
  struct NodeCount {
    std::size_t registered = 0, unregistered = 0;
  };
  const std::map<std::string, NodeCount, std::less<>>& nodeCounts() const { return nodeCounts_; }

  /// A binding read back from the store (at start, or a cluster peer's change): not a change.
  void restore(Binding b);
  /// A cluster peer removed the registrant: gone here too, not a change of ours.
  bool erase(std::string_view aor);

  /// Removes the contacts of `aor` registered from `flow` (whatever its TCP connection id),
  /// and the registrant with them if none is left. Returns the URIs removed.
  std::vector<std::string> removeFlow(std::string_view aor, const Flow& flow);

  /// Called for each REGISTER outcome that leaves `aor` with contacts registered from `flow`
  /// (the NAT keep-alives follow registered flows this way).
  using FlowObserver = std::function<void(const std::string& aor, const Flow& flow, TimePoint now)>;
  void onRegisteredFlow(FlowObserver observer) { observer_ = std::move(observer); }

  /// Change tracking for the store: once on, every registrant added, changed or removed
  /// since the last call is returned (each once).
  void trackChanges() { tracking_ = true; }
  /// At most `max` of them (the rest wait for the next call), so a writer works in slices.
  std::vector<std::string> takeChanged(std::size_t max = std::numeric_limits<std::size_t>::max());
  std::size_t changedCount() const { return changed_.size(); }

  /// Called with the address of record of each registrant that leaves the table.
  using RemovedObserver = std::function<void(const std::string& aor)>;
  void onRemoved(RemovedObserver observer) { removedObserver_ = std::move(observer); }

  template <typename F> void forEach(F&& f) const {
    for (const auto& [aor, b] : bindings_) f(b);
  }

  /// Where a walk over every registrant in slices stands (see forEachSlice).
  using SliceCursor = ShardedHash<std::unordered_map<AorKey, Binding, AorHash, AorEqual>>::Cursor;
  /// Visits registrants from where `cursor` stopped until at least `max` were visited or the
  /// table ends; true once the walk is complete. Between two calls the table may change: a
  /// registrant added meanwhile may or may not be visited, and if the part of the table being
  /// walked grew enough to rehash, that part is walked again (a registrant may be visited twice,
  /// none present all along is missed). `f` must not add or remove registrants.
  template <typename F> bool forEachSlice(SliceCursor& cursor, std::size_t max, F&& f) const {
    return bindings_.forEachSlice(cursor, max, [&](const auto& entry) { f(entry.second); });
  }

private:
  // Sharded: a million registrants grow the table a shard at a time, never in one rehash.
  using Map = ShardedHash<std::unordered_map<AorKey, Binding, AorHash, AorEqual>>;
  void changed(std::string_view aor) {
    if (tracking_) changed_.emplace(aor);
  }
  /// Every change to a binding goes between count(b, -1) and count(b, +1): the counters, the
  /// phone-address index and the expiry heap follow it.
  void count(Binding& b, int sign);
  /// Takes an uncounted registrant out of the table.
  void forget(Map::iterator it);

  Map bindings_;
  bool tracking_ = false;
  ShardedHash<std::unordered_set<std::string>> changed_;
  FlowObserver observer_;
  RemovedObserver removedObserver_;
  DueHeap<Binding> due_;
  std::size_t contacts_ = 0;
  struct PhoneAt {
    std::uint32_t contacts = 0;
    std::string aor;   // the last registrant counted there
  };
  ShardedHash<std::unordered_map<Endpoint, PhoneAt, EndpointHash>> phones_;
  std::map<std::string, NodeCount, std::less<>> nodeCounts_;
};

/// A REGISTER as kept for replays: the same bytes without the header lines a replay replaces or
/// does not need (Via, Max-Forwards is kept, User-Agent, Allow, Accept, Date, Server, Organization).
std::string compactRegister(std::string_view request);

/// The canonical form of an address of record used as the table's key: "sip:user@host",
/// lower-case host, no port, parameters or display name.
std::string canonicalAor(std::string_view scheme, std::string_view user, std::string_view host);

} // namespace switchback
