#include "routing/failover_router.h"

#include <spdlog/spdlog.h>

// The route of a request from a phone: the chain of steps (RequestChain) each deciding, in the
// advisory's order, whether it forwards, refuses or passes; and what comes from an upstream.
namespace switchback {

namespace {

RouteDecision forward(NextHop hop) { return RouteDecision{std::move(hop), {}, std::nullopt, std::nullopt}; }
RouteDecision refuse(Rejection why, std::optional<Seconds> retryAfter = std::nullopt) {
  return RouteDecision{std::nullopt, std::move(why), retryAfter, std::nullopt};
}
const Rejection kNoNode{503, "No Upstream Available"};
constexpr Seconds kDrainRetryAfter{5};

} // namespace

RequestChain FailoverRouter::makeRequestChain() {
  // First what any proxy checks (no open relay; no new dialogs once draining). Then the
  // advisory's order: a registration goes where the failBack.mode says; signaling in
  // a call stays with the node it was set up through unless onlySignalWithRegistered ends it;
  // every other request is signaling from a registrant: failover choice, then register first.
  RequestChain chain;
  chain.add("relay check", [](RouteContext& c) { return refuseRelay(c.request); });
  chain.add("draining", [this](RouteContext& c) { return stepDraining(c); });
  chain.add("registration", [this](RouteContext& c) { return stepRegister(c); });
  chain.add("dialog node", [this](RouteContext& c) { return stepDialogNode(c); });
  chain.add("not ours", [this](RouteContext& c) { return stepNotOurs(c); });
  chain.add("require registration", [this](RouteContext& c) { return stepRequireRegistration(c); });
  chain.add("failover choice", [this](RouteContext& c) { return stepFailoverChoice(c); });
  chain.add("register first", [this](RouteContext& c) { return stepRegisterFirst(c); });
  return chain;
}

RouteDecision FailoverRouter::routeFromPhone(const RouteRequest& req, TimePoint now) {
  RouteContext c{req, std::string(req.aor), settingsFor(req.aor), views(req.aor, now), now, std::nullopt};
  return chain_.run(c);
}

std::optional<RouteDecision> FailoverRouter::stepDraining(RouteContext& c) {
  if (!draining_ || c.request.kind != RequestKind::NewDialog) return std::nullopt;
  return refuse({503, "Shutting Down"}, kDrainRetryAfter);
}

std::optional<RouteDecision> FailoverRouter::stepRegister(RouteContext& c) {
  if (c.request.kind != RequestKind::Register) return std::nullopt;
  const auto choice = RegistrantPolicy::forRegister(c.settings, stateOf(c.aor), c.views, c.now);
  if (choice.action == RegistrantPolicy::Action::Reject) return refuse(kNoNode);
  return forward(hop(choice.node));
}

std::optional<RouteDecision> FailoverRouter::stepDialogNode(RouteContext& c) {
  if (c.request.kind != RequestKind::InDialog || c.request.dialogNode.empty()) return std::nullopt;
  const auto idx = indexOf(c.request.dialogNode);
  if (!idx) return std::nullopt;
  // onlySignalWithRegistered: a call set up via the node the registrant failed over from ends
  // here, and nothing is sent to that node.
  if (!RegistrantPolicy::mayUseDialogNode(c.settings, stateOf(c.aor), c.views, *idx)) return refuse(endDialog(c.request));
  return forward(hop(*idx));
}

std::optional<RouteDecision> FailoverRouter::stepNotOurs(RouteContext& c) {
  // Requests that are not dialogs (MESSAGE, out-of-dialog NOTIFY and PUBLISH, SUBSCRIBE
  // refreshes) and in-dialog requests whose route set names no node are signaling too: from a
  // registrant of ours they follow the same rules as a new dialog (the steps below). From a
  // phone not registered through us they simply go to the preferred node.
  if (c.request.kind == RequestKind::NewDialog || bindings_.find(c.aor) != nullptr) return std::nullopt;
  RegistrantState st = stateOf(c.aor);
  st.activeDialogs = dialogs_.busy(c.aor);
  const auto node = RegistrantPolicy::preferredNode(c.settings, st, c.views, c.now);
  if (!node) return refuse(kNoNode);
  return forward(hop(*node));
}

std::optional<RouteDecision> FailoverRouter::stepRequireRegistration(RouteContext& c) {
  // A new dialog: only from phones registered through us.
  if (c.request.kind != RequestKind::NewDialog || !config_.sbc.requireRegistration) return std::nullopt;
  if (bindings_.find(c.aor) == nullptr || (requireOwn_ && ownedHere_ && !ownedHere_(c.aor)))
    return refuse({config_.sbc.rejectStatus, config_.sbc.rejectReason});
  return std::nullopt;
}

std::optional<RouteDecision> FailoverRouter::stepFailoverChoice(RouteContext& c) {
  Registrant& r = registrant(c.aor);
  r.state.activeDialogs = dialogs_.busy(c.aor);
  for (std::size_t i = 0; i < c.views.size() && !r.state.current; ++i)
    if (c.views[i].registered) setCurrent(c.aor, r, i);
  if (r.pendingNode && !c.views[*r.pendingNode].usable) setPending(r, std::nullopt);
  c.choice = RegistrantPolicy::forNewDialog(c.settings, r.state, c.views, c.now);
  switch (c.choice->action) {
  case RegistrantPolicy::Action::Reject:
    return refuse(kNoNode);
  case RegistrantPolicy::Action::Forward:
    moveTo(c.aor, r, c.choice->node, c.now);
    return forward(hop(c.choice->node));
  case RegistrantPolicy::Action::RegisterFirst:
    return std::nullopt;
  }
  return refuse(kNoNode);
}

std::optional<RouteDecision> FailoverRouter::stepRegisterFirst(RouteContext& c) {
  if (!c.choice || c.choice->action != RegistrantPolicy::Action::RegisterFirst) return std::nullopt;
  Registrant& r = registrant(c.aor);
  const std::size_t node = c.choice->node;
  registerOn(c.aor, r, node, c.now);
  // newRequests: "all dialog-initiating requests are forwarded to the primary server first,
  // regardless of the last server that was used". The request waits for the registration
  // Switchback has just started there (a replay: milliseconds), then goes there.
  if (c.settings.failBackMode == FailBackMode::NewRequests && !c.request.resumed && resume_ && reregistrar_ &&
      reregistrar_->underWay(c.aor, node))
    return RouteDecision{std::nullopt, {}, std::nullopt, kHoldForRegistration};
  // The registration failed or is not under way (a node that refused the replay waits for the
  // phone's own refresh): a node the registrant is registered on carries its calls meanwhile.
  const auto cur = r.state.current;
  if (cur && *cur != node && c.views[*cur].usable && c.views[*cur].registered) return forward(hop(*cur));
  return refuse({503, "Registering on " + nodes_.nodes()[node].name}, config_.pacing.pendingRetryAfter);
}

std::optional<NextHop> FailoverRouter::nodeAt(const Endpoint& address) const {
  if (const UpstreamNode* n = nodes_.findBySource(address)) return NextHop{n->name, n->transport, n->endpoint};
  return std::nullopt;
}

std::optional<NextHop> FailoverRouter::nodeAtHost(const boost::asio::ip::address& address) const {
  for (const auto& n : nodes_.nodes())
    if (n.endpoint.address == address) return NextHop{n.name, n.transport, n.endpoint};
  return std::nullopt;
}

std::optional<Rejection> FailoverRouter::acceptFromUpstream(std::string_view aor, std::string_view node,
                                                            const RouteRequest& request, TimePoint now) {
  if (draining_ && request.kind != RequestKind::InDialog) return Rejection{503, "Shutting Down"};
  if (bindings_.find(aor) == nullptr) return std::nullopt;
  const FailoverSettings s = settingsFor(aor);
  const auto idx = indexOf(node);
  if (!idx || RegistrantPolicy::mayUseDialogNode(s, stateOf(aor), views(aor, now), *idx)) return std::nullopt;
  if (request.kind == RequestKind::InDialog) return endDialog(request);
  return Rejection{config_.sbc.rejectStatus, config_.sbc.rejectReason};
}

Rejection FailoverRouter::endDialog(const RouteRequest& request) {
  // The advisory: "If the phone attempts to send signaling associated with an existing call via
  // an unregistered server (for example, to resume or hold a call), the call will end." The
  // sender hears 481; the phone at the other end gets a BYE over its flow, not via that server.
  for (const auto& bye : dialogs_.endByRule(request.callId, request.fromTag, request.toTag)) {
    spdlog::info("call {} ended by onlySignalWithRegistered: BYE to {} over {}", bye.callId, bye.aor, bye.flow.str());
    if (originate_) originate_(bye.flow, "BYE", [bye](const std::string& via) { return bye.request(via); });
  }
  return Rejection{config_.sbc.dialogEndStatus, config_.sbc.dialogEndReason};
}

} // namespace switchback
