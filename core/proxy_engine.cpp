#include "core/proxy_engine.h"

#include "core/flow_token.h"
#include "core/proxy_context.h"
#include "core/sip_builder.h"
#include "core/sip_uri.h"
#include "core/sofia.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <random>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

bool isDialogCreating(const sip_t* sip) {  // a request that creates a dialog: Record-Route it
  const auto m = sip->sip_request->rq_method;
  return (m == sip_method_invite || m == sip_method_subscribe || m == sip_method_refer) &&
         (sip->sip_to == nullptr || sip->sip_to->a_tag == nullptr);
}

std::string methodKey(std::string_view method) { return std::string(method == "ACK" ? "INVITE" : method); }

std::string serverKey(const sip_t* sip, std::string_view method) {
  const sip_via_t* v = sip->sip_via;
  std::string key(sv(v->v_branch));
  key.push_back('|');
  key.append(sv(v->v_host)).push_back(':');
  key.append(sv(v->v_port)).push_back('|');
  key.append(methodKey(method));
  return key;
}

} // namespace


ProxyEngine::ProxyEngine(const ProxyConfig& config, Wire& wire, Upstreams upstreams, BindingTable& bindings,
                         Stats& stats, ClockFn clock)
    : config_(config), wire_(wire), directory_(upstreams.directory), router_(upstreams.router),
      observer_(upstreams.observer), bindings_(bindings), stats_(stats), clock_(std::move(clock)),
      branchSalt_(std::random_device{}()) {
  for (const auto& l : wire_.listeners()) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(l.host, ec);
    if (!ec) local_.emplace_back(l.transport, Endpoint{a, l.port});
  }
  if (config.advertisePort) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(config.advertiseHost, ec);
    if (!ec)
      for (const auto& l : wire_.listeners()) local_.emplace_back(l.transport, Endpoint{a, config.advertisePort});
  }
}

ProxyEngine::~ProxyEngine() = default;

void ProxyEngine::onMessage(std::string_view bytes, const Flow& flow) {
  ++stats_.messagesIn;
  const TimePoint now = clock_();
  const Guard::Packet packet =
      guard_ ? guard_->admitPacket(bytes, flow, classify(flow, nullptr).node.has_value(), now) : Guard::Packet::Pass;
  if (packet == Guard::Packet::Drop) return;
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(bytes, config_.maxMessageBytes, error);
  if (!msg) {
    ++stats_.parseErrors;
    if (error == SipMessage::ParseError::TooLarge) ++stats_.oversized;
    spdlog::debug("dropped an unparseable message from {} ({} bytes)", flow.str(), bytes.size());
    return;
  }
  const Origin origin = classify(flow, &*msg);
  if (guard_)
    if (const auto refusal = guard_->admitParsed(*msg, origin.node.has_value())) {
      if (!refusal->drop && msg->method() != "ACK") replyStateless(*msg, flow, refusal->rejection.status, refusal->rejection.reason);
      return;
    }
  const std::size_t headEnd = bytes.find("\r\n\r\n");
  const std::size_t body = headEnd == std::string_view::npos ? 0 : bytes.size() - headEnd - 4;
  if (msg->isRequest()) handleRequest(*msg, flow, origin, body, packet == Guard::Packet::Limited, now);
  else if (packet == Guard::Packet::Limited) ++stats_.dropped["rate limit"];
  else handleResponse(*msg, flow, now);
}

// ---------------------------------------------------------------------------------------
// Requests

void ProxyEngine::handleRequest(SipMessage& msg, const Flow& in, const Origin& origin, std::size_t bodyBytes,
                                bool limited, TimePoint now) {
  sip_t* sip = msg.sip();
  const std::string method(msg.method());
  // Unknown methods are counted together: a flood of invented ones must not grow the map.
  ++stats_.requestsByMethod[sip->sip_request->rq_method == sip_method_unknown ? "other" : method];
  if (sip->sip_via == nullptr || sip->sip_via->v_host == nullptr) {
    ++stats_.rejected["no Via"];
    return;  // nowhere to send a response
  }
  fixTopVia(msg, in);
  if (auto rejection = validateRequest(msg, bodyBytes)) {
    if (sip->sip_request->rq_method != sip_method_ack)
      replyStateless(msg, in, rejection->status, rejection->reason, std::nullopt, rejection->extraHeaders);
    else ++stats_.rejected[rejection->reason];
    return;
  }
  if (guard_ && !admitted(msg, in, origin, limited, now)) return;
  if (sip->sip_request->rq_method == sip_method_ack) return handleAck(msg, origin, now);
  if (sip->sip_request->rq_method == sip_method_cancel) return handleCancel(msg, in, now);

  const std::string key = serverKey(sip, method);
  for (const auto& h : held_)
    if (h.key == key) {
      ++stats_.retransmissionsAbsorbed;  // held: it goes on when the policy decides
      return;
    }
  if (auto it = serverIndex_.find(key); it != serverIndex_.end()) {
    if (Context* ctx = findContext(it->second); ctx && ctx->server) {
      ctx->server->onRequestRetransmission(now);
      ++stats_.retransmissionsAbsorbed;
      schedule(*ctx);
    }
    return;
  }
  if (const auto kept = completed_.findServer(key, now)) {   // §17.2.2: Completed resends its final
    wire_.send(kept->to, kept->response);
    ++stats_.retransmissionsAbsorbed;
    return;
  }
  // A BYE ends its dialog whatever its answer, once it has been dealt with: a BYE the
  // onlySignalWithRegistered rule refuses still finds its dialog, so the other end gets its BYE.
  struct ByeAtEnd {
    ProxyEngine* engine;
    InDialogRequest r;
    TimePoint now;
    ~ByeAtEnd() {
      if (r.bye) engine->reportInDialog(r, now);
    }
  } byeAtEnd{this, inDialogRequest(msg), now};
  if (!byeAtEnd.r.bye) reportInDialog(byeAtEnd.r, now);
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
    if (sip->sip_request->rq_method == sip_method_options && refersToUs(sip->sip_request->rq_url))
      return replyStateless(msg, in, 200, "OK");
    return replyStateless(msg, in, 483, "Too Many Hops");
  }
  const std::string hash = hex64(loopHash(msg));
  if (isLoop(msg, hash)) return replyStateless(msg, in, 482, "Loop Detected");

  // A request for Switchback itself (a phone's keep-alive OPTIONS): answer it here.
  if (sip->sip_request->rq_method == sip_method_options && sip->sip_route == nullptr &&
      refersToUs(sip->sip_request->rq_url) && sip->sip_request->rq_url->url_user == nullptr)
    return replyStateless(msg, in, 200, "OK");

  proxyRequest(msg, in, origin, key, hash, false, now);
}

void ProxyEngine::proxyRequest(SipMessage& msg, const Flow& in, const Origin& origin, const std::string& key,
                               const std::string& hash, bool resumed, TimePoint now) {
  sip_t* sip = msg.sip();
  const std::string method(msg.method());
  Routed routed;
  auto target = route(msg, origin, routed, now, resumed);
  if (!target && routed.hold && !resumed) return hold(msg, in, origin, key, hash, routed.aor, now + *routed.hold);
  if (!target) return replyStateless(msg, in, routed.why.status, routed.why.reason, routed.retryAfter);

  const std::string branch = std::string(kOurBranch) + hash + "." + hex64(branchSalt_ ^ nextId_);
  const bool isInvite = sip->sip_request->rq_method == sip_method_invite;
  std::string trying = isInvite ? buildResponse(msg, 100, "Trying") : std::string();
  if (isDialogCreating(sip)) addRecordRoute(msg, in, target->flow, target->phone ? *target->phone : in);
  if (sip->sip_request->rq_method == sip_method_register && target->phone == std::nullopt)
    addPath(msg, in, target->flow);
  decrementMaxForwards(msg);
  addVia(msg, target->flow, branch);

  auto ctx = std::make_unique<Context>();
  ctx->id = nextId_++;
  ctx->serverKey = key;
  ctx->clientKey = clientKey(branch, method);
  ctx->in = in;
  ctx->out = target->flow;
  ctx->node = target->node;
  ctx->isInvite = sip->sip_request->rq_method == sip_method_invite;
  ctx->isRegister = sip->sip_request->rq_method == sip_method_register;
  ctx->toTag = hex64(fnv1a(branch)).substr(0, 10);
  ctx->aor = target->aor;
  ctx->kind = target->kind;
  const TxKind kind = ctx->isInvite ? TxKind::Invite : TxKind::NonInvite;

  std::string bytes = msg.serialize();
  ctx->forwarded = std::move(msg);
  const std::uint64_t id = ctx->id;
  // Indexed before the first send, so a send that fails at once finds its context.
  Context& c = *ctx;
  contexts_.emplace(id, std::move(ctx));
  serverIndex_[c.serverKey] = id;
  // The send functions name their context, not copies of its flows: small enough for
  // std::function to hold without an allocation (the transactions live inside the context).
  c.server.emplace(kind, isReliable(in.transport), config_.timers, now,
                   [this, &c](std::string_view b) { wire_.send(c.in, b); });
  if (isInvite) c.server->respond(100, std::move(trying), now);
  c.client.emplace(kind, isReliable(target->flow.transport), config_.timers, now, std::move(bytes),
                   [this, &c](std::string_view b) {
                     if (!wire_.send(c.out, b)) c.clientFailed = true;
                   });
  if (c.isInvite) {
    c.timerC = now + config_.timerC;
    reportInvite(DialogEvent::Kind::Offered, c, nullptr, now);
  }
  if (c.clientFailed) {
    c.client->onTransportError();
    if (!c.node.empty()) observer_.observe(c.node, ProxyObserver::Outcome::TransportError, std::nullopt, now);
    respondFromContext(c, 503, "Service Unavailable", now);
  }
  schedule(c);
  maybeRetire(id);
}

void ProxyEngine::handleAck(SipMessage& msg, const Origin& origin, TimePoint now) {
  const sip_t* sip = msg.sip();
  if (auto it = serverIndex_.find(serverKey(sip, "ACK")); it != serverIndex_.end()) {
    if (Context* ctx = findContext(it->second); ctx && ctx->server && ctx->server->onAck(now)) {
      schedule(*ctx);
      return;  // the hop-by-hop ACK for a non-2xx final: ours to absorb
    }
  }
  // The ACK for a 2xx is a request of its own, forwarded statelessly (§16.11).
  const std::string hash = hex64(loopHash(msg));
  if (isLoop(msg, hash)) return;
  Routed routed;
  auto target = route(msg, origin, routed, now);
  if (!target) {
    ++stats_.rejected["ACK without route"];
    return;
  }
  decrementMaxForwards(msg);
  const std::string branch = std::string(kOurBranch) + hash + ".a" + hex64(fnv1a(sv(sip->sip_via->v_branch)));
  addVia(msg, target->flow, branch);
  wire_.send(target->flow, msg.serialize());
}

void ProxyEngine::handleCancel(SipMessage& msg, const Flow& in, TimePoint now) {
  auto it = serverIndex_.find(serverKey(msg.sip(), "INVITE"));
  Context* ctx = it == serverIndex_.end() ? nullptr : findContext(it->second);
  if (ctx == nullptr) return replyStateless(msg, in, 481, "Call/Transaction Does Not Exist");
  replyStateless(msg, in, 200, "OK");
  if (ctx->finalSent || ctx->cancelRequested) return;
  ctx->cancelRequested = true;
  if (ctx->provisional) sendCancel(*ctx, now);  // otherwise when the first provisional arrives (§9.1)
}

void ProxyEngine::sendCancel(Context& ctx, TimePoint now) {
  if (ctx.cancel || !ctx.forwarded || !ctx.client) return;
  ctx.cancelKey = clientKey(sv(ctx.forwarded->sip()->sip_via->v_branch), "CANCEL");
  ctx.cancel = std::make_unique<ClientTransaction>(TxKind::NonInvite, isReliable(ctx.out.transport), config_.timers, now,
                                                   buildCancel(*ctx.forwarded),
                                                   [this, out = ctx.out](std::string_view b) { wire_.send(out, b); });
  schedule(ctx);
}

// ---------------------------------------------------------------------------------------
// Requests Switchback originates itself

void ProxyEngine::originate(const Flow& out, std::string_view method,
                            const std::function<std::string(const std::string&)>& build, LocalCompletion done,
                            TimePoint now) {
  const std::string branch = std::string(kOurBranch) + "0000000000000000.l" + hex64(branchSalt_ ^ nextId_);
  auto ctx = std::make_unique<Context>();
  ctx->id = nextId_++;
  ctx->clientKey = clientKey(branch, method);
  ctx->out = out;
  ctx->local = std::move(done);
  if (auto node = directory_.nodeAt(out.remote)) ctx->node = node->node;
  const std::uint64_t id = ctx->id;
  const TxKind kind = method == "INVITE" ? TxKind::Invite : TxKind::NonInvite;
  Context& c = *ctx;
  contexts_.emplace(id, std::move(ctx));
  c.client.emplace(kind, isReliable(out.transport), config_.timers, now, build(viaValue(out, branch)),
                   [this, id, out](std::string_view b) {
                     if (!wire_.send(out, b))
                       if (Context* x = findContext(id)) x->clientFailed = true;
                   });
  if (c.clientFailed) {
    c.client->onTransportError();
    if (!c.node.empty()) observer_.observe(c.node, ProxyObserver::Outcome::TransportError, std::nullopt, now);
    finishLocal(c, 0, nullptr);
  }
  schedule(c);
  maybeRetire(id);
}

void ProxyEngine::finishLocal(Context& ctx, int status, const SipMessage* response) {
  if (ctx.finalSent || !ctx.local) return;
  ctx.finalSent = true;
  auto done = std::move(ctx.local);
  ctx.local = nullptr;
  done(LocalResult{status, response});
}

void ProxyEngine::observe(const Context& ctx, int status, const SipMessage* response, TimePoint now) {
  if (ctx.node.empty()) return;
  using Outcome = ProxyObserver::Outcome;
  if (status == 0) return observer_.observe(ctx.node, Outcome::Timeout, std::nullopt, now);
  if (status != 503) return observer_.observe(ctx.node, Outcome::Answered, std::nullopt, now);
  std::optional<Seconds> retryAfter;
  if (response && response->sip()->sip_retry_after)
    retryAfter = Seconds(static_cast<long>(response->sip()->sip_retry_after->af_delta));
  observer_.observe(ctx.node, Outcome::Unavailable, retryAfter, now);
}

// ---------------------------------------------------------------------------------------
// Our own responses and timers

void ProxyEngine::replyStateless(const SipMessage& request, const Flow& in, int status, std::string_view reason,
                                 std::optional<Seconds> retryAfter, std::string_view extraHeaders) {
  if (status >= 300) ++stats_.rejected[std::string(reason)];
  const std::string tag = hex64(fnv1a(sv(request.sip()->sip_via->v_branch))).substr(0, 10);
  std::string extra = retryAfter ? "Retry-After: " + std::to_string(retryAfter->count()) + "\r\n" : std::string();
  extra.append(extraHeaders);
  wire_.send(in, buildResponse(request, status, reason, tag, extra));
}

void ProxyEngine::respondFromContext(Context& ctx, int status, std::string_view reason, TimePoint now) {
  if (ctx.finalSent || !ctx.forwarded || !ctx.server) return;
  if (ctx.isInvite) reportInvite(DialogEvent::Kind::Failed, ctx, nullptr, now);
  ctx.finalSent = true;
  ctx.timerC.reset();
  ++stats_.rejected[std::string(reason)];
  // Build from the forwarded copy minus our own Via, which is its top one.
  SipMessage& fwd = *ctx.forwarded;
  sip_t* sip = fwd.sip();
  std::string response = buildResponse(fwd, status, reason, ctx.toTag);
  const auto lineEnd = response.find("\r\n");
  const auto viaEnd = response.find("\r\n", lineEnd + 2);
  if (sip->sip_via && lineEnd != std::string::npos && viaEnd != std::string::npos)
    response.erase(lineEnd + 2, viaEnd - lineEnd);
  ctx.server->respond(status, std::move(response), now);
  ctx.forwarded.reset();
}

void ProxyEngine::onTimer(TimePoint now) {
  if (!held_.empty()) releaseHeld(now);
  completed_.expire(now);
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const auto [when, id] = deadlines_.top();
    deadlines_.pop();
    Context* ctx = findContext(id);
    if (ctx == nullptr || ctx->scheduled != when) continue;  // stale entry
    ctx->scheduled.reset();
    if (ctx->client && ctx->clientFailed && ctx->client->state() != ClientTransaction::State::Terminated) {
      // A retransmission could not be sent (TCP connection gone): a transport error (§17.1.4).
      ctx->client->onTransportError();
      if (!ctx->node.empty()) observer_.observe(ctx->node, ProxyObserver::Outcome::TransportError, std::nullopt, now);
      if (ctx->local) finishLocal(*ctx, 0, nullptr);
      else respondFromContext(*ctx, 503, "Service Unavailable", now);
    }
    if (ctx->client && ctx->client->onTimer(now) == TimerOutcome::Timeout) {
      ++stats_.transactionTimeouts;
      spdlog::debug("transaction {} to {} timed out", ctx->clientKey, ctx->out.str());
      observe(*ctx, 0, nullptr, now);
      if (ctx->local) finishLocal(*ctx, 0, nullptr);
      else respondFromContext(*ctx, 408, "Request Timeout", now);
    }
    if (ctx->cancel) ctx->cancel->onTimer(now);
    if (ctx->server) ctx->server->onTimer(now);
    if (ctx->timerC && *ctx->timerC <= now) {
      ctx->timerC.reset();
      if (ctx->provisional) {
        ctx->cancelRequested = true;
        sendCancel(*ctx, now);
      }
      respondFromContext(*ctx, 408, "Request Timeout", now);
    }
    schedule(*ctx);
    maybeRetire(id);
  }
}

void ProxyEngine::schedule(Context& ctx) {
  std::optional<TimePoint> next;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  if (ctx.client) consider(ctx.client->nextDeadline());
  if (ctx.cancel) consider(ctx.cancel->nextDeadline());
  if (ctx.server) consider(ctx.server->nextDeadline());
  consider(ctx.timerC);
  if (next && next != ctx.scheduled) {
    ctx.scheduled = next;
    deadlines_.emplace(*next, ctx.id);
  }
}

void ProxyEngine::maybeRetire(std::uint64_t id) {
  Context* ctx = findContext(id);
  if (ctx == nullptr) return;
  auto done = [](const auto& tx) {
    return !tx || tx->state() == std::remove_reference_t<decltype(*tx)>::State::Terminated;
  };
  const bool waitsOnlyForRetransmissions =   // a non-INVITE over UDP after its final: Timers J and K
      !ctx->isInvite && !ctx->cancel && ctx->finalSent && ctx->server && ctx->client && !isReliable(ctx->in.transport) &&
      ctx->server->state() == ServerTransaction::State::Completed && ctx->server->nextDeadline() &&
      (ctx->client->state() == ClientTransaction::State::Completed ||
       ctx->client->state() == ClientTransaction::State::Terminated);
  if (waitsOnlyForRetransmissions)
    completed_.add(ctx->serverKey, ctx->clientKey, ctx->in, ctx->server->lastResponse(), *ctx->server->nextDeadline());
  else if (!done(ctx->server) || !done(ctx->client) || !done(ctx->cancel)) return;
  else if (ctx->client && !ctx->finalSent && ctx->server) return;  // still owes the phone a final
  serverIndex_.erase(ctx->serverKey);
  contexts_.erase(id);
}

std::size_t ProxyEngine::unfinishedTransactions() const {
  std::size_t n = 0;
  // Switchback's own requests (probes, re-registrations) are not waited for: nobody waits on them.
  for (const auto& [id, ctx] : contexts_) n += ctx->server && !ctx->finalSent ? 1 : 0;
  return n;
}

ProxyEngine::Context* ProxyEngine::findContext(std::uint64_t id) {
  auto it = contexts_.find(id);
  return it == contexts_.end() ? nullptr : it->second.get();
}

ProxyEngine::Context* ProxyEngine::findClient(std::string_view branch, std::string_view method) {
  // Our branches end in the transaction's id, salted: 16 hex digits after the last '.' (and an
  // 'l' for our own requests; a retry adds an 'r' after them). The id finds the context without
  // an index of its own; the whole key confirms it (a branch replaced by a retry does not).
  const auto dot = branch.rfind('.');
  if (dot == std::string_view::npos) return nullptr;
  std::string_view digits = branch.substr(dot + 1);
  if (!digits.empty() && digits.front() == 'l') digits.remove_prefix(1);
  std::uint64_t salted = 0;
  if (digits.size() < 16) return nullptr;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + 16, salted, 16);
  if (ec != std::errc() || end != digits.data() + 16) return nullptr;
  Context* ctx = findContext(salted ^ branchSalt_);
  if (ctx == nullptr) return nullptr;
  auto is = [&](std::string_view key) {
    return key.size() == branch.size() + 1 + method.size() && key.substr(0, branch.size()) == branch &&
           key[branch.size()] == '|' && key.substr(branch.size() + 1) == method;
  };
  return is(ctx->clientKey) || (!ctx->cancelKey.empty() && is(ctx->cancelKey)) ? ctx : nullptr;
}

} // namespace switchback
