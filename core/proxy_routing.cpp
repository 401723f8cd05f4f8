// The routing half of ProxyEngine: what a request's Route set and source say about its next
// hop, and the headers a proxy adds on the way (Via, Record-Route, Path, Max-Forwards).
#include "core/flow_token.h"
#include "core/proxy_context.h"
#include "core/sip_uri.h"
#include "core/sofia.h"

#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

bool isDialogCreatingMethod(sip_method_t m) {
  return m == sip_method_invite || m == sip_method_subscribe || m == sip_method_refer;
}

msg_pub_t* pub(const SipMessage& m) { return reinterpret_cast<msg_pub_t*>(m.sip()); }
msg_header_t* hdr(void* h) { return static_cast<msg_header_t*>(h); }

// "name=value" in the message's home, for msg_header_replace_param (which keeps the pointer).
const char* joinInHome(su_home_t* home, std::string_view name, std::string_view value) {
  auto* out = static_cast<char*>(su_alloc(home, static_cast<isize_t>(name.size() + value.size() + 1)));
  std::memcpy(out, name.data(), name.size());
  std::memcpy(out + name.size(), value.data(), value.size());
  out[name.size() + value.size()] = '\0';
  return out;
}

// received=: formatted without a std::string or printf, on every request's Via.
const char* viaParam(su_home_t* home, std::string_view name, const boost::asio::ip::address& a) {
  if (!a.is_v4()) return joinInHome(home, name, a.to_string());
  const auto b = a.to_v4().to_bytes();
  std::array<char, 16> text{};  // "255.255.255.255"
  std::size_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const unsigned v = b[i];
    if (i) text[n++] = '.';
    if (v >= 100) text[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) text[n++] = static_cast<char>('0' + v / 10 % 10);
    text[n++] = static_cast<char>('0' + v % 10);
  }
  return joinInHome(home, name, std::string_view(text.data(), n));
}

std::string hostForUri(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

} // namespace

std::optional<Flow> ProxyEngine::usableToken(std::string_view user) const {
  // A token comes back from the network: it must name one of our listeners, of its transport.
  auto f = decodeFlowToken(user);
  const auto& listeners = wire_.listeners();
  if (!f || f->listener >= listeners.size() || listeners[f->listener].transport != f->transport) return std::nullopt;
  return f;
}

bool ProxyEngine::refersToUs(const url_t* url) const {
  auto t = uriTarget(url);
  if (!t) return false;
  for (const auto& [transport, ep] : local_)
    if (ep == t->endpoint) return true;
  return false;
}

void ProxyEngine::fixTopVia(SipMessage& msg, const Flow& in) const {
  // RFC 3261 §18.2.1 received, RFC 3581 rport: the top Via records where the request came from.
  sip_via_t* v = msg.sip()->sip_via;
  su_home_t* home = msg.home();
  bool changed = false;
  auto sentBy = hostAddress(sv(v->v_host));
  if (v->v_rport || !sentBy || *sentBy != in.remote.address) {
    msg_header_replace_param(home, v->v_common, viaParam(home, "received=", in.remote.address));
    changed = true;
  }
  if (v->v_rport) {
    char port[8];
    const auto end = std::to_chars(port, port + sizeof port, in.remote.port).ptr;
    msg_header_replace_param(home, v->v_common, joinInHome(home, "rport=", std::string_view(port, end - port)));
    changed = true;
  }
  if (changed) msg_fragment_clear(v->v_common);
}

bool ProxyEngine::isLoop(const SipMessage& msg, const std::string& hash) const {
  for (const sip_via_t* v = msg.sip()->sip_via; v; v = v->v_next) {
    const auto branch = sv(v->v_branch);
    if (branch.size() < kOurBranch.size() + 16 || branch.substr(0, kOurBranch.size()) != kOurBranch) continue;
    if (branch.substr(kOurBranch.size(), 16) != hash) continue;
    auto address = hostAddress(sv(v->v_host));
    const auto p = sv(v->v_port);
    const std::uint16_t port = p.empty() ? 5060 : static_cast<std::uint16_t>(std::atoi(std::string(p).c_str()));
    for (const auto& [transport, ep] : local_)
      if (address && ep.address == *address && ep.port == port) return true;
  }
  return false;
}

std::optional<ProxyEngine::Target> ProxyEngine::route(SipMessage& msg, const Origin& origin, Routed& routed,
                                                      TimePoint now, bool resumed) {
  Rejection& why = routed.why;
  sip_t* sip = msg.sip();
  std::optional<Flow> token;
  // §16.4: a strict router before us put our Record-Route URI in the Request-URI; the real
  // Request-URI is the last Route entry.
  if (refersToUs(sip->sip_request->rq_url) && sip->sip_route) {
    if (auto f = usableToken(sv(sip->sip_request->rq_url->url_user))) {
      token = f;
      sip_route_t* last = sip->sip_route;
      while (last->r_next) last = last->r_next;
      sip->sip_request->rq_url[0] = *url_hdup(msg.home(), last->r_url);
      msg_fragment_clear(sip->sip_request->rq_common);
      msg_header_remove(msg.msg(), pub(msg), hdr(last));
    }
  }
  // §16.4: pop every Route entry that names us (two when we double-record-routed).
  while (sip->sip_route && refersToUs(sip->sip_route->r_url)) {
    if (auto f = usableToken(sv(sip->sip_route->r_url->url_user))) token = f;
    msg_header_remove(msg.msg(), pub(msg), hdr(sip->sip_route));
  }

  const bool inDialog = sip->sip_to && sip->sip_to->a_tag;
  const std::string_view callId = sv(sip->sip_call_id->i_id), fromTag = sv(sip->sip_from->a_tag),
                         toTag = sv(sip->sip_to->a_tag);
  if (const auto& from = origin.node) {
    // From upstream: towards a phone, over the flow our Path or Record-Route token names.
    const url_t* to = sip->sip_to->a_url;
    const std::string aor = canonicalAor(sv(to->url_scheme), sv(to->url_user), sv(to->url_host));
    const RouteRequest request{aor,    msg.method(), inDialog ? RequestKind::InDialog : RequestKind::Other, {},
                               callId, fromTag,      toTag,                                                  false};
    if (auto rejection = router_.acceptFromUpstream(aor, from->node, request, now)) {
      why = *rejection;
      return std::nullopt;
    }
    if (token) {
      auto flow = wire_.openFlow(*token);
      if (!flow) {
        why = Rejection{430, "Flow Failed"};  // RFC 5626 §5.3
        return std::nullopt;
      }
      return Target{*flow, "", *flow, {}, RequestKind::Other};
    }
    auto t = uriTarget(sip->sip_route ? sip->sip_route->r_url : sip->sip_request->rq_url);
    if (t && !isRegisteredPhone(t->endpoint)) {  // no token: only towards a phone registered through us
      why = Rejection{403, "Relaying Denied"};
      return std::nullopt;
    }
    auto flow = t ? wire_.flowTo(t->transport, t->endpoint) : std::nullopt;
    if (!flow) {
      why = Rejection{404, "Not Found"};
      return std::nullopt;
    }
    return Target{*flow, "", *flow, {}, RequestKind::Other};
  }

  // From a phone: always towards an upstream node, as the policy decides.
  const bool isRegister = sip->sip_request->rq_method == sip_method_register;
  const url_t* aorUrl = isRegister ? sip->sip_to->a_url : sip->sip_from->a_url;
  const std::string aor = canonicalAor(sv(aorUrl->url_scheme), sv(aorUrl->url_user), sv(aorUrl->url_host));
  RouteRequest request{aor, msg.method(), RequestKind::Other, {}, callId, fromTag, toTag, resumed};
  std::optional<NextHop> routeNode;
  if (sip->sip_route)
    if (auto t = uriTarget(sip->sip_route->r_url)) routeNode = directory_.nodeAt(t->endpoint);
  if (isRegister) request.kind = RequestKind::Register;
  else if (inDialog) request.kind = RequestKind::InDialog;
  else if (isDialogCreatingMethod(sip->sip_request->rq_method)) request.kind = RequestKind::NewDialog;
  if (routeNode) request.dialogNode = routeNode->node;
  // Our own Route entries are gone by now: any other must name a configured upstream node.
  request.foreignRoute = sip->sip_route && !routeNode;
  request.foreignTarget = !inDialog && !sip->sip_route && foreignRequestUri(msg);
  RouteDecision decision = router_.routeFromPhone(request, now);
  if (!decision.hop) {
    why = decision.rejection;
    routed.retryAfter = decision.retryAfter;
    routed.hold = decision.hold;
    routed.aor = aor;
    return std::nullopt;
  }
  auto flow = wire_.flowTo(decision.hop->transport, decision.hop->endpoint);
  if (!flow) {
    why = Rejection{503, "Upstream Unreachable"};
    return std::nullopt;
  }
  return Target{*flow, decision.hop->node, std::nullopt, aor, request.kind};
}

std::string ProxyEngine::uriFor(const Flow& facing, const std::string& user, std::string_view params) const {
  const auto& l = wire_.listeners().at(facing.listener);
  std::string uri = "sip:";
  if (!user.empty()) uri.append(user).push_back('@');
  if (config_.advertisePort) uri.append(hostForUri(config_.advertiseHost)).append(":").append(std::to_string(config_.advertisePort));
  else uri.append(hostForUri(l.host)).append(":").append(std::to_string(l.port));
  if (l.transport != Transport::Udp) uri.append(";transport=").append(transportParam(l.transport));
  uri.append(params);
  return uri;
}

std::string ProxyEngine::viaValue(const Flow& out, const std::string& branch) const {
  const auto& l = wire_.listeners().at(out.listener);
  std::string via = "SIP/2.0/";
  via.append(transportName(out.transport)).append(" ").append(hostForUri(l.host)).append(":");
  via.append(std::to_string(l.port)).append(";branch=").append(branch).append(";rport");
  return via;
}

void ProxyEngine::addVia(SipMessage& msg, const Flow& out, const std::string& branch) const {
  msg_header_insert(msg.msg(), pub(msg), hdr(sip_via_make(msg.home(), viaValue(out, branch).c_str())));
}

void ProxyEngine::addRecordRoute(SipMessage& msg, const Flow& in, const Flow& out, const Flow& phone) const {
  // Two entries when the sides differ in listener (transport or address family), so each
  // side's route set names an address it can reach (RFC 5658).
  const std::string token = encodeFlowToken(phone);
  auto insert = [&](const Flow& facing) {
    const std::string rr = "<" + uriFor(facing, token, ";lr") + ">";
    msg_header_insert(msg.msg(), pub(msg), hdr(sip_record_route_make(msg.home(), rr.c_str())));
  };
  insert(in);
  if (in.listener != out.listener) insert(out);
}

void ProxyEngine::addPath(SipMessage& msg, const Flow& in, const Flow& out) const {
  // RFC 3327: the registrar routes requests for this binding back through us; the token
  // names the phone's flow (RFC 5626 §5.2), so they reach it behind NAT or on its connection.
  const std::string path = "<" + uriFor(out, encodeFlowToken(in), ";lr;ob") + ">";
  msg_header_insert(msg.msg(), pub(msg), hdr(sip_path_make(msg.home(), path.c_str())));
}

void ProxyEngine::decrementMaxForwards(SipMessage& msg) const {
  sip_t* sip = msg.sip();
  if (sip->sip_max_forwards == nullptr) {
    msg_header_insert(msg.msg(), pub(msg), hdr(sip_max_forwards_make(msg.home(), "70")));
    return;
  }
  --sip->sip_max_forwards->mf_count;
  msg_fragment_clear(sip->sip_max_forwards->mf_common);
}

} // namespace switchback

