#include "routing/reregistrar.h"

#include "core/register_outcome.h"
#include "core/sofia.h"

#include <memory>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

// The last successful REGISTER, as Switchback now sends it itself: our Via alone, the next
// CSeq, a fresh Max-Forwards; Call-ID, Contact, Path and Authorization as they were.
std::string replayRequest(const std::string& lastRegister, const std::string& via, std::uint32_t cseq, std::size_t max) {
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(lastRegister, max, error);
  if (!msg) return {};
  sip_t* sip = msg->sip();
  auto* pub = reinterpret_cast<msg_pub_t*>(sip);
  while (sip->sip_via) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_via));
  msg_header_insert(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip_via_make(msg->home(), via.c_str())));
  if (sip->sip_cseq) {
    auto* fresh = sip_cseq_create(msg->home(), cseq, sip_method_register, nullptr);
    msg_header_replace(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_cseq), reinterpret_cast<msg_header_t*>(fresh));
  }
  if (sip->sip_max_forwards) {
    sip->sip_max_forwards->mf_count = 70;
    msg_fragment_clear(sip->sip_max_forwards->mf_common);
  }
  return msg->serialize();
}

} // namespace

Reregistrar::Reregistrar(const PacingConfig& config, const NodeTable& nodes, BindingTable& bindings,
                         ProxyEngine& engine, Wire& wire)
    : config_(config), nodes_(nodes), bindings_(bindings), engine_(engine), wire_(wire),
      rng_(std::random_device{}()) {
  for (std::size_t i = 0; i < nodes.nodes().size(); ++i) pacers_.emplace_back(config.registrationsPerSecond, rng_());
}

void Reregistrar::request(const std::string& aor, std::size_t node, TimePoint now) {
  if (node >= pacers_.size() || !queued_.insert({aor, node}).second) return;
  pacers_[node].push(aor, now);
}

void Reregistrar::cancel(const std::string& aor) {
  for (std::size_t n = 0; n < pacers_.size(); ++n) queued_.erase({aor, n});
  failures_.erase(aor);
}

std::size_t Reregistrar::queued() const {
  std::size_t n = retries_.size();
  for (const auto& p : pacers_) n += p.depth();
  return n;
}

void Reregistrar::tick(TimePoint now) {
  while (!retries_.empty() && retries_.begin()->first <= now) {
    auto [aor, node] = retries_.begin()->second;
    retries_.erase(retries_.begin());
    if (queued_.count({aor, node})) pacers_[node].push(aor, now);
  }
  for (std::size_t n = 0; n < pacers_.size(); ++n)
    for (auto& aor : pacers_[n].release(now))
      if (queued_.count({aor, n})) send(aor, n, now);  // cancelled ones are dropped here
}

void Reregistrar::send(const std::string& aor, std::size_t node, TimePoint now) {
  const Binding* b = bindings_.find(aor);
  const UpstreamNode& target = nodes_.nodes()[node];
  auto flow = wire_.flowTo(target.transport, target.endpoint);
  if (b == nullptr || b->lastRegister.empty() || b->contacts.empty() || !flow) return finished(aor, node, Result::Failed, now);
  ++sent_;
  const Flow phoneFlow = b->contacts.front().flow;
  auto bytes = std::make_shared<std::string>();
  const std::string last = b->lastRegister;
  const std::uint32_t cseq = b->cseq + 1;
  engine_.originate(
      *flow, "REGISTER",
      [&](const std::string& via) {
        *bytes = replayRequest(last, via, cseq, 65535);
        return *bytes;
      },
      [this, aor, node, phoneFlow, bytes](const LocalResult& r) {
        const TimePoint at = Clock::now();
        if (r.status >= 200 && r.status < 300 && r.response) {
          SipMessage::ParseError error;
          auto request = SipMessage::parse(*bytes, 65535, error);
          if (request) {
            bindings_.apply(registerOutcome(*request, *r.response, nodes_.nodes()[node].name, phoneFlow, *bytes,
                                            RegisteredBy::Replay),
                            at);
            return finished(aor, node, Result::Registered, at);
          }
        }
        if (r.status == 401 || r.status == 407) return finished(aor, node, Result::Challenged, at);
        finished(aor, node, Result::Failed, at);
      },
      now);
}

void Reregistrar::finished(const std::string& aor, std::size_t node, Result result, TimePoint now) {
  if (!queued_.count({aor, node})) return;  // cancelled meanwhile
  switch (result) {
  case Result::Registered:
    ++succeeded_;
    queued_.erase({aor, node});
    failures_.erase(aor);
    spdlog::debug("{} registered on '{}' by replay", aor, nodes_.nodes()[node].name);
    break;
  case Result::Challenged:
    ++challenged_;
    queued_.erase({aor, node});
    failures_.erase(aor);
    spdlog::info("{}: '{}' refused the replayed credentials; waiting for the phone's own refresh", aor,
                 nodes_.nodes()[node].name);
    break;
  case Result::Failed: {
    ++failed_;
    const int f = failures_[aor]++;
    const Millis wait = registrationBackoff(f, config_.backoffBase, config_.backoffMax, rng_);
    spdlog::debug("{}: registration on '{}' failed; retrying in {} ms", aor, nodes_.nodes()[node].name, wait.count());
    retries_.emplace(now + wait, std::make_pair(aor, node));
    return;  // still queued: no verdict yet
  }
  }
  if (done_) done_(aor, node, result);
}

} // namespace switchback
