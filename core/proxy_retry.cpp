// The second-chance half of ProxyEngine: a request sent to a node in the window before its
// failure was detected is sent once more, elsewhere, instead of waiting out Timer B or F (32 s);
// a request the policy cannot route yet (a registration it started is under way) is held briefly.
#include "core/proxy_context.h"
#include "core/sip_builder.h"
#include "core/sofia.h"

#include <spdlog/spdlog.h>

namespace switchback {

void ProxyEngine::retryUnanswered(std::string_view node, TimePoint now) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, ctx] : contexts_)
    if (!ctx->local && ctx->node == node && !ctx->answered && !ctx->retried && !ctx->finalSent && !ctx->cancelRequested &&
        ctx->forwarded && ctx->client && ctx->kind != RequestKind::InDialog)
      ids.push_back(id);
  std::size_t retried = 0;
  for (const auto id : ids)
    if (Context* ctx = findContext(id); ctx && retryElsewhere(*ctx, now)) ++retried;
  if (retried) spdlog::warn("{} unanswered requests to '{}' sent once more to the next usable node", retried, node);
  stats_.retriedElsewhere += retried;
}

bool ProxyEngine::retryElsewhere(Context& c, TimePoint now) {
  SipMessage& msg = *c.forwarded;
  sip_t* sip = msg.sip();
  const RouteRequest request{c.aor, msg.method(), c.kind, {}, sv(sip->sip_call_id->i_id), sv(sip->sip_from->a_tag), {}};
  const RouteDecision d = router_.routeFromPhone(request, now);
  if (!d.hop || d.hop->node == c.node) return false;
  auto flow = wire_.flowTo(d.hop->transport, d.hop->endpoint);
  // Record-Route and Path name the listener facing the old node: only the same one will do.
  if (!flow || flow->listener != c.out.listener) return false;
  // Our Via goes, a new one (a new branch: a new client transaction) comes.
  const std::string branch = std::string(sv(sip->sip_via->v_branch)) + "r";
  msg_header_remove(msg.msg(), reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t*>(sip->sip_via));
  addVia(msg, *flow, branch);
  c.clientKey = clientKey(branch, msg.method());
  spdlog::debug("{} {} unanswered by '{}': sent to '{}'", msg.method(), c.aor, c.node, d.hop->node);
  c.node = d.hop->node;
  c.out = *flow;
  c.retried = true;
  const std::uint64_t id = c.id;
  c.client.emplace(c.isInvite ? TxKind::Invite : TxKind::NonInvite, isReliable(flow->transport), config_.timers, now,
                   msg.serialize(), [this, id, out = *flow](std::string_view b) {
                     if (!wire_.send(out, b))
                       if (Context* x = findContext(id)) x->clientFailed = true;
                   });
  schedule(c);
  return true;
}

void ProxyEngine::hold(SipMessage& msg, const Flow& in, const Origin& origin, const std::string& key,
                       const std::string& hash, std::string aor, TimePoint until) {
  // The phone hears 100 Trying (an INVITE) and stops retransmitting; other requests are absorbed.
  if (msg.sip()->sip_request->rq_method == sip_method_invite) wire_.send(in, buildResponse(msg, 100, "Trying"));
  held_.push_back(Held{std::move(msg), in, origin, key, hash, std::move(aor), until});
}

void ProxyEngine::resume(const std::string& aor) {
  for (auto& h : held_)
    if (h.aor == aor) h.until = TimePoint{};
}

void ProxyEngine::releaseHeld(TimePoint now) {
  std::vector<Held> due;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->until > now) {
      ++it;
      continue;
    }
    due.push_back(std::move(*it));
    it = held_.erase(it);
  }
  for (auto& h : due) proxyRequest(h.msg, h.in, h.origin, h.key, h.hash, true, now);
}

} // namespace switchback
