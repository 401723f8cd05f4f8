// The response half of ProxyEngine: what a response to a request Switchback forwarded does on its
// way back — a chain of small steps, one decision each, in the order kResponseChain lists them —
// and then the transaction layer's part (one final per transaction, our Via off, forwarded).
#include "core/outbound.h"
#include "core/proxy_context.h"
#include "core/register_outcome.h"
#include "core/sip_builder.h"
#include "core/sip_uri.h"
#include "core/sofia.h"

#include <array>
#include <charconv>
#include <cstdlib>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

std::string responseClass(int status) { return std::to_string(status / 100) + "xx"; }

} // namespace

struct ProxyEngine::ResponseContext {
  Context& ctx;
  SipMessage& msg;
  int status;
  TimePoint now;
};

// The response chain, in order. Each step acts on the response or on what it tells, or passes.
const std::array<ProxyEngine::ResponseStep, 5> ProxyEngine::kResponseChain{{
    {"health accounting", &ProxyEngine::stepHealth},
    {"provisional", &ProxyEngine::stepProvisional},
    {"registration bookkeeping", &ProxyEngine::stepRegistration},
    {"phone expiry", &ProxyEngine::stepPhoneExpiry},
    {"503 as 500", &ProxyEngine::step503},
}};

std::vector<std::string> ProxyEngine::responseSteps() {
  std::vector<std::string> names;
  for (const auto& s : kResponseChain) names.emplace_back(s.name);
  return names;
}

void ProxyEngine::stepHealth(ResponseContext& r) {
  // Passive health: how a transaction forwarded to a node ended (a 503 with its Retry-After).
  if (r.status >= 200) observe(r.ctx, r.status, &r.msg, r.now);
}

void ProxyEngine::stepProvisional(ResponseContext& r) {
  // Timer C runs from the last provisional of an INVITE; a CANCEL that waited for one goes now.
  if (r.status >= 200) return;
  r.ctx.provisional = true;
  if (r.ctx.isInvite) r.ctx.timerC = r.now + config_.timerC;
  if (r.ctx.cancelRequested) sendCancel(r.ctx, r.now);
}

void ProxyEngine::stepRegistration(ResponseContext& r) {
  if (r.ctx.isRegister && r.status >= 200 && r.status < 300) recordRegistration(r.ctx, r.msg, r.now);
}

void ProxyEngine::stepPhoneExpiry(ResponseContext& r) {
  if (!r.ctx.isRegister || r.status < 200 || r.status >= 300) return;
  capPhoneExpiry(r.msg);
  if (r.ctx.forwarded) addFlowTimer(r.msg, *r.ctx.forwarded, config_.flowTimer);
}

void ProxyEngine::step503(ResponseContext& r) {
  // RFC 3261 §16.7 step 6: a 503 says its sender cannot serve, not that Switchback cannot; passed
  // on, it would make the phone (or the node) fail over away from Switchback. It goes on as 500.
  if (r.status != 503) return;
  sip_t* sip = r.msg.sip();
  sip->sip_status->st_status = 500;
  sip->sip_status->st_phrase = "Server Internal Error";
  msg_fragment_clear(sip->sip_status->st_common);
  ++stats_.converted503;
}

void ProxyEngine::handleResponse(SipMessage& msg, const Flow& in, TimePoint now) {
  (void)in;
  if (!isRoutableResponse(msg)) {
    ++stats_.responsesDropped;
    return;
  }
  sip_t* sip = msg.sip();
  const int status = msg.status();
  if (status < 100 || status > 699) {
    ++stats_.responsesDropped;
    return;
  }
  ++stats_.responsesByClass[responseClass(status)];
  if (status >= 200) ++stats_.finalResponses[{std::string(msg.method()), responseClass(status)}];
  const auto branch = sv(sip->sip_via->v_branch);
  if (branch.substr(0, kOurBranch.size()) != kOurBranch) {
    ++stats_.responsesDropped;
    return;
  }
  Context* ctx = findClient(branch, msg.method());
  if (ctx == nullptr && completed_.hasClient(clientKey(branch, msg.method()), now)) {   // §17.1.2.2: Completed absorbs it
    ++stats_.retransmissionsAbsorbed;
    return;
  }
  if (ctx == nullptr) return forwardResponseStateless(msg);

  const bool isCancelResponse = sip->sip_cseq->cs_method == sip_method_cancel;
  if (!isCancelResponse) ctx->answered = true;
  ClientTransaction& tx = isCancelResponse ? *ctx->cancel : *ctx->client;
  const auto verdict =
      tx.onResponse(status, now, [&] { return ctx->forwarded ? buildAck(*ctx->forwarded, msg) : std::string(); });
  schedule(*ctx);
  if (verdict == ClientTransaction::Verdict::Absorb || isCancelResponse) {
    if (verdict == ClientTransaction::Verdict::Absorb) ++stats_.retransmissionsAbsorbed;
    maybeRetire(ctx->id);
    return;
  }
  ResponseContext r{*ctx, msg, status, now};
  if (ctx->local) {  // Switchback's own request (a probe, a re-registration): its owner hears the answer
    stepHealth(r);
    if (status >= 200) {
      finishLocal(*ctx, status, &msg);
      ctx->client->releaseRequest();
    }
    maybeRetire(ctx->id);
    return;
  }
  for (const auto& step : kResponseChain) (this->*step.run)(r);

  if (status == 100) return;  // hop by hop: we sent our own
  if (ctx->finalSent && !(ctx->isInvite && status < 300)) return;  // one final per transaction, except 2xx to INVITE
  msg_header_remove(msg.msg(), reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t*>(sip->sip_via));
  if (status >= 200) {
    if (ctx->isInvite && !ctx->finalSent)
      reportInvite(status < 300 ? DialogEvent::Kind::Answered : DialogEvent::Kind::Failed, *ctx, &msg, now);
    ctx->finalSent = true;
    ctx->timerC.reset();
  }
  ctx->server->respond(r.msg.status(), msg.serialize(), now);
  if (status >= 200) {  // the transactions keep the bytes they still need: the server its response
    ctx->forwarded.reset();
    ctx->client->releaseRequest();
  }
  schedule(*ctx);
  maybeRetire(ctx->id);
}

void ProxyEngine::forwardResponseStateless(SipMessage& msg) {
  // A 2xx retransmission after our transaction ended: route it by the next Via (§16.7, §18.2.2).
  sip_t* sip = msg.sip();
  msg_header_remove(msg.msg(), reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t*>(sip->sip_via));
  const sip_via_t* v = sip->sip_via;
  if (v == nullptr) {
    ++stats_.responsesDropped;
    return;
  }
  auto address = hostAddress(sv(v->v_received ? v->v_received : v->v_host));
  if (!address) {
    ++stats_.responsesDropped;
    return;
  }
  std::uint16_t port = 5060;
  const auto p = sv(v->v_rport && *v->v_rport ? v->v_rport : v->v_port);
  if (!p.empty()) std::from_chars(p.data(), p.data() + p.size(), port);
  const std::string_view protocol = sv(v->v_protocol);
  const Transport t = protocol.ends_with("TCP") ? Transport::Tcp : protocol.ends_with("TLS") ? Transport::Tls : Transport::Udp;
  auto flow = wire_.flowTo(t, Endpoint{*address, port});
  if (!flow || !wire_.send(*flow, msg.serialize())) ++stats_.responsesDropped;
}


void ProxyEngine::recordRegistration(const Context& ctx, const SipMessage& response, TimePoint now) {
  if (!validRegistration(*ctx.forwarded, response)) {
    // The phone hears the answer; nothing is taken as registered, nothing is removed.
    ++stats_.rejected["2xx to REGISTER without valid expires"];
    spdlog::info("REGISTER via {} answered {} without a valid expiry for its contacts: not taken as registered",
                 ctx.node, response.status());
    return;
  }
  RegisterOutcome o = registerOutcome(*ctx.forwarded, response, ctx.node, ctx.in, ctx.client->request());
  o.phoneExpiresCap = static_cast<std::uint32_t>(config_.maxPhoneExpires.count());
  bindings_.apply(o, now);
  if (bindings_.find(o.aor)) observer_.onRegistered(o.aor, o.node, now);
  if (spdlog::should_log(spdlog::level::debug))  // the flow's text costs a formatting per registration
    spdlog::debug("registration {} via {} on {}: {} contacts", o.aor, ctx.in.str(), o.node, o.contacts.size());
}

void ProxyEngine::capPhoneExpiry(SipMessage& response) const {
  // The phone refreshes sooner than the registrar asks, so a registration Switchback could not
  // move to another node by itself is soon moved by the phone (the phone-driven path).
  const auto cap = static_cast<unsigned long>(config_.maxPhoneExpires.count());
  if (cap == 0) return;
  sip_t* sip = response.sip();
  su_home_t* home = response.home();
  for (sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
    if (m->m_expires == nullptr || std::strtoul(m->m_expires, nullptr, 10) <= cap) continue;
    msg_header_replace_param(home, m->m_common, su_sprintf(home, "expires=%lu", cap));
    msg_fragment_clear(m->m_common);
  }
  if (sip->sip_expires && sip->sip_expires->ex_delta > cap) {
    sip->sip_expires->ex_delta = cap;
    msg_fragment_clear(sip->sip_expires->ex_common);
  }
}

} // namespace switchback
