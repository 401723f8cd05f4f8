// The hostile-network half of ProxyEngine: which requests the guard lets in, and which next
// hops a request may not take (no open relay).
#include "core/proxy_context.h"
#include "core/sip_uri.h"
#include "core/sofia.h"

#include <charconv>

namespace switchback {

bool ProxyEngine::isUpstreamSource(const Flow& in) const {
  if (policy_.nodeAt(in.remote)) return true;
  // A node reaches us over a connection of its own from an ephemeral port.
  return in.transport != Transport::Udp && policy_.nodeAtHost(in.remote.address).has_value();
}

bool ProxyEngine::admitted(SipMessage& msg, const Flow& in, bool limited, TimePoint now) {
  const sip_t* sip = msg.sip();
  const auto method = sip->sip_request->rq_method;
  const bool startsTransaction = method != sip_method_ack && method != sip_method_cancel;
  RequestFacts facts;
  facts.fromUpstream = isUpstreamSource(in);
  if (!facts.fromUpstream) {
    // A request whose top Via names an upstream node must come from that node.
    const sip_via_t* v = sip->sip_via;
    if (auto address = hostAddress(sv(v->v_host))) {
      std::uint16_t port = 5060;
      const auto p = sv(v->v_port);
      if (!p.empty()) std::from_chars(p.data(), p.data() + p.size(), port);
      facts.claimsUpstream = policy_.nodeAt(Endpoint{*address, port}).has_value();
    }
  }
  facts.isRegister = method == sip_method_register;
  facts.transactions = startsTransaction ? contexts_.size() : 0;
  auto refusal = guard_->admitRequest(in, facts, now);
  if (!refusal && limited && !facts.fromUpstream) refusal = guard_->limited();
  if (!refusal) return true;
  if (refusal->drop) return false;  // counted by the guard
  if (method == sip_method_ack) {
    ++stats_.dropped[refusal->rejection.reason];
    return false;
  }
  replyStateless(msg, in, refusal->rejection.status, refusal->rejection.reason, refusal->retryAfter);
  return false;
}

bool ProxyEngine::relayDenied(const SipMessage& msg, bool inDialog, const std::optional<NextHop>& routeNode) const {
  const sip_t* sip = msg.sip();
  // Our own Route entries are gone by now: any other must name a configured upstream node.
  if (sip->sip_route && !routeNode) return true;
  if (inDialog || sip->sip_route || guard_ == nullptr) return false;
  const url_t* ruri = sip->sip_request->rq_url;
  if (guard_->allowedDomain(sv(ruri->url_host)) || refersToUs(ruri)) return false;
  auto t = uriTarget(ruri);
  return !(t && policy_.nodeAt(t->endpoint));
}

bool ProxyEngine::isRegisteredPhone(const Endpoint& target) const {
  bool found = false;
  su_home_t home[1] = {SU_HOME_INIT(home)};
  bindings_.forEach([&](const Binding& b) {
    for (const auto& c : b.contacts) {
      if (found) return;
      if (c.flow.remote == target) found = true;
      else if (url_t* u = url_make(home, c.uri.c_str())) {
        auto t = uriTarget(u);
        found = t && t->endpoint == target;
      }
    }
  });
  su_home_deinit(home);
  return found;
}

} // namespace switchback
