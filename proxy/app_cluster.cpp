// The cluster part of the composition root: bindings shared through Redis with the other nodes,
// who owns each registrant, and the takeover of a lapsed node's registrants (docs/cluster.md).
#include "proxy/app.h"

#include "core/flow_token.h"
#include "core/store/own_path.h"

#include <spdlog/spdlog.h>

namespace switchback {

void App::startCluster() {
  ClusterConfig cluster = config_.cluster;
  if (!cluster.enabled) cluster.nodeId = "single";  // one node on the Redis store
  membership_ = std::make_unique<ClusterMembership>(cluster.nodeId, cluster.deadAfter + cluster.heartbeatInterval);
  RedisStore::Handlers h;
  h.upsert = [this](const std::string& aor, const std::string& owner, std::string_view record) {
    applyPeer(aor, owner, record);
  };
  h.remove = [this](const std::string& aor) { removePeer(aor); };
  h.heartbeat = [this](const std::vector<std::string>& live, const std::map<std::string, std::int64_t>& beats) {
    onHeartbeat(live, beats);
  };
  h.edge = [this](bool up, const std::string& why) { onStoreEdge(up, why); };
  h.loaded = [this](std::size_t records, Millis took) {
    spdlog::info("cluster '{}': loaded {} registrants from {} in {} ms; {} in memory ({} owned here)", config_.cluster.name,
                 records, config_.store.url, took.count(), bindings_.size(),
                 bindings_.size() - [&] {
                   std::size_t others = 0;
                   for (const auto& [node, n] : membership_->ownerCounts()) others += n;
                   return std::min(others, bindings_.size());
                 }());
  };
  auto redis = std::make_unique<RedisStore>(io_, config_.store, cluster, std::move(h));
  shared_ = redis.get();
  store_ = std::move(redis);
  bindings_.trackChanges();
  auto owned = [this](const std::string& aor) { return membership_->ownedHere(aor); };
  router_.setOwnership(owned, !config_.cluster.sharedRegistrations);
  nat_->setOwned(owned);
  // A REGISTER through this node (the phone's, or one Switchback made: failover, takeover) makes
  // it the registrant's owner.
  bindings_.onRegisteredFlow([this](const std::string& aor, const Flow& f, TimePoint now) {
    membership_->setOwner(aor, membership_->self());
    nat_->watch(aor, f, now);
  });
  spdlog::info("cluster '{}': node '{}', store {}, shared registrations {}{}", config_.cluster.name, cluster.nodeId, config_.store.url, config_.cluster.sharedRegistrations ? "on" : "off",
               config_.cluster.advertise.empty() ? "" : ", advertising " + config_.cluster.advertise);
}

void App::applyPeer(const std::string& aor, const std::string& owner, std::string_view record) {
  const TimePoint now = Clock::now();
  // A record that names this node as owner is ours: memory is at least as new (a load after a
  // reconnect reads back what this node wrote), unless this node restarted and has nothing.
  if (owner == membership_->self() && bindings_.find(aor)) return;
  auto b = decodeBinding(record, now, wallClockMs());
  if (!b || b->aor != aor || b->contacts.empty()) {
    ++peerUnreadable_;
    return;
  }
  for (auto& c : b->contacts) c.flow.connection = 0;  // a connection of another process
  // Its Path names the node it came through; should this node replay it (a takeover), it must
  // name this one (or the shared address, which the engine's Path names already).
  const Flow& phone = b->contacts.front().flow;
  const auto& listeners = network_.listeners();
  if (phone.listener < listeners.size()) {
    const auto& k = config_.cluster;
    b->lastRegister = k.advertisePort ? withOwnPath(b->lastRegister, k.advertiseHost, k.advertisePort)
                                      : withOwnPath(b->lastRegister, listeners[phone.listener].host,
                                                    listeners[phone.listener].port);
  }
  membership_->setOwner(aor, owner);
  if (owner == membership_->self())
    for (const auto& c : b->contacts) nat_->watch(aor, c.flow, now);
  bindings_.restore(std::move(*b));
}

void App::removePeer(const std::string& aor) {
  bindings_.erase(aor);
  membership_->forget(aor);
}

void App::onStoreEdge(bool up, const std::string& why) {
  const TimePoint now = Clock::now();
  if (up) membership_->storeUp(now);
  else membership_->storeDown();
  if (sharedUp_ == up) return;
  const bool first = !sharedUp_;
  sharedUp_ = up;
  if (!up) {
    spdlog::warn("cluster store: Redis at {} {} ({}): serving from memory; changes are kept and written when it is back",
                 config_.store.url, first ? "not reachable" : "lost", why);
    return;
  }
  if (!first) spdlog::warn("cluster store: Redis at {} is back: writing this node's registrants and reloading", config_.store.url);
  else spdlog::info("cluster store: connected to Redis at {}", config_.store.url);
  // A restarted Redis may have lost everything: every registrant this node owns is written again.
  std::vector<std::string> owned;
  bindings_.forEach([&](const Binding& b) {
    if (membership_->ownedHere(b.aor)) owned.push_back(b.aor);
  });
  store_->write(storedBindings(owned));
}

std::vector<StoredBinding> App::storedBindings(const std::vector<std::string>& aors) {
  const TimePoint now = Clock::now();
  const std::int64_t wallNow = wallClockMs();
  std::vector<StoredBinding> batch;
  batch.reserve(aors.size());
  for (const auto& aor : aors) {
    const Binding* b = bindings_.find(aor);
    StoredBinding w{aor, std::nullopt, membership_ ? membership_->ownerOf(aor) : std::string(), Millis(0)};
    if (b) {
      TimePoint last = now;
      for (const auto& c : b->contacts) last = std::max(last, c.expires);
      w.record = encodeBinding(*b, now, wallNow);
      w.ttl = std::chrono::duration_cast<Millis>(last - now) + config_.cluster.grace;
    } else if (membership_) {
      membership_->forget(aor);
    }
    batch.push_back(std::move(w));
  }
  return batch;
}

void App::onHeartbeat(const std::vector<std::string>& live, const std::map<std::string, std::int64_t>& beatMs) {
  const TimePoint now = Clock::now();
  for (const auto& [node, ms] : beatMs) beatMs_[node] = ms;
  for (const auto& dead : membership_->heartbeats(live, now)) takeover(dead, now);
}

void App::takeover(const std::string& dead, TimePoint now) {
  if (dead == membership_->self()) return;
  const auto live = membership_->live();
  std::size_t owned = 0, ours = 0, queued = 0;
  for (const auto& aor : membership_->ownedBy(dead)) {
    const Binding* b = bindings_.find(aor);
    if (b == nullptr) {
      membership_->forget(aor);
      continue;
    }
    ++owned;
    if (hrwOwner(aor, live) != membership_->self()) continue;  // another live node's share
    ++ours;
    // Ours from now (NAT keep-alives, failover, renewals); the replay's success tells the others.
    membership_->setOwner(aor, membership_->self());
    for (const auto& [name, reg] : b->nodes) {
      const UpstreamNode* n = nodes_.findByName(name);
      if (!n || !reg.registered || reg.expires <= now) continue;
      reregistrar_->request(aor, n->index, now);
      ++queued;
      break;
    }
  }
  ++takeovers_;
  takenOver_ += ours;
  spdlog::warn("cluster takeover: node '{}' lapsed (no heartbeat for {} ms); it owned {} registrants; {} are this "
               "node's share among {} live nodes, {} queued for re-registration with this node's Path at up to {}/s "
               "per upstream node",
               dead, (config_.cluster.deadAfter + config_.cluster.heartbeatInterval).count(), owned, ours, live.size(),
               queued, config_.routing.pacing.registrationsPerSecond);
}

std::optional<ClusterStatus> App::clusterStatus(TimePoint now) const {
  if (!shared_) return std::nullopt;
  ClusterStatus s;
  s.config = config_.cluster;
  s.config.nodeId = membership_->self();
  s.url = config_.store.url;
  s.store = shared_->counters();
  s.takeovers = takeovers_;
  s.takenOver = takenOver_;
  s.unreadable = peerUnreadable_;
  const auto counts = membership_->ownerCounts();
  std::size_t others = 0;
  for (const auto& [node, n] : counts) others += n;
  std::set<std::string> ids;
  for (const auto& [node, seen] : membership_->lastSeen()) ids.insert(node);
  for (const auto& [node, n] : counts) ids.insert(node);
  ids.insert(membership_->self());
  const std::int64_t wallNow = wallClockMs();
  for (const auto& id : ids) {
    ClusterStatus::Node n;
    n.id = id;
    n.alive = membership_->alive(id) || id == membership_->self();
    if (auto b = beatMs_.find(id); b != beatMs_.end()) n.heartbeatAgeMs = static_cast<double>(wallNow - b->second);
    if (id == membership_->self()) n.owned = bindings_.size() - std::min(others, bindings_.size());
    else if (auto c = counts.find(id); c != counts.end()) n.owned = c->second;
    s.nodes.push_back(std::move(n));
  }
  (void)now;
  return s;
}

} // namespace switchback
