#pragma once

#include "core/clock.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace switchback {

struct PacingConfig {
  double registrationsPerSecond = 100;   // per node: the cap on registrations Switchback sends itself
  Seconds backoffBase{30};               // RFC 5626 §4.5 base-time
  Seconds backoffMax{1800};              // RFC 5626 §4.5 max-time
  Seconds pendingRetryAfter{5};          // Retry-After in the 503 a pending registrant's calls get
};

/// Releases queued work at most `rate` per second: one release per slot of 1/rate seconds, at
/// a random moment inside the slot (jitter), picking a random queued item (random order). N
/// items take about N/rate seconds and never burst: slots that fall due between two polls are
/// released at the second one (so a rate above the poll frequency is kept), up to 50 ms of them.
class Pacer {
public:
  Pacer(double ratePerSecond, std::uint64_t seed);

  void push(std::string item, TimePoint now);
  /// The items whose release time has come.
  std::vector<std::string> release(TimePoint now);
  std::size_t depth() const { return queue_.size(); }
  void setRate(double ratePerSecond);

private:
  void planNext(TimePoint slotStart);

  Millis interval_;
  std::mt19937_64 rng_;
  std::vector<std::string> queue_;
  TimePoint slotStart_{};
  TimePoint releaseAt_{};
  bool idle_ = true;
};

/// RFC 5626 §4.5: W = min(max, base · 2^failures); wait a uniformly random 50–100 % of W.
Millis registrationBackoff(int consecutiveFailures, Seconds base, Seconds max, std::mt19937_64& rng);

} // namespace switchback
