#include "core/binding_table.h"

#include "core/sip_uri.h"
#include "core/sofia.h"

#include <algorithm>

namespace switchback {

std::string_view registeredByName(RegisteredBy how) {
  switch (how) {
  case RegisteredBy::Phone: return "phone";
  case RegisteredBy::Replay: return "replay";
  case RegisteredBy::Surrogate: return "surrogate";
  }
  return "phone";
}

namespace {

bool startsWithName(std::string_view line, std::string_view name) {
  if (line.size() <= name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = line[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != name[i]) return false;
  }
  const std::string_view rest = line.substr(name.size());
  const auto colon = rest.find_first_not_of(" \t");
  return colon != std::string_view::npos && rest[colon] == ':';
}

// Headers a replay replaces (Via) or that say nothing to a registrar about the binding.
bool droppedForReplay(std::string_view line) {
  static constexpr std::string_view kDropped[] = {"via", "v", "user-agent", "allow", "accept", "accept-encoding",
                                                  "accept-language", "date", "server", "organization", "allow-events"};
  for (auto name : kDropped)
    if (startsWithName(line, name)) return true;
  return false;
}

} // namespace

std::string compactRegister(std::string_view request) {
  const std::size_t headEnd = request.find("\r\n\r\n");
  if (headEnd == std::string_view::npos) return std::string(request);
  std::string out;
  out.reserve(request.size());
  std::size_t pos = 0;
  bool dropping = false;
  while (pos < headEnd + 2) {
    const std::size_t end = request.find("\r\n", pos);
    const std::string_view line = request.substr(pos, end - pos);
    const bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');  // folded onto the line before
    if (!continuation) dropping = pos != 0 && droppedForReplay(line);
    if (!dropping) out.append(request.substr(pos, end + 2 - pos));
    pos = end + 2;
  }
  out.append(request.substr(headEnd + 2));  // the empty line, and a body if there were one
  out.shrink_to_fit();
  return out;
}

std::string_view Binding::authorization() const {
  const std::string_view r(lastRegister);
  std::size_t pos = r.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < r.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = r.find("\r\n", start);
    if (end == std::string_view::npos || end == start) break;
    const std::string_view line = r.substr(start, end - start);
    if (startsWithName(line, "authorization")) {
      std::string_view value = line.substr(line.find(':') + 1);
      value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
      return value;
    }
    pos = end;
  }
  return {};
}

std::string canonicalAor(std::string_view scheme, std::string_view user, std::string_view host) {
  std::string aor(scheme.empty() ? "sip" : scheme);
  aor.push_back(':');
  if (!user.empty()) {
    aor.append(user);
    aor.push_back('@');
  }
  for (char c : host) aor.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  return aor;
}

namespace {

// The address a contact URI with an IP-literal host names (parsed in place, without allocating).
std::optional<Endpoint> contactTarget(const std::string& uri) {
  char buf[512];
  if (uri.size() >= sizeof buf) return std::nullopt;
  uri.copy(buf, uri.size());
  buf[uri.size()] = '\0';
  url_t url{};
  if (url_d(&url, buf) < 0) return std::nullopt;
  const auto t = uriTarget(&url);
  if (!t) return std::nullopt;
  return t->endpoint;
}

bool contactAt(const ContactBinding& c, const Endpoint& address) {
  if (c.flow.remote == address) return true;
  const auto t = contactTarget(c.uri);
  return t && *t == address;
}

TimePoint firstDue(const Binding& b) {
  TimePoint due = TimePoint::max();
  for (const auto& c : b.contacts) due = std::min(due, c.expires);
  for (const auto& [name, n] : b.nodes)
    if (n.registered) due = std::min(due, n.expires);
  return due;
}

template <typename N> void add(N& n, int sign) { n = sign > 0 ? n + 1 : n - 1; }

} // namespace

std::string BindingTable::aorAt(const Endpoint& address, const std::string& preferred) const {
  if (const Binding* b = find(preferred))
    for (const auto& c : b->contacts)
      if (contactAt(c, address)) return preferred;
  auto p = phones_.find(address);
  return p == phones_.end() || p->second.aor.empty() ? preferred : p->second.aor;
}

void BindingTable::count(Binding& b, int sign) {
  for (const auto& c : b.contacts) {
    add(contacts_, sign);
    auto countPhone = [&](const Endpoint& at) {
      if (sign > 0) {
        PhoneAt& p = phones_[at];
        ++p.contacts;
        if (p.aor != b.aor) p.aor = b.aor;  // a refresh (the same registrant) copies nothing
      } else if (auto p = phones_.find(at); p != phones_.end() && --p->second.contacts == 0) {
        phones_.erase(p);
      }
    };
    countPhone(c.flow.remote);
    if (const auto t = contactTarget(c.uri); t && !(*t == c.flow.remote)) countPhone(*t);
  }
  for (const auto& [name, n] : b.nodes) {
    auto it = nodeCounts_.find(name);
    if (it == nodeCounts_.end()) it = nodeCounts_.emplace(name, NodeCount{}).first;
    add(n.registered ? it->second.registered : it->second.unregistered, sign);
  }
  if (sign > 0) {
    b.due = firstDue(b);
    due_.update(&b);
  }
}

std::vector<std::string_view> NodeRegistration::granted() const {
  std::vector<std::string_view> out;
  for (std::string_view rest = grantedContacts; !rest.empty();) {
    const auto end = rest.find('\n');
    out.push_back(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return out;
}

void NodeRegistration::setGranted(const std::vector<std::string>& contacts) {
  grantedContacts.clear();
  for (const auto& c : contacts) grantedContacts.append(grantedContacts.empty() ? "" : "\n").append(c);
  grantedContacts.shrink_to_fit();
}

void BindingTable::forget(Map::iterator it) {
  due_.remove(&it->second);
  const std::string aor = it->second.aor;
  bindings_.erase(it);
  if (removedObserver_) removedObserver_(aor);
}

void BindingTable::apply(const RegisterOutcome& outcome, TimePoint now) {
  changed(outcome.aor);
  auto it = bindings_.find(outcome.aor);
  if (it == bindings_.end()) {
    if (outcome.removeAll) return;
    const bool anyAdded = std::any_of(outcome.contacts.begin(), outcome.contacts.end(),
                                      [](const auto& c) { return c.expiresSeconds > 0; });
    if (!anyAdded) return;
    it = bindings_.try_emplace(AorKey{outcome.aor}).first;
    it->second.aor = outcome.aor;
    it->first.aor = it->second.aor;
  }
  Binding& b = it->second;
  count(b, -1);
  if (outcome.removeAll) b.contacts.clear();
  for (const auto& c : outcome.contacts) {
    auto existing = std::find_if(b.contacts.begin(), b.contacts.end(), [&](const ContactBinding& cb) {
      return cb.uri == c.uri || (!c.instance.empty() && cb.instance == c.instance && cb.regId == c.regId);
    });
    if (c.expiresSeconds == 0) {
      if (existing != b.contacts.end()) b.contacts.erase(existing);
      continue;
    }
    const std::uint32_t phoneExpires =
        outcome.phoneExpiresCap ? std::min(c.expiresSeconds, outcome.phoneExpiresCap) : c.expiresSeconds;
    ContactBinding updated{c.uri, now + Seconds(phoneExpires), c.instance, c.regId, outcome.flow};
    // A registration Switchback made on the phone's behalf told the phone nothing: its own
    // expiry, and with it the time of its next refresh, stays as it was.
    if (existing != b.contacts.end() && outcome.how != RegisteredBy::Phone) updated.expires = existing->expires;
    if (existing != b.contacts.end()) *existing = std::move(updated);
    else b.contacts.push_back(std::move(updated));
  }
  if (b.contacts.empty()) {
    forget(it);
    return;
  }
  b.callId = outcome.callId;
  b.cseq = outcome.cseq;
  b.lastRegisteredBy = outcome.how;
  b.lastRegister = compactRegister(outcome.request);
  NodeRegistration& node = b.nodes[outcome.node];
  node.registered = true;
  node.updated = now;
  node.setGranted(outcome.grantedContacts);
  node.expires = now;  // what the node granted, which may outlast what the phone was told
  for (const auto& c : outcome.contacts) node.expires = std::max(node.expires, now + Seconds(c.expiresSeconds));
  count(b, +1);
  if (observer_ && std::any_of(outcome.contacts.begin(), outcome.contacts.end(), [](const auto& c) { return c.expiresSeconds > 0; }))
    observer_(b.aor, outcome.flow, now);
}

std::vector<std::string> BindingTable::removeFlow(std::string_view aor, const Flow& flow) {
  std::vector<std::string> removed;
  auto it = bindings_.find(aor);
  if (it == bindings_.end()) return removed;
  Binding& b = it->second;
  count(b, -1);
  std::erase_if(b.contacts, [&](const ContactBinding& c) {
    const bool same = c.flow.transport == flow.transport && c.flow.listener == flow.listener && c.flow.remote == flow.remote;
    if (same) removed.push_back(c.uri);
    return same;
  });
  if (!removed.empty()) changed(it->second.aor);
  if (b.contacts.empty()) forget(it);
  else count(b, +1);
  return removed;
}

const Binding* BindingTable::find(std::string_view aor) const {
  auto it = bindings_.find(aor);
  return it == bindings_.end() ? nullptr : &it->second;
}

void BindingTable::invalidate(std::string_view aor, std::string_view node) {
  auto it = bindings_.find(aor);
  if (it == bindings_.end()) return;
  auto n = it->second.nodes.find(node);
  if (n == it->second.nodes.end() || !n->second.registered) return;
  count(it->second, -1);
  n->second.registered = false;
  count(it->second, +1);
  changed(it->second.aor);
}

void BindingTable::restore(Binding b) {
  if (b.contacts.empty()) return;
  b.heapSlot = DueHeap<Binding>::kNoSlot;
  auto it = bindings_.find(b.aor);
  if (it != bindings_.end()) {
    count(it->second, -1);
    due_.remove(&it->second);
    it->second = std::move(b);
  } else {
    const std::string aor = b.aor;
    it = bindings_.try_emplace(AorKey{aor}, std::move(b)).first;
  }
  it->first.aor = it->second.aor;
  count(it->second, +1);
}

bool BindingTable::erase(std::string_view aor) {
  auto it = bindings_.find(aor);
  if (it == bindings_.end()) return false;
  count(it->second, -1);   // the counters, the address index and the expiry heap let go of it too
  forget(it);
  return true;
}

std::vector<std::string> BindingTable::takeChanged(std::size_t max) {
  std::vector<std::string> out;
  out.reserve(std::min(max, changed_.size()));
  for (auto it = changed_.begin(); it != changed_.end() && out.size() < max;) {
    const auto taken = it++;
    out.push_back(std::move(changed_.extract(taken).value()));
  }
  return out;
}

std::size_t BindingTable::purgeExpired(TimePoint now) {
  std::size_t removed = 0;
  while (!due_.empty() && due_.top()->due <= now) {
    Binding& b = *due_.top();
    count(b, -1);
    const auto before = b.contacts.size();
    std::erase_if(b.contacts, [&](const ContactBinding& c) { return c.expires <= now; });
    removed += before - b.contacts.size();
    for (auto& [name, node] : b.nodes)
      if (node.registered && node.expires <= now) node.registered = false;
    changed(b.aor);
    if (b.contacts.empty()) forget(bindings_.find(b.aor));
    else count(b, +1);  // due again later than now: every contact and registration left outlasts it
  }
  return removed;
}

} // namespace switchback
