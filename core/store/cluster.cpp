#include "core/store/cluster.h"

namespace switchback {

std::uint64_t hrwScore(std::string_view aor, std::string_view node) {
  // FNV-1a over "aor\0node", then a 64-bit finaliser (splitmix64) so close names spread.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  };
  mix(aor);
  h = (h ^ 0u) * 1099511628211ull;
  mix(node);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::string hrwOwner(std::string_view aor, const std::vector<std::string>& live) {
  const std::string* best = nullptr;
  std::uint64_t bestScore = 0;
  for (const auto& n : live) {
    const auto s = hrwScore(aor, n);
    if (!best || s > bestScore || (s == bestScore && n < *best)) best = &n, bestScore = s;
  }
  return best ? *best : std::string();
}

std::vector<std::string> ClusterMembership::heartbeats(const std::vector<std::string>& live, TimePoint now) {
  live_ = std::set<std::string>(live.begin(), live.end());
  live_.insert(self_);
  for (const auto& n : live_) {
    lastSeen_[n] = now;
    lapsed_.erase(n);
  }
  // Owners never seen alive (a node that died before this one started) count from the store's start.
  for (const auto& [owner, n] : counts_)
    if (!lastSeen_.count(owner) && storeUpSince_) lastSeen_[owner] = *storeUpSince_;
  std::vector<std::string> out;
  // A store that has just come back (a restarted Redis has lost every heartbeat key) is given time
  // for every node's next heartbeat before anyone is judged.
  if (!storeUpSince_ || now - *storeUpSince_ < lapseAfter_) return out;
  for (const auto& [node, seen] : lastSeen_)
    if (!live_.count(node) && !lapsed_.count(node) && now - seen >= lapseAfter_) {
      lapsed_.insert(node);
      out.push_back(node);
    }
  return out;
}

std::vector<std::string> ClusterMembership::live() const { return {live_.begin(), live_.end()}; }

void ClusterMembership::setOwner(const std::string& aor, const std::string& node) {
  forget(aor);
  if (node == self_) return;  // the default: only others' are kept
  owners_.emplace(aor, node);
  ++counts_[node];
}

void ClusterMembership::forget(const std::string& aor) {
  auto it = owners_.find(aor);
  if (it == owners_.end()) return;
  if (auto c = counts_.find(it->second); c != counts_.end() && --c->second == 0) counts_.erase(c);
  owners_.erase(it);
}

const std::string& ClusterMembership::ownerOf(const std::string& aor) const {
  auto it = owners_.find(aor);
  return it == owners_.end() ? self_ : it->second;
}

std::vector<std::string> ClusterMembership::ownedBy(const std::string& node) const {
  std::vector<std::string> out;
  for (const auto& [aor, owner] : owners_)
    if (owner == node) out.push_back(aor);
  return out;
}

std::map<std::string, std::size_t> ClusterMembership::ownerCounts() const { return counts_; }

} // namespace switchback
