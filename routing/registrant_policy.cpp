#include "routing/registrant_policy.h"

namespace switchback {

std::optional<std::size_t> RegistrantPolicy::firstUsable(const std::vector<NodeView>& nodes) {
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].usable) return i;
  return std::nullopt;
}

std::optional<TimePoint> RegistrantPolicy::renewalAt(const RegistrantState& st, const std::vector<NodeView>& nodes) {
  if (!st.current || *st.current >= nodes.size()) return std::nullopt;
  const NodeView& n = nodes[*st.current];
  if (!n.registered || !n.registrationExpires) return std::nullopt;
  return *n.registrationExpires - kRenewBefore;
}

bool RegistrantPolicy::renewalDue(const RegistrantState& st, const std::vector<NodeView>& nodes, TimePoint now) {
  const auto at = renewalAt(st, nodes);
  return at && now >= *at;
}

std::optional<TimePoint> RegistrantPolicy::timedFailbackAt(const FailoverSettings& s, const RegistrantState& st,
                                                           const std::vector<NodeView>& nodes) {
  if (!st.current || *st.current >= nodes.size()) return std::nullopt;
  switch (s.failBackMode) {
  case FailBackMode::Duration:
    // 0: the primary is not retried until the current node fails.
    if (s.failBackTimeout == 0) return std::nullopt;
    return st.failedOverAt + Seconds(effectiveFailBackTimeout(s.failBackTimeout));
  case FailBackMode::DnsTtl:
    if (const auto ttl = nodes[*st.current].dnsTtl) return st.failedOverAt + *ttl;
    return std::nullopt;
  case FailBackMode::NewRequests:
  case FailBackMode::Registration:
    return std::nullopt;
  }
  return std::nullopt;
}

bool RegistrantPolicy::timedFailbackDue(const FailoverSettings& s, const RegistrantState& st,
                                        const std::vector<NodeView>& nodes, TimePoint now) {
  if (st.activeDialogs > 0) return false;
  const auto at = timedFailbackAt(s, st, nodes);
  return at && now >= *at;
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
