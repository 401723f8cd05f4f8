#include "core/nat_keeper.h"

#include <functional>

namespace switchback {

std::size_t NatKeeper::KeyHash::operator()(const Key& k) const {
  std::size_t h = std::hash<std::uint16_t>{}(k.remote.port) ^ (static_cast<std::size_t>(k.transport) << 20) ^
                  (static_cast<std::size_t>(k.listener) << 24);
  if (k.remote.address.is_v4()) h ^= std::hash<std::uint32_t>{}(k.remote.address.to_v4().to_uint()) * 0x9E3779B97F4A7C15ull;
  else
    for (unsigned char b : k.remote.address.to_v6().to_bytes()) h = (h ^ b) * 1099511628211ull;
  return h;
}

NatKeeper::NatKeeper(const NatConfig& config, const BindingTable& bindings, SendFn send)
    : config_(config), bindings_(bindings), send_(std::move(send)) {}

TimePoint NatKeeper::firstDue(const Key& key, TimePoint now) const {
  // A phase in [0, interval) from the flow's hash: spread evenly, and the same after a restart.
  const auto interval = std::chrono::duration_cast<Millis>(config_.keepaliveInterval).count();
  const auto mixed = static_cast<std::uint64_t>(KeyHash{}(key)) * 0x9E3779B97F4A7C15ull;
  return now + Millis(static_cast<Millis::rep>((mixed >> 11) % static_cast<std::uint64_t>(interval)) + 1);
}

void NatKeeper::reconfigure(const NatConfig& config, TimePoint now) {
  const bool rephase = config.keepaliveInterval != config_.keepaliveInterval;
  config_ = config;
  if (!rephase) return;
  due_ = {};
  if (config_.keepaliveInterval.count() == 0) {
    index_.clear();
    slots_.clear();
    free_.clear();
    unreachableNow_ = 0;
    return;
  }
  for (std::uint32_t slot = 0; slot < slots_.size(); ++slot) {
    Entry& e = slots_[slot];
    if (!e.live) continue;
    e.awaiting = false;  // a new interval starts its count afresh
    due_.push(Due{firstDue(keyOf(e.flow), now), slot, ++e.generation});
  }
}

void NatKeeper::watch(const std::string& aor, const Flow& flow, TimePoint now) {
  if (config_.keepaliveInterval.count() == 0) return;
  const Key key = keyOf(flow);
  if (const auto it = index_.find(key); it != index_.end()) {
    Entry& e = slots_[it->second];
    e.flow = flow;  // a TCP phone's newest connection
    if (e.aor != aor && !contactOn(e.aor, key)) e.aor = aor;
    return;
  }
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Entry& e = slots_[slot];
  const std::uint32_t generation = e.generation + 1;
  e = Entry{flow, aor, generation, 0, false, false, true};
  index_.emplace(key, slot);
  due_.push(Due{firstDue(key, now), slot, generation});
}

void NatKeeper::heard(const Flow& flow) {
  const auto it = index_.find(keyOf(flow));
  if (it == index_.end()) return;
  Entry& e = slots_[it->second];
  e.awaiting = false;
  e.missed = 0;
  if (e.unreachable) {
    e.unreachable = false;
    --unreachableNow_;
    ++recovered_;
  }
}

void NatKeeper::tick(TimePoint now) {
  while (!due_.empty() && due_.top().at <= now) {
    const Due d = due_.top();
    due_.pop();
    if (d.slot < slots_.size() && slots_[d.slot].live && slots_[d.slot].generation == d.generation) fire(d.slot, now);
  }
}

const ContactBinding* NatKeeper::contactOn(const std::string& aor, const Key& key) const {
  const Binding* b = bindings_.find(aor);
  if (b == nullptr) return nullptr;
  for (const auto& c : b->contacts)
    if (keyOf(c.flow) == key) return &c;
  return nullptr;
}

void NatKeeper::fire(std::uint32_t slot, TimePoint now) {
  Entry& e = slots_[slot];
  const Key key = keyOf(e.flow);
  const ContactBinding* contact = contactOn(e.aor, key);
  if (contact == nullptr) return erase(slot);  // unregistered, expired or removed: nothing to keep open
  if (owned_ && !owned_(e.aor)) return erase(slot);  // another node of the cluster owns it now
  if (e.awaiting) {
    ++e.missed;
    ++missed_;
  }
  if (e.missed >= config_.maxMissed && !e.unreachable) {
    e.unreachable = true;
    ++unreachableNow_;
    ++unreachableTotal_;
    newly_.push_back(Unreachable{e.aor, e.flow});
  }
  e.awaiting = true;
  ++sent_;
  const bool options = config_.method == NatConfig::Method::Options && e.flow.transport == Transport::Udp;
  const TimePoint next = now + config_.keepaliveInterval;
  due_.push(Due{next, slot, e.generation});
  send_(e.flow, contact->uri, options);  // last: it may re-enter (a send error closing a flow)
}

void NatKeeper::erase(std::uint32_t slot) {
  Entry& e = slots_[slot];
  if (e.unreachable) --unreachableNow_;
  index_.erase(keyOf(e.flow));
  e.live = false;
  e.aor.clear();
  e.aor.shrink_to_fit();
  ++e.generation;
  free_.push_back(slot);
}

std::vector<NatKeeper::Unreachable> NatKeeper::takeNewlyUnreachable() {
  std::vector<Unreachable> out;
  out.swap(newly_);
  return out;
}

bool NatKeeper::unreachable(const Flow& flow) const {
  const auto it = index_.find(keyOf(flow));
  return it != index_.end() && slots_[it->second].unreachable;
}

} // namespace switchback
