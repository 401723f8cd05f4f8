// NAT keep-alives for the composition root: sending them on the wire, and what follows when
// a phone stops answering (a warning, and with nat.remove_unreachable its removal upstream).
#include "proxy/app.h"

#include "core/outbound.h"
#include "core/sip_builder.h"

#include <spdlog/spdlog.h>

namespace switchback {

void App::sendKeepAlive(const Flow& flow, std::string_view contact, bool options) {
  if (!options) {
    // A double CRLF: RFC 5626 §4.4.1's ping on streams (the pong is a single CRLF), the
    // nathelper convention over UDP (nothing comes back: the phone's own traffic answers).
    network_.send(flow, "\r\n\r\n");
    return;
  }
  const std::uint64_t seq = ++probeSeq_;
  const std::string target(contact);
  engine_->originate(
      flow, "OPTIONS", [&](const std::string& via) { return buildOptionsProbe(via, target, seq); },
      [](const LocalResult&) {}, Clock::now());  // the answer is noticed on arrival, whatever its status
}

void App::reportUnreachable(TimePoint now) {
  const auto lost = nat_->takeNewlyUnreachable();
  if (lost.empty()) return;
  // One line per second, not one per phone: a NAT box rebooting takes thousands at once.
  spdlog::warn("nat: {} phone flow(s) stopped answering keep-alives ({} missed intervals), marked unreachable, e.g. "
               "'{}' at {} {}{}",
               lost.size(), config_.nat.maxMissed, lost.front().aor, transportName(lost.front().flow.transport),
               lost.front().flow.remote.str(), config_.nat.removeUnreachable ? "; removing their contacts" : "");
  if (!config_.nat.removeUnreachable) return;
  for (const auto& u : lost) removeUnreachable(u, now);
}

void App::removeUnreachable(const NatKeeper::Unreachable& u, TimePoint now) {
  const Binding* b = bindings_.find(u.aor);
  if (b == nullptr) return;
  const std::string last = b->lastRegister;
  const std::uint32_t cseq = b->cseq + 1;
  std::vector<std::string> registeredOn;
  for (const auto& [name, reg] : b->nodes)
    if (reg.registered) registeredOn.push_back(name);
  const auto uris = bindings_.removeFlow(u.aor, u.flow);  // b may be gone from here on
  nat_->countRemoved(uris.size());
  if (uris.empty()) return;
  for (const auto& name : registeredOn) {
    const UpstreamNode* node = nodes_.findByName(name);
    if (node == nullptr) continue;
    const auto out = network_.flowTo(node->transport, node->endpoint);
    if (!out) continue;
    engine_->originate(
        *out, "REGISTER", [&](const std::string& via) { return buildDeregistration(last, via, cseq, uris); },
        [aor = u.aor, name](const LocalResult& r) {
          if (r.status >= 200 && r.status < 300) spdlog::info("nat: '{}' unreachable, its contacts removed on '{}'", aor, name);
          else spdlog::warn("nat: removing unreachable '{}' on '{}' failed ({}); it expires there", aor, name, r.status);
        },
        now);
  }
}

} // namespace switchback
