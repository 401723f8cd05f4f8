#pragma once

#include "core/flow.h"
#include "core/guard_config.h"
#include "core/rate_limiter.h"
#include "core/sip_message.h"
#include "core/stats.h"

#include <optional>
#include <string_view>

namespace switchback {

/// What the proxy knows of a request when it asks the guard.
struct RequestFacts {
  bool fromUpstream = false;     // the source is a configured upstream node
  bool claimsUpstream = false;   // its top Via names a node's address, but the source is not that node
  bool isRegister = false;
  std::size_t transactions = 0;  // in flight now
};

/// The hostile-network checks on the receive path, in the order the proxy applies them:
/// bans and per-source rates before anything is read, header count and size before parsing,
/// Via depth and scanner User-Agents after, then who may send requests (networks, trusted
/// upstreams), REGISTER rates and the transaction cap. Upstream nodes are never rate limited.
/// Every refusal is counted in Stats by reason: `dropped` when nothing is sent back,
/// `rejected` (by the proxy's answer) otherwise.
class Guard {
public:
  Guard(const GuardConfig& config, Stats& stats) : config_(config), stats_(stats), limiter_(config.rate) {}

  enum class Packet { Pass, Limited, Drop };
  /// Before parsing. Limited: over the source's rate, a well-formed request gets 503.
  Packet admitPacket(std::string_view bytes, const Flow& flow, bool fromUpstream, TimePoint now);
  struct Refusal {
    bool drop = false;           // true: no answer at all
    Rejection rejection{503, "Service Unavailable"};
    std::optional<Seconds> retryAfter;
  };
  /// After parsing; nullopt lets the message through. A request over the Via limit is answered
  /// (never dropped silently on a stream); responses over it and scanners are dropped (counted).
  std::optional<Refusal> admitParsed(const SipMessage& message, bool fromUpstream);
  /// A valid new request about to be routed; nullopt lets it through.
  std::optional<Refusal> admitRequest(const Flow& flow, const RequestFacts& facts, TimePoint now);
  /// The answer to a well-formed request from a source over its rate.
  Refusal limited() const;

  /// Whether phones may reach this Request-URI host (security.domains; empty allows any).
  bool allowedDomain(std::string_view host) const;
  /// A new TCP/TLS connection from `remote`: refused while it is banned.
  bool admitConnection(const Endpoint& remote, TimePoint now);

  /// A reload: limits, access lists and rates apply to the next message; bans are kept.
  void reconfigure(const GuardConfig& config) {
    config_ = config;
    limiter_.reconfigure(config.rate);
  }

  void expire(TimePoint now) { limiter_.expireBans(now); }
  const RateLimiter& limiter() const { return limiter_; }
  const GuardConfig& config() const { return config_; }

private:
  bool drop(const char* reason);

  GuardConfig config_;
  Stats& stats_;
  RateLimiter limiter_;
};

/// Header lines and bytes of a message's head (up to the blank line, or all of it if none).
struct HeadShape {
  std::size_t lines = 0;
  std::size_t bytes = 0;
};
HeadShape headShape(std::string_view message);

} // namespace switchback
