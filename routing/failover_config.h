#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchback {

/// The advisory's failBack.mode values, by their own names.
enum class FailBackMode { NewRequests, DnsTtl, Registration, Duration };

std::string_view failBackModeName(FailBackMode m);            // "newRequests", "DNSTTL", …
std::optional<FailBackMode> parseFailBackMode(std::string_view s);

/// The effective failover parameters for one registrant and one kind of upstream, named as
/// in Table 1 of the Polycom RRoFO advisory, with its defaults.
struct FailoverSettings {
  bool reRegisterOn = false;
  bool failRegistrationOn = false;
  bool onlySignalWithRegistered = true;
  FailBackMode failBackMode = FailBackMode::NewRequests;
  std::uint32_t failBackTimeout = 3600;   // seconds; 0 = never retry the primary on a timer

  /// authOptimizedInFailover follows reRegisterOn (the advisory: enabling one enables the other).
  bool authOptimizedInFailover() const { return reRegisterOn; }
  /// onlySignalWithRegistered matters only with reRegisterOn=1 and failRegistrationOn=1.
  bool signalOnlyWithRegistered() const { return reRegisterOn && failRegistrationOn && onlySignalWithRegistered; }
};

/// One scope's settings as written: every field may be absent (then a wider scope decides).
struct FailoverOverrides {
  std::optional<bool> reRegisterOn;
  std::optional<bool> failRegistrationOn;
  std::optional<bool> onlySignalWithRegistered;
  std::optional<FailBackMode> failBackMode;
  std::optional<std::uint32_t> failBackTimeout;
};

/// A scope has settings for upstreams used as servers and for upstreams used as outbound
/// proxies (the advisory's voIpProt.server.x vs voIpProt.SIP.outboundProxy).
struct FailoverScope {
  FailoverOverrides server;
  FailoverOverrides outboundProxy;
};

/// A registrant group (the advisory's per-line `reg` scope), matched by address of record.
struct RegistrantGroup {
  std::string name;
  std::string match;      // glob on the AOR: '*' any run, '?' one character, e.g. "sip:1*@example.com"
  FailoverScope failover;
};

struct FailoverConfig {
  FailoverScope site;                     // the advisory's voIpProt: site-wide defaults
  std::vector<RegistrantGroup> groups;    // first match wins
};

/// 0 stays 0; 1–59 act as 60; 60–65535 as written (the config loader refuses the rest).
std::uint32_t effectiveFailBackTimeout(std::uint32_t configured);

bool globMatch(std::string_view pattern, std::string_view text);

/// The settings for `aor` reaching an upstream of the given kind. Precedence, highest first:
/// the matching group's outbound-proxy settings (for proxies), the group's server settings,
/// the site's outbound-proxy settings (for proxies), the site's server settings, the
/// advisory's defaults: per-group supersedes site-wide; outbound proxy supersedes server.
FailoverSettings resolveFailover(const FailoverConfig& config, std::string_view aor, bool outboundProxy);

} // namespace switchback
