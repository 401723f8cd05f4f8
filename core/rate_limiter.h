#pragma once

#include "core/guard_config.h"

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchback {

/// Per-source token buckets and a ban list with expiry. Pure: the time is an argument.
/// A source over its limit is "limited" (a well-formed request gets 503 with Retry-After);
/// one that keeps sending at more than twice its limit within a second is a flood: it is
/// banned for banTime, and everything it sends is dropped unread until the ban expires.
class RateLimiter {
public:
  enum class Verdict { Pass, Limited, Banned };

  explicit RateLimiter(const RateLimitConfig& config) : config_(config) {}
  /// New rates apply from the next message (buckets keep their tokens, capped by the new burst);
  /// bans in force keep their expiry.
  void reconfigure(const RateLimitConfig& config) { config_ = config; }

  /// One message from `source`; `isRegister` also charges the REGISTER bucket.
  Verdict onMessage(const boost::asio::ip::address& source, TimePoint now);
  Verdict onRegister(const boost::asio::ip::address& source, TimePoint now);

  bool banned(const boost::asio::ip::address& source, TimePoint now) const;
  /// Forgets expired bans; returns how many went.
  std::size_t expireBans(TimePoint now);

  struct Ban {
    std::string source;
    TimePoint until;
  };
  std::vector<Ban> bans(TimePoint now) const;
  std::uint64_t bansIssued() const { return bansIssued_; }
  std::size_t trackedSources() const { return sources_.size(); }

private:
  struct Bucket {
    double tokens = -1;           // < 0: not started
    TimePoint last{};
    TimePoint windowStart{};
    double overInWindow = 0;      // messages over the limit in the current second
  };
  struct Source {
    Bucket all;
    Bucket registers;
    TimePoint seen{};
  };

  Verdict charge(const boost::asio::ip::address& source, Bucket Source::*which, double rate, TimePoint now);
  Source& source(const std::string& key, TimePoint now);

  RateLimitConfig config_;
  std::unordered_map<std::string, Source> sources_;   // key: the address's bytes
  std::unordered_map<std::string, TimePoint> bans_;
  std::uint64_t bansIssued_ = 0;
  std::optional<TimePoint> lastSweep_;   // the last sweep of idle sources (at most one a second)
};

} // namespace switchback
