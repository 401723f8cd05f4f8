#pragma once

#include "core/clock.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchback {

/// Rendezvous (highest random weight) hashing: the live node with the highest score for an AOR
/// owns it. Every node computes the same owner from the same live set, with no coordination, and
/// a node's death moves only its own registrants. Empty when `live` is.
std::uint64_t hrwScore(std::string_view aor, std::string_view node);
std::string hrwOwner(std::string_view aor, const std::vector<std::string>& live);

/// Who owns each registrant (the node its phone, or a takeover, last registered it through) and
/// which nodes are alive, from the heartbeat rounds. No I/O: the Redis store feeds it.
class ClusterMembership {
public:
  ClusterMembership(std::string self, Millis lapseAfter) : self_(std::move(self)), lapseAfter_(lapseAfter) {}

  const std::string& self() const { return self_; }

  /// The store came up (or back): heartbeats are judged only after it has been up a while.
  void storeUp(TimePoint now) { storeUpSince_ = now; }
  void storeDown() { storeUpSince_.reset(); }

  /// A heartbeat round read these nodes alive. Returns the nodes that lapsed: seen alive (or owning
  /// registrants) before, absent for longer than lapseAfter while the store was up. Each lapse is
  /// reported once, until the node is seen alive again.
  std::vector<std::string> heartbeats(const std::vector<std::string>& live, TimePoint now);
  std::vector<std::string> live() const;
  bool alive(const std::string& node) const { return live_.count(node) > 0; }
  /// When each node was last seen alive (heartbeat age).
  const std::map<std::string, TimePoint>& lastSeen() const { return lastSeen_; }

  void setOwner(const std::string& aor, const std::string& node);
  void forget(const std::string& aor);
  /// The owner, or this node for a registrant with none recorded.
  const std::string& ownerOf(const std::string& aor) const;
  bool ownedHere(const std::string& aor) const { return ownerOf(aor) == self_; }
  std::vector<std::string> ownedBy(const std::string& node) const;
  std::map<std::string, std::size_t> ownerCounts() const;

private:
  std::string self_;
  Millis lapseAfter_;
  std::optional<TimePoint> storeUpSince_;
  std::set<std::string> live_;
  std::set<std::string> lapsed_;
  std::map<std::string, TimePoint> lastSeen_;
  std::unordered_map<std::string, std::string> owners_;   // others' registrants only
  std::map<std::string, std::size_t> counts_;             // owner → registrants, kept with owners_
};

} // namespace switchback
