#include "routing/reregistrar.h"

#include "core/outbound.h"
#include "core/register_outcome.h"
#include "core/sofia.h"

#include <memory>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

// The last successful REGISTER, as Switchback now sends it itself (core/outbound.h).
std::string replayRequest(const std::string& lastRegister, const std::string& via, std::uint32_t cseq, std::size_t max) {
  auto msg = replayOf(lastRegister, via, cseq, max);
  return msg ? msg->serialize() : std::string();
}

// The same request asking for `seconds`: Expires and every Contact's expires (a 423's Min-Expires).
std::string withExpires(const std::string& request, unsigned long seconds) {
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(request, 65535, error);
  if (!msg) return request;
  sip_t* sip = msg->sip();
  if (sip->sip_expires) {
    sip->sip_expires->ex_delta = seconds;
    msg_fragment_clear(sip->sip_expires->ex_common);
  }
  for (sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
    if (m->m_expires == nullptr) continue;
    msg_header_replace_param(msg->home(), m->m_common, su_sprintf(msg->home(), "expires=%lu", seconds));
    msg_fragment_clear(m->m_common);
  }
  return msg->serialize();
}

// The same request with Authorization (401) or Proxy-Authorization (407) set to `value`.
std::string withAuthorization(const std::string& request, int status, const std::string& value, std::uint32_t cseq) {
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(request, 65535, error);
  if (!msg) return {};
  sip_t* sip = msg->sip();
  auto* pub = reinterpret_cast<msg_pub_t*>(sip);
  while (sip->sip_authorization) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_authorization));
  while (sip->sip_proxy_authorization)
    msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_proxy_authorization));
  msg_header_t* h = status == 407
                        ? reinterpret_cast<msg_header_t*>(sip_proxy_authorization_make(msg->home(), value.c_str()))
                        : reinterpret_cast<msg_header_t*>(sip_authorization_make(msg->home(), value.c_str()));
  msg_header_insert(msg->msg(), pub, h);
  if (sip->sip_cseq) {
    auto* fresh = sip_cseq_create(msg->home(), cseq, sip_method_register, nullptr);
    msg_header_replace(msg->msg(), pub, reinterpret_cast<msg_header_t*>(sip->sip_cseq), reinterpret_cast<msg_header_t*>(fresh));
  }
  return msg->serialize();
}

} // namespace

Reregistrar::Reregistrar(const PacingConfig& config, const NodeTable& nodes, BindingTable& bindings,
                         ProxyEngine& engine, Wire& wire, ClockFn clock, CredentialStore credentials)
    : config_(config), nodes_(nodes), bindings_(bindings), engine_(engine), wire_(wire), clock_(std::move(clock)),
      credentials_(std::move(credentials)), rng_(std::random_device{}()) {
  for (std::size_t i = 0; i < nodes.nodes().size(); ++i) pacers_.emplace_back(config.registrationsPerSecond, rng_());
}

void Reregistrar::reconfigure(const PacingConfig& config, CredentialStore credentials) {
  config_ = config;
  credentials_ = std::move(credentials);
  for (auto& p : pacers_) p.setRate(config.registrationsPerSecond);
}

void Reregistrar::remap(const NodeTable::Remap& remap) {
  auto moved = [&](std::size_t node) { return node < remap.size() ? remap[node] : std::nullopt; };
  std::vector<std::optional<Pacer>> carried(nodes_.nodes().size());
  for (std::size_t i = 0; i < pacers_.size(); ++i)
    if (auto to = moved(i)) carried[*to] = std::move(pacers_[i]);
  pacers_.clear();
  for (auto& p : carried) pacers_.push_back(p ? std::move(*p) : Pacer(config_.registrationsPerSecond, rng_()));
  AorNodeSet queued;
  for (const auto& [aor, node] : queued_)
    if (auto to = moved(node)) queued.insert({aor, *to});
  queued_ = std::move(queued);
  decltype(retries_) retries;
  for (const auto& [at, job] : retries_)
    if (auto to = moved(job.second)) retries.emplace(at, std::make_pair(job.first, *to));
  retries_ = std::move(retries);
}

void Reregistrar::request(const std::string& aor, std::size_t node, TimePoint now) {
  if (node >= pacers_.size() || !queued_.insert({aor, node}).second) return;
  pacers_[node].push(aor, now);
}

void Reregistrar::verify(const std::string& aor, std::size_t node, TimePoint now) {
  if (node >= pacers_.size() || queued_.count({aor, node}) || !verifying_.insert({aor, node}).second) return;
  pacers_[node].push(aor, now);
}

void Reregistrar::query(const std::string& aor, std::size_t node, TimePoint now) {
  const Binding* b = bindings_.find(aor);
  const UpstreamNode& target = nodes_.nodes()[node];
  auto flow = wire_.flowTo(target.transport, target.endpoint);
  if (b == nullptr || b->lastRegister.empty() || !flow) return;
  SipMessage::ParseError error;
  auto msg = SipMessage::parse(b->lastRegister, 65535, error);
  if (!msg) return;
  auto* pub = reinterpret_cast<msg_pub_t*>(msg->sip());
  while (msg->sip()->sip_contact) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(msg->sip()->sip_contact));
  if (msg->sip()->sip_expires) msg_header_remove(msg->msg(), pub, reinterpret_cast<msg_header_t*>(msg->sip()->sip_expires));
  const std::string withContacts = b->lastRegister;
  originateRegister(*flow, msg->serialize(), b->cseq + 1, now,
                    [this, aor, name = target.name, withContacts](const LocalResult& r, const std::string&) {
                      SipMessage::ParseError e;
                      auto asked = SipMessage::parse(withContacts, 65535, e);
                      const bool holds = r.status == 200 && r.response && asked && validRegistration(*asked, *r.response);
                      // No answer: the node is down again, and its health says so; nothing to conclude.
                      // A challenge (401/407) is not "not registered": a registrar challenges any
                      // query whose nonce it no longer knows (restart, nonce lifetime), and the
                      // advisory keeps failRegistrationOn=0 registrations active.
                      if (holds || r.status == 0 || r.status >= 500 || r.status == 401 || r.status == 407) return;
                      ++lost_;
                      bindings_.invalidate(aor, name);
                      spdlog::info("'{}' no longer holds the registration of {} (query answered {}): not registered there",
                                   name, aor, r.status);
                    });
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
    for (auto& aor : pacers_[n].release(now)) {
      if (queued_.count({aor, n})) send(aor, n, now);  // cancelled ones are dropped here
      else if (verifying_.erase({aor, n})) query(aor, n, now);
    }
}

void Reregistrar::send(const std::string& aor, std::size_t node, TimePoint now) {
  const Binding* b = bindings_.find(aor);
  const UpstreamNode& target = nodes_.nodes()[node];
  auto flow = wire_.flowTo(target.transport, target.endpoint);
  if (b == nullptr || b->lastRegister.empty() || b->contacts.empty() || !flow) return finished(aor, node, Result::Failed, now);
  ++sent_;
  const Flow phoneFlow = b->contacts.front().flow;
  std::string last = b->lastRegister;
  if (auto m = minExpires_.find(aor); m != minExpires_.end()) last = withExpires(last, m->second);
  originateRegister(*flow, std::move(last), b->cseq + 1, now,
                    [this, aor, name = target.name, phoneFlow](const LocalResult& r, const std::string& bytes) {
                      const TimePoint at = clock_();
                      const UpstreamNode* n = nodes_.findByName(name);
                      if (n == nullptr) return;  // removed by a reload meanwhile
                      const std::size_t node = n->index;
                      if (r.status >= 200 && r.status < 300 && r.response &&
                          recordSuccess(aor, node, phoneFlow, bytes, *r.response, RegisteredBy::Replay, at))
                        return finished(aor, node, Result::Registered, at);
                      if ((r.status == 401 || r.status == 407) && r.response && credentials_.count(aor))
                        return sendSurrogate(aor, node, phoneFlow, bytes, *r.response, at);
                      if (r.status == 401 || r.status == 407) return finished(aor, node, Result::Challenged, at);
                      if (r.status == 423 && r.response && r.response->sip()->sip_min_expires && !minExpires_.count(aor)) {
                        // Interval Too Brief: ask again, at once, for the node's Min-Expires (RFC 3261 §10.3).
                        minExpires_[aor] = r.response->sip()->sip_min_expires->me_delta;
                        return pacers_[node].push(aor, at);
                      }
                      finished(aor, node, Result::Failed, at);
                    });
}

void Reregistrar::originateRegister(const Flow& flow, std::string request, std::uint32_t cseq, TimePoint now,
                                    std::function<void(const LocalResult&, const std::string&)> outcome) {
  // The request as sent (our Via, the new CSeq) is what the binding table keeps on success.
  auto bytes = std::make_shared<std::string>();
  engine_.originate(
      flow, "REGISTER",
      [&](const std::string& via) {
        *bytes = replayRequest(request, via, cseq, 65535);
        return *bytes;
      },
      [bytes, outcome = std::move(outcome)](const LocalResult& r) { outcome(r, *bytes); }, now);
}

bool Reregistrar::recordSuccess(const std::string& aor, std::size_t node, const Flow& phoneFlow, const std::string& bytes,
                                const SipMessage& response, RegisteredBy how, TimePoint now) {
  SipMessage::ParseError error;
  auto request = SipMessage::parse(bytes, 65535, error);
  if (!request) return false;
  if (!validRegistration(*request, response)) {  // not "a 200 OK response with valid expires": a failure
    spdlog::info("registration of {} on '{}' answered {} without a valid expiry: not registered", aor,
                 nodes_.nodes()[node].name, response.status());
    return false;
  }
  bindings_.apply(registerOutcome(*request, response, nodes_.nodes()[node].name, phoneFlow, bytes, how), now);
  return true;
}

void Reregistrar::sendSurrogate(const std::string& aor, std::size_t node, const Flow& phoneFlow, const std::string& replay,
                                const SipMessage& challenge, TimePoint now) {
  const sip_t* c = challenge.sip();
  const msg_auth_t* auth = challenge.status() == 407 ? c->sip_proxy_authenticate : c->sip_www_authenticate;
  SipMessage::ParseError error;
  auto request = SipMessage::parse(replay, 65535, error);
  const UpstreamNode& target = nodes_.nodes()[node];
  auto flow = wire_.flowTo(target.transport, target.endpoint);
  if (!request || !flow) return finished(aor, node, Result::Failed, now);
  std::uniform_int_distribution<std::uint64_t> random;
  const std::string cnonce = md5Hex(std::to_string(random(rng_))).substr(0, 16);
  auto value = digestAuthorization(auth, "REGISTER", encodeUrl(request->sip()->sip_request->rq_url), credentials_.at(aor),
                                   cnonce);
  if (!value) return finished(aor, node, Result::Challenged, now);
  const std::uint32_t cseq = request->sip()->sip_cseq->cs_seq + 1;
  ++surrogates_;
  originateRegister(*flow, withAuthorization(replay, challenge.status(), *value, cseq), cseq, now,
                    [this, aor, name = target.name, phoneFlow](const LocalResult& r, const std::string& bytes) {
                      const TimePoint at = clock_();
                      const UpstreamNode* n = nodes_.findByName(name);
                      if (n == nullptr) return;  // removed by a reload meanwhile
                      const std::size_t node = n->index;
                      if (r.status >= 200 && r.status < 300 && r.response &&
                          recordSuccess(aor, node, phoneFlow, bytes, *r.response, RegisteredBy::Surrogate, at)) {
                        spdlog::info("{} registered on '{}' with its configured credentials (surrogate)", aor,
                                     nodes_.nodes()[node].name);
                        return finished(aor, node, Result::Registered, at);
                      }
                      finished(aor, node, r.status == 401 || r.status == 407 ? Result::Challenged : Result::Failed, at);
                    });
}

bool Reregistrar::underWay(const std::string& aor, std::size_t node) const {
  if (!queued_.count({aor, node})) return false;
  for (const auto& [when, work] : retries_)
    if (work.first == aor && work.second == node) return false;
  return true;
}

void Reregistrar::finished(const std::string& aor, std::size_t node, Result result, TimePoint now) {
  if (!queued_.count({aor, node})) return;  // cancelled meanwhile
  switch (result) {
  case Result::Registered:
    ++succeeded_;
    minExpires_.erase(aor);
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
    if (done_) done_(aor, node, result, now);  // still queued, retried later; requests waiting for it go on
    return;
  }
  }
  if (done_) done_(aor, node, result, now);
}

} // namespace switchback
