#include "routing/registrant_policy.h"

namespace switchback {

std::optional<std::size_t> RegistrantPolicy::firstUsable(const std::vector<NodeView>& nodes) {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].usable) return i;
  return std::nullopt;
}

bool RegistrantPolicy::renewalDue(const RegistrantState& st, const std::vector<NodeView>& nodes, TimePoint now) {
  if (!st.current || *st.current >= nodes.size()) return false;
  const NodeView& n = nodes[*st.current];
  return n.registered && n.registrationExpires && now + kRenewBefore >= *n.registrationExpires;
}

bool RegistrantPolicy::timedFailbackDue(const FailoverSettings& s, const RegistrantState& st,
                                        const std::vector<NodeView>& nodes, TimePoint now) {
  if (!st.current || *st.current >= nodes.size() || st.activeDialogs > 0) return false;
  switch (s.failBackMode) {
  case FailBackMode::Duration:
    // 0: the primary is not retried until the current node fails.
    return s.failBackTimeout > 0 && now >= st.failedOverAt + Seconds(effectiveFailBackTimeout(s.failBackTimeout));
  case FailBackMode::DnsTtl: {
    const auto ttl = nodes[*st.current].dnsTtl;
    return ttl && now >= st.failedOverAt + *ttl;
  }
  case FailBackMode::NewRequests:
  case FailBackMode::Registration:
    return false;
  }
  return false;
}

std::optional<std::size_t> RegistrantPolicy::preferredNode(const FailoverSettings& s, const RegistrantState& st,
                                                           const std::vector<NodeView>& nodes, TimePoint now) {
  const auto best = firstUsable(nodes);
  if (!best) return std::nullopt;
  // newRequests: every dialog-initiating request tries the primary first, whatever was used last.
  if (s.failBackMode == FailBackMode::NewRequests) return best;
  // Otherwise stay on the current working node while it works …
  if (!st.current || *st.current >= nodes.size() || !nodes[*st.current].usable) return best;  // failover
  if (*st.current <= *best) return st.current;
  // … and go back to a higher-priority node only when failback is due.
  return timedFailbackDue(s, st, nodes, now) ? best : std::optional<std::size_t>(st.current);
}

RegistrantPolicy::Choice RegistrantPolicy::forNewDialog(const FailoverSettings& s, const RegistrantState& st,
                                                        const std::vector<NodeView>& nodes, TimePoint now) {
  const auto node = preferredNode(s, st, nodes, now);
  if (!node) return {Action::Reject, 0};
  // reRegisterOn=0: the nodes share registration data; the request simply fails over.
  if (!s.reRegisterOn || nodes[*node].registered) return {Action::Forward, *node};
  return {Action::RegisterFirst, *node};
}

RegistrantPolicy::Choice RegistrantPolicy::forRegister(const FailoverSettings& s, const RegistrantState& st,
                                                       const std::vector<NodeView>& nodes, TimePoint now) {
  // registration: the primary is retried when the current node's registration needs renewal,
  // and a REGISTER is exactly that renewal.
  if (s.failBackMode == FailBackMode::Registration) {
    const auto best = firstUsable(nodes);
    if (!best) return {Action::Reject, 0};
    return {Action::Forward, *best};
  }
  const auto node = preferredNode(s, st, nodes, now);
  if (!node) return {Action::Reject, 0};
  return {Action::Forward, *node};
}

bool RegistrantPolicy::mayUseDialogNode(const FailoverSettings& s, const RegistrantState& st,
                                        const std::vector<NodeView>& nodes, std::size_t node) {
  if (!s.signalOnlyWithRegistered() || node >= nodes.size()) return true;
  return nodes[node].registered || st.failedNode != node;
}

} // namespace switchback
