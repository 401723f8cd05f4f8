// The hostile-network half of ProxyEngine: which requests the guard lets in, and which next
// hops a request may not take (no open relay).
#include "core/proxy_context.h"
#include "core/sip_uri.h"
#include "core/sofia.h"

#include <charconv>

namespace switchback {

ProxyEngine::Origin ProxyEngine::classify(const Flow& in, const SipMessage* msg) const {
  Origin origin;
  if ((origin.node = directory_.nodeAt(in.remote))) return origin;
  if (isReliable(in.transport)) {
    if (auto node = directory_.nodeAtHost(in.remote.address); node && (msg == nullptr || carriesOtherFlowToken(*msg, in))) {
      origin.node = std::move(node);
      return origin;
    }
  }
  if (msg == nullptr || !msg->isRequest()) return origin;
  // A request whose top Via names an upstream node must come from that node.
  const sip_via_t* v = msg->sip()->sip_via;
  if (v == nullptr) return origin;
  if (auto address = hostAddress(sv(v->v_host))) {
    std::uint16_t port = 5060;
    const auto p = sv(v->v_port);
    if (!p.empty()) std::from_chars(p.data(), p.data() + p.size(), port);
    origin.claimsUpstream = directory_.nodeAt(Endpoint{*address, port}).has_value();
  }
  return origin;
}

bool ProxyEngine::carriesOtherFlowToken(const SipMessage& msg, const Flow& in) const {
  // Our token in a Route entry that names us, or (a strict router before us) in the Request-URI.
  const sip_t* sip = msg.sip();
  if (!msg.isRequest()) return false;
  auto names = [&](const url_t* url) {
    if (!refersToUs(url)) return false;
    auto f = usableToken(sv(url->url_user));
    return f && !(f->remote == in.remote);
  };
  if (names(sip->sip_request->rq_url)) return true;
  for (const sip_route_t* r = sip->sip_route; r && refersToUs(r->r_url); r = r->r_next)
    if (names(r->r_url)) return true;
  return false;
}

bool ProxyEngine::admitted(SipMessage& msg, const Flow& in, const Origin& origin, bool limited, TimePoint now) {
  const sip_t* sip = msg.sip();
  const auto method = sip->sip_request->rq_method;
  const bool startsTransaction = method != sip_method_ack && method != sip_method_cancel;
  RequestFacts facts;
  facts.fromUpstream = origin.node.has_value();
  facts.claimsUpstream = origin.claimsUpstream;
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

bool ProxyEngine::foreignRequestUri(const SipMessage& msg) const {
  // Without access.domains any Request-URI may leave towards the chosen node (Switchback is an
  // outbound proxy); with them, only ours, Switchback's own, or an upstream node's.
  if (guard_ == nullptr) return false;
  const url_t* ruri = msg.sip()->sip_request->rq_url;
  if (guard_->allowedDomain(sv(ruri->url_host)) || refersToUs(ruri)) return false;
  auto t = uriTarget(ruri);
  return !(t && directory_.nodeAt(t->endpoint));
}

bool ProxyEngine::isRegisteredPhone(const Endpoint& target) const { return bindings_.hasPhoneAt(target); }

} // namespace switchback
