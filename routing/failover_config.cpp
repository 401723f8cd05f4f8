#include "routing/failover_config.h"

namespace switchback {

std::string_view failBackModeName(FailBackMode m) {
  switch (m) {
  case FailBackMode::NewRequests: return "newRequests";
  case FailBackMode::DnsTtl: return "DNSTTL";
  case FailBackMode::Registration: return "registration";
  case FailBackMode::Duration: return "duration";
  }
  return "newRequests";
}

std::optional<FailBackMode> parseFailBackMode(std::string_view s) {
  for (auto m : {FailBackMode::NewRequests, FailBackMode::DnsTtl, FailBackMode::Registration, FailBackMode::Duration})
    if (failBackModeName(m) == s) return m;
  return std::nullopt;
}

std::uint32_t effectiveFailBackTimeout(std::uint32_t configured) {
  if (configured == 0) return 0;
  return configured < 60 ? 60 : configured;
}

bool globMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

void apply(FailoverSettings& s, const FailoverOverrides& o) {
  if (o.reRegisterOn) s.reRegisterOn = *o.reRegisterOn;
  if (o.failRegistrationOn) s.failRegistrationOn = *o.failRegistrationOn;
  if (o.onlySignalWithRegistered) s.onlySignalWithRegistered = *o.onlySignalWithRegistered;
  if (o.failBackMode) s.failBackMode = *o.failBackMode;
  if (o.failBackTimeout) s.failBackTimeout = effectiveFailBackTimeout(*o.failBackTimeout);
  if (o.queryOnRecovery) s.queryOnRecovery = *o.queryOnRecovery;
}

} // namespace

FailoverSettings resolveFailover(const FailoverConfig& config, std::string_view aor, std::string_view server,
                                 bool outboundProxy) {
  // Apply from the lowest precedence to the highest, so later layers overwrite earlier ones.
  const RegistrantGroup* group = nullptr;
  for (const auto& g : config.groups)
    if (globMatch(g.match, aor)) {
      group = &g;
      break;
    }
  FailoverSettings s;
  apply(s, config.site.server);
  if (auto it = config.servers.find(server); it != config.servers.end()) apply(s, it->second);
  if (group) apply(s, group->failover.server);
  if (outboundProxy) {
    apply(s, config.site.outboundProxy);
    if (group) apply(s, group->failover.outboundProxy);
  }
  return s;
}

} // namespace switchback
