#include "core/binding_table.h"

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

void BindingTable::apply(const RegisterOutcome& outcome, TimePoint now) {
  changed(outcome.aor);
  auto it = bindings_.find(outcome.aor);
  if (it == bindings_.end()) {
    if (outcome.removeAll) return;
    const bool anyAdded = std::any_of(outcome.contacts.begin(), outcome.contacts.end(),
                                      [](const auto& c) { return c.expiresSeconds > 0; });
    if (!anyAdded) return;
    it = bindings_.emplace(outcome.aor, Binding{}).first;
    it->second.aor = outcome.aor;
  }
  Binding& b = it->second;
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
    bindings_.erase(it);
    return;
  }
  b.callId = outcome.callId;
  b.cseq = outcome.cseq;
  b.lastRegisteredBy = outcome.how;
  b.lastRegister = compactRegister(outcome.request);
  NodeRegistration& node = b.nodes[outcome.node];
  node.registered = true;
  node.updated = now;
  node.grantedContacts = outcome.grantedContacts;
  node.expires = now;  // what the node granted, which may outlast what the phone was told
  for (const auto& c : outcome.contacts) node.expires = std::max(node.expires, now + Seconds(c.expiresSeconds));
  if (observer_ && std::any_of(outcome.contacts.begin(), outcome.contacts.end(), [](const auto& c) { return c.expiresSeconds > 0; }))
    observer_(b.aor, outcome.flow, now);
}

std::vector<std::string> BindingTable::removeFlow(std::string_view aor, const Flow& flow) {
  std::vector<std::string> removed;
  auto it = bindings_.find(std::string(aor));
  if (it == bindings_.end()) return removed;
  auto& contacts = it->second.contacts;
  std::erase_if(contacts, [&](const ContactBinding& c) {
    const bool same = c.flow.transport == flow.transport && c.flow.listener == flow.listener && c.flow.remote == flow.remote;
    if (same) removed.push_back(c.uri);
    return same;
  });
  if (removed.empty()) return removed;
  changed(it->first);
  if (contacts.empty()) bindings_.erase(it);
  return removed;
}

const Binding* BindingTable::find(std::string_view aor) const {
  auto it = bindings_.find(std::string(aor));
  return it == bindings_.end() ? nullptr : &it->second;
}

void BindingTable::invalidate(std::string_view aor, std::string_view node) {
  auto it = bindings_.find(std::string(aor));
  if (it == bindings_.end()) return;
  auto n = it->second.nodes.find(node);
  if (n == it->second.nodes.end() || !n->second.registered) return;
  n->second.registered = false;
  changed(it->first);
}

void BindingTable::restore(Binding b) {
  if (b.contacts.empty()) return;
  std::string aor = b.aor;
  bindings_.insert_or_assign(std::move(aor), std::move(b));
}

std::vector<std::string> BindingTable::takeChanged() {
  std::vector<std::string> out(changed_.begin(), changed_.end());
  changed_.clear();
  return out;
}

std::size_t BindingTable::purgeExpired(TimePoint now) {
  std::size_t removed = 0;
  for (auto it = bindings_.begin(); it != bindings_.end();) {
    auto& contacts = it->second.contacts;
    const auto before = contacts.size();
    std::erase_if(contacts, [&](const ContactBinding& c) { return c.expires <= now; });
    removed += before - contacts.size();
    bool touched = contacts.size() != before;
    for (auto& [name, node] : it->second.nodes)
      if (node.registered && node.expires <= now) {
        node.registered = false;
        touched = true;
      }
    if (touched) changed(it->first);
    if (contacts.empty()) it = bindings_.erase(it);
    else ++it;
  }
  return removed;
}

std::size_t BindingTable::contactCount() const {
  std::size_t n = 0;
  for (const auto& [aor, b] : bindings_) n += b.contacts.size();
  return n;
}

} // namespace switchback
