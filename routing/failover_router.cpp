#include "routing/failover_router.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

namespace switchback {

FailoverRouter::FailoverRouter(const RoutingConfig& config, const NodeTable& nodes, HealthMonitor& health,
                               BindingTable& bindings)
    : config_(config), nodes_(nodes), health_(health), bindings_(bindings), dialogs_(config.sbc.dialogLifetime),
      chain_(makeRequestChain()) {
  bindings_.onRemoved([this](const std::string& aor) {
    if (registrants_.count(aor)) forgettable_.insert(aor);
  });
}

FailoverRouter::~FailoverRouter() { bindings_.onRemoved(nullptr); }

FailoverRouter::Registrant& FailoverRouter::registrant(const std::string& aor) {
  auto [it, added] = registrants_.try_emplace(aor);
  if (added && bindings_.find(aor) == nullptr) forgettable_.insert(aor);
  return it->second;
}

void FailoverRouter::setCurrent(std::string_view aor, Registrant& r, std::optional<std::size_t> node) {
  if (r.state.current == node) return;
  if (r.state.current && *r.state.current < signaling_.size()) --signaling_[*r.state.current];
  r.state.current = node;
  if (node) {
    if (*node >= signaling_.size()) signaling_.resize(*node + 1);
    ++signaling_[*node];
  }
  if (node && *node != 0) queueCheck(aor, r, 1);  // looked at next second, which finds when it is due
}

std::uint32_t FailoverRouter::secondOf(TimePoint t) {
  const auto s = std::chrono::ceil<Seconds>(t.time_since_epoch()).count();
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(s, 1, std::numeric_limits<std::uint32_t>::max()));
}

void FailoverRouter::queueCheck(std::string_view aor, Registrant& r, std::uint32_t second) {
  if (r.checkAt != 0 && r.checkAt <= second) return;  // an earlier one is queued: it finds the next
  r.checkAt = second;
  checks_.emplace_back(second, aor);
  std::push_heap(checks_.begin(), checks_.end(), std::greater<>{});
}

TimePoint FailoverRouter::nextCheck(const Registrant& r, const FailoverSettings& s, const std::vector<NodeView>& v,
                                    TimePoint now) const {
  if (r.state.activeDialogs > 0) return now + Seconds(1);  // in a call: it fails back once the call ends
  const TimePoint soon = now + kRecheckWhileWaiting;
  if (r.pendingNode) return soon;
  TimePoint due = now + kCheckAtLeastEvery;
  for (const auto at : {RegistrantPolicy::renewalAt(r.state, v), RegistrantPolicy::timedFailbackAt(s, r.state, v)})
    if (at) due = std::min(due, *at);
  return std::max(due, due <= now ? soon : now + Seconds(1));
}

void FailoverRouter::setReregistrar(Reregistrar* r) {
  reregistrar_ = r;
  if (r) r->onDone([this](const std::string& aor, std::size_t node, Reregistrar::Result res, TimePoint now) {
      reregistered(aor, node, res, now);
    });
}

FailoverSettings FailoverRouter::settingsFor(std::string_view aor) const {
  // The settings of the registrant's current working node (the server it is registered to, or
  // via, for an outbound proxy), by that node's own role; the primary's before it has one.
  const UpstreamNode* node = &nodes_.primary();
  if (auto it = registrants_.find(std::string(aor)); it != registrants_.end() && it->second.state.current &&
                                                       *it->second.state.current < nodes_.nodes().size())
    node = &nodes_.nodes()[*it->second.state.current];
  return resolveFailover(config_.failover, aor, node->upstream, node->outboundProxy);
}

NextHop FailoverRouter::hop(std::size_t i) const {
  const UpstreamNode& n = nodes_.nodes()[i];
  return NextHop{n.name, n.transport, n.endpoint};
}

std::optional<std::size_t> FailoverRouter::indexOf(std::string_view node) const {
  if (const UpstreamNode* n = nodes_.findByName(node)) return n->index;
  return std::nullopt;
}

std::vector<NodeView> FailoverRouter::views(std::string_view aor, TimePoint now) const {
  const Binding* b = bindings_.find(aor);
  std::vector<NodeView> v;
  v.reserve(nodes_.nodes().size());
  for (const auto& n : nodes_.nodes()) {
    NodeView view;
    view.usable = health_.usable(n.index, now);
    view.dnsTtl = n.dnsTtl;
    if (!view.dnsTtl && n.dnsTarget.empty()) view.dnsTtl = config_.ipLiteralDnsTtl;  // an IP literal: no record
    if (b) {
      auto it = b->nodes.find(n.name);
      if (it != b->nodes.end() && it->second.registered && it->second.expires > now) {
        view.registered = true;
        view.registrationExpires = it->second.expires;
      }
    }
    v.push_back(view);
  }
  return v;
}

void FailoverRouter::moveTo(std::string_view aor, Registrant& r, std::size_t node, TimePoint now) {
  auto& current = r.state.current;
  if (current && *current == node) return;
  if (current && *current < nodes_.nodes().size()) {
    const bool failover = node > *current;
    std::string reason(failover ? (health_.usable(*current, now) ? "registered elsewhere" : "node down")
                                : failBackModeName(settingsFor(aor).failBackMode));
    if (failover) {
      r.state.failedOverAt = now;
      r.state.failedNode = *current;
      ++failovers_;
      ++failoversByReason_[reason];
    } else {
      ++failbacks_;
      ++failbacksByReason_[reason];
    }
    ++moves_[{failover, nodes_.nodes()[*current].name, nodes_.nodes()[node].name, std::move(reason)}];
  }
  if (r.state.failedNode == node) r.state.failedNode.reset();  // failback to it: attempted and done
  setCurrent(aor, r, node);
}

RegistrantState FailoverRouter::stateOf(std::string_view aor) const {
  auto it = registrants_.find(std::string(aor));
  return it == registrants_.end() ? RegistrantState{} : it->second.state;
}

void FailoverRouter::logMoves(TimePoint now) {
  // One line per kind of move and second, not one per registrant: a failover of 10,000
  // phones is one event to the operator.
  for (const auto& [m, count] : moves_) {
    spdlog::warn("{} from '{}' to '{}' ({}): {} registrants moved", m.failover ? "failover" : "failback", m.from, m.to,
                 m.failover ? m.reason : "failBack.mode " + m.reason, count);
    auto wave = std::find_if(recentMoves_.rbegin(), recentMoves_.rend(), [&](const MoveEvent& e) {
      return e.failover == m.failover && e.from == m.from && e.to == m.to && e.reason == m.reason &&
             now - e.last <= Seconds(2);
    });
    if (wave != recentMoves_.rend()) {
      wave->last = now;
      wave->registrants += count;
      continue;
    }
    recentMoves_.push_back({now, now, m.failover, m.from, m.to, m.reason, count});
    if (recentMoves_.size() > kMoveHistory) recentMoves_.pop_front();
  }
  moves_.clear();
}

void FailoverRouter::reconfigure(const RoutingConfig& config) {
  config_ = config;
  dialogs_.setLifetime(config.sbc.dialogLifetime);
  // New failBack settings: every registrant away from the primary finds its due time again.
  for (auto& [aor, r] : registrants_)
    if (r.state.current && *r.state.current != 0) queueCheck(aor, r, 1);
}

void FailoverRouter::remap(const NodeTable::Remap& remap) {
  auto moved = [&](std::optional<std::size_t> node) -> std::optional<std::size_t> {
    if (!node || *node >= remap.size()) return std::nullopt;
    return remap[*node];
  };
  // A registrant whose node is gone finds its node again from its bindings on its next request.
  signaling_.assign(nodes_.nodes().size(), 0);
  for (auto& [aor, r] : registrants_) {
    r.state.current = moved(r.state.current);
    setPending(r, moved(r.pendingNode));
    if (!r.state.current) continue;
    if (*r.state.current >= signaling_.size()) signaling_.resize(*r.state.current + 1);
    ++signaling_[*r.state.current];
    if (*r.state.current != 0) queueCheck(aor, r, 1);
  }
  std::erase_if(edges_, [&](EdgeWork& w) {
    const auto node = moved(w.node);
    if (node) w.node = *node;
    return !node;
  });
  moves_.clear();
}

void FailoverRouter::registerOn(const std::string& aor, Registrant& r, std::size_t node, TimePoint now) {
  // The failed node stays blocked while the failback registration is only attempted: the seed's
  // phones "won't communicate with failed servers that recover until failback succeeds", so the
  // block lifts when the registration there succeeds (moveTo), not when it is sent.
  if (r.pendingNode == node) return;
  setPending(r, node);
  if (reregistrar_) reregistrar_->request(aor, node, now);
}

void FailoverRouter::onRegistered(std::string_view aor, std::string_view node, TimePoint now) {
  const auto idx = indexOf(node);
  if (!idx) return;
  Registrant& r = registrant(std::string(aor));
  if (r.pendingNode == idx) setPending(r, std::nullopt);
  if (reregistrar_ && !r.pendingNode) reregistrar_->cancel(std::string(aor));
  moveTo(aor, r, *idx, now);
  if (resume_) resume_(r.pendingNode ? std::string() : std::string(aor));
}

void FailoverRouter::reregistered(const std::string& aor, std::size_t node, Reregistrar::Result result, TimePoint now) {
  auto it = registrants_.find(aor);
  if (it == registrants_.end()) return;
  Registrant& r = it->second;
  if (result == Reregistrar::Result::Registered) {
    if (r.pendingNode == node) setPending(r, std::nullopt);
    moveTo(aor, r, node, now);
  }
  // Challenged: the registrant stays pending until its phone's own refresh registers it there.
  if (resume_) resume_(aor);  // its held requests are routed again, whatever the result
}

void FailoverRouter::onDialog(const DialogEvent& event, TimePoint now) { dialogs_.onEvent(event, now); }

void FailoverRouter::observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) {
  static constexpr HealthMonitor::Outcome kMap[] = {HealthMonitor::Outcome::Answered, HealthMonitor::Outcome::Unavailable,
                                                    HealthMonitor::Outcome::Timeout, HealthMonitor::Outcome::TransportError};
  health_.observe(node, kMap[static_cast<int>(outcome)], retryAfter, now);
}

void FailoverRouter::onNodeEdge(const UpstreamNode& node, const HealthEdge& edge, TimePoint now) {
  // Coming back is handled by each failBack.mode when its time comes; without a Reregistrar
  // there is nothing to ask the node that came back.
  // No reserve() here: the sets grow a shard at a time, and std's reserve of a map that already
  // has more buckets rehashes it to fewer (half a second for a million registrants).
  if (edge.nowUp && !reregistrar_) return;
  if (!edge.nowUp) checks_.reserve(bindings_.size());  // room for everyone's check: no reallocation on the way
  edges_.push_back(EdgeWork{node.index, node.name, edge.nowUp, edge.reason, {}, 0, 0});
  continueEdges(now);
}

bool FailoverRouter::continueEdges(TimePoint now) {
  if (edges_.empty()) return false;
  EdgeWork& work = edges_.front();
  // The slice's registrants are named first and worked on after: the work may change the table.
  std::vector<std::string> aors;
  aors.reserve(kEdgeSlice);
  const bool done = bindings_.forEachSlice(work.cursor, kEdgeSlice, [&](const Binding& b) {
    if (!work.up) return aors.push_back(b.aor);
    // failRegistrationOn=0: registrations there "remain active" and the phone "will attempt
    // failback without first attempting to register with the primary" (advisory): nothing is
    // asked unless queryOnRecovery (not in the advisory) is on.
    auto it = b.nodes.find(work.name);
    if (it != b.nodes.end() && it->second.registered && it->second.expires > now) aors.push_back(b.aor);
  });
  for (const auto& aor : aors) {
    if (ownedHere_ && !ownedHere_(aor)) continue;  // its owner, another node, moves it or asks
    if (!work.up) {
      nodeDown(aor, work, now);
      continue;
    }
    const FailoverSettings s = settingsFor(aor);
    if (reregistrar_ && s.reRegisterOn && !s.failRegistrationOn && s.queryOnRecovery) reregistrar_->verify(aor, work.node, now);
  }
  if (done) {
    if (!work.up)
      spdlog::warn("failover from '{}' ({}): {} registrants affected, {} queued for registration elsewhere", work.name,
                   work.reason, work.affected, work.queued);
    edges_.pop_front();
  }
  return !edges_.empty();
}

void FailoverRouter::nodeDown(const std::string& aor, EdgeWork& work, TimePoint now) {
  Registrant& r = registrant(aor);
  auto v = views(aor, now);
  for (std::size_t i = 0; i < v.size() && !r.state.current; ++i)
    if (v[i].registered) setCurrent(aor, r, i);
  const FailoverSettings s = settingsFor(aor);
  if (r.state.current != work.node) {
    // The phone's own REGISTER may have moved it off this node before the edge was worked
    // through: it failed over all the same, and failRegistrationOn's invalidation "at the point
    // of failing over" is still owed (otherwise the failed node's registration stays live).
    if (r.state.failedNode == work.node && s.reRegisterOn && s.failRegistrationOn) bindings_.invalidate(aor, work.name);
    return;
  }
  ++work.affected;
  const auto target = RegistrantPolicy::firstUsable(v);
  if (!target) return;
  if (!s.reRegisterOn) {  // the nodes share registrations: requests simply go elsewhere
    moveTo(aor, r, *target, now);
    return;
  }
  r.state.failedNode = work.node;
  // failRegistrationOn: the registration on the failed node is invalidated, silently.
  if (s.failRegistrationOn) bindings_.invalidate(aor, work.name);
  if (v[*target].registered) {
    moveTo(aor, r, *target, now);
    return;
  }
  r.state.failedOverAt = now;
  registerOn(aor, r, *target, now);
  ++work.queued;
}

void FailoverRouter::forgetIdle() {
  // Registrants whose bindings expired and who are in no call are forgotten.
  for (auto it = forgettable_.begin(); it != forgettable_.end();) {
    auto r = registrants_.find(*it);
    if (r == registrants_.end() || bindings_.find(*it) != nullptr) {
      it = forgettable_.erase(it);
      continue;
    }
    if (dialogs_.busy(*it) != 0 || r->second.pendingNode) {
      ++it;
      continue;
    }
    setCurrent(*it, r->second, std::nullopt);
    registrants_.erase(r);
    it = forgettable_.erase(it);
  }
}

void FailoverRouter::everySecond(TimePoint now) {
  logMoves(now);
  dialogs_.expire(now);
  forgetIdle();
  // Only registrants away from the primary can fail back or need a renewal where they are: the
  // checks that fell due, at most kFailbackChecksPerSecond a second (after a failover of a
  // million whose failback falls due at once, they are worked through at that pace), a slice at
  // a time by continueFailbackChecks.
  checkSecond_ = secondOf(now);
  checksLeft_ = kFailbackChecksPerSecond;
}

bool FailoverRouter::continueFailbackChecks(TimePoint now) {
  auto due = [&] { return checksLeft_ > 0 && !checks_.empty() && checks_.front().first <= checkSecond_; };
  for (std::size_t n = 0; n < kCheckSlice && due(); ++n) {
    --checksLeft_;
    std::pop_heap(checks_.begin(), checks_.end(), std::greater<>{});
    const auto [at, aor] = std::move(checks_.back());
    checks_.pop_back();
    auto it = registrants_.find(aor);
    if (it == registrants_.end() || it->second.checkAt != at) continue;  // forgotten, or superseded
    Registrant& r = it->second;
    r.checkAt = 0;
    if (!r.state.current || *r.state.current == 0) continue;
    ++failbackChecks_;
    r.state.activeDialogs = dialogs_.busy(aor);  // either end of a call, ringing or answered
    if (ownedHere_ && !ownedHere_(aor)) {         // its owner checks it, unless it comes here
      queueCheck(aor, r, secondOf(now + kCheckAtLeastEvery));
      continue;
    }
    const auto current = r.state.current;
    FailoverSettings s = settingsFor(aor);
    const auto v = views(aor, now);
    failBackDue(aor, r, s, v, now);
    if (!r.state.current || *r.state.current == 0) continue;
    if (r.state.current != current) s = settingsFor(aor);   // the settings follow the current node's role
    queueCheck(aor, r, secondOf(nextCheck(r, s, v, now)));
  }
  if (due()) return true;
  if (checks_.empty()) checks_.shrink_to_fit();   // a failover's worth of them, given back
  return false;
}

void FailoverRouter::failBackDue(const std::string& aor, Registrant& r, const FailoverSettings& s,
                                 const std::vector<NodeView>& v, TimePoint now) {
  std::optional<std::size_t> best = RegistrantPolicy::firstUsable(v);
  if (!config_.healthGatedFailback) best = 0;  // try the primary whatever the probes say
  if (RegistrantPolicy::renewalDue(r.state, v, now) && !r.pendingNode) {
    // registration: "the primary server is retried when the current working server's
    // registration requires renewal". Otherwise Switchback renews it where it is (a
    // registration it replayed there has no phone refreshing it when the phone's refreshes go
    // elsewhere).
    if (s.failBackMode == FailBackMode::Registration && best && *best < *r.state.current) {
      if (s.reRegisterOn && !v[*best].registered) registerOn(aor, r, *best, now);
      else moveTo(aor, r, *best, now);
    } else if (s.reRegisterOn) {
      registerOn(aor, r, *r.state.current, now);
    }
    return;
  }
  if (s.failBackMode != FailBackMode::Duration && s.failBackMode != FailBackMode::DnsTtl) return;
  if (!RegistrantPolicy::timedFailbackDue(s, r.state, v, now)) return;  // not yet, or busy: nextCheck says when
  if (!best || *best >= *r.state.current) return;
  if (s.reRegisterOn && !v[*best].registered) registerOn(aor, r, *best, now);
  else moveTo(aor, r, *best, now);
}

std::optional<std::size_t> FailoverRouter::currentNode(const std::string& aor) const {
  auto it = registrants_.find(aor);
  if (it == registrants_.end()) return std::nullopt;
  return it->second.state.current;
}

void FailoverRouter::setPending(Registrant& r, std::optional<std::size_t> node) {
  if (node && !r.pendingNode) ++pending_;
  if (!node && r.pendingNode) --pending_;
  r.pendingNode = node;
}

} // namespace switchback
