#pragma once

#include <cstdint>
#include <map>
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
  /// Not in the advisory (off by default, the advisory to the letter: failRegistrationOn=0 "will
  /// attempt failback without first attempting to register with the primary"). On: with
  /// failRegistrationOn=0, a node seen up again is asked whether it still holds registrations.
  bool queryOnRecovery = false;

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
  std::optional<bool> queryOnRecovery;
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
  /// The advisory's voIpProt.server.x: one upstream's own settings (upstreams[].failover), by name.
  std::map<std::string, FailoverOverrides, std::less<>> servers;
};

/// 0 stays 0; 1–59 act as 60; 60–65535 as written (the config loader refuses the rest).
std::uint32_t effectiveFailBackTimeout(std::uint32_t configured);

bool globMatch(std::string_view pattern, std::string_view text);

/// The settings for `aor` with the upstream `server` (its name in upstreams[]), of the given
/// kind. The advisory: "If both reg and voipProt failover parameters are set, reg parameters
/// supersede voipProt parameters. If both outboundProxy and server.x failover parameters are
/// set, outboundProxy parameters supersede server.x parameters." Precedence, highest first:
///   1. the matching group's outboundProxy block   (reg.x.outboundProxy; outbound proxies only)
///   2. the site's outboundProxy block             (voIpProt.SIP.outboundProxy; outbound proxies only)
///   3. the matching group's settings              (reg.x.server.y)
///   4. the upstream's own failover: block         (voIpProt.server.x)
///   5. the site's failover: settings              (voIpProt.server, every server)
///   6. the advisory's defaults.
/// Outbound proxy over server comes first (any outboundProxy key beats any server key); within
/// each, per-line (group) over site-wide.
FailoverSettings resolveFailover(const FailoverConfig& config, std::string_view aor, std::string_view server,
                                 bool outboundProxy);
inline FailoverSettings resolveFailover(const FailoverConfig& config, std::string_view aor, bool outboundProxy) {
  return resolveFailover(config, aor, {}, outboundProxy);
}

} // namespace switchback
