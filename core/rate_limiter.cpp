#include "core/rate_limiter.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

std::string keyOf(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return std::string(b.begin(), b.end());
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return keyOf(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
  const auto b = v6.to_bytes();
  return std::string(b.begin(), b.end());
}

std::string addressOfKey(const std::string& key) {
  if (key.size() == 4) {
    boost::asio::ip::address_v4::bytes_type b;
    std::copy(key.begin(), key.end(), b.begin());
    return boost::asio::ip::address_v4(b).to_string();
  }
  boost::asio::ip::address_v6::bytes_type b;
  std::copy_n(key.begin(), std::min(key.size(), b.size()), b.begin());
  return boost::asio::ip::address_v6(b).to_string();
}

} // namespace

RateLimiter::Source& RateLimiter::source(const std::string& key, TimePoint now) {
  if (sources_.size() >= config_.maxTrackedSources && !sources_.count(key)) {
    // Bounded memory under a spoofed-source flood: forget the sources idle for a second (a
    // forgotten source starts again with a full bucket, which is what it would have by now).
    // That sweep reads every source, so it runs at most once a second; in between, a new
    // source takes the place of an arbitrary one.
    if (!lastSweep_ || now - *lastSweep_ >= Seconds(1)) {
      lastSweep_ = now;
      std::erase_if(sources_, [now](const auto& kv) { return now - kv.second.seen > Seconds(1); });
    }
    if (sources_.size() >= config_.maxTrackedSources) sources_.erase(sources_.begin());
  }
  Source& s = sources_[key];
  s.seen = now;
  return s;
}

RateLimiter::Verdict RateLimiter::charge(const boost::asio::ip::address& address, Bucket Source::*which, double rate,
                                         TimePoint now) {
  if (rate <= 0 && bans_.empty()) return Verdict::Pass;  // limits off (the default): no key, no lookup
  const std::string key = keyOf(address);
  if (auto b = bans_.find(key); b != bans_.end()) {
    if (now < b->second) return Verdict::Banned;
    bans_.erase(b);
  }
  if (rate <= 0) return Verdict::Pass;
  Bucket& bucket = source(key, now).*which;
  const double burst = std::max(rate, 1.0);  // one second's worth
  if (bucket.tokens < 0) {
    bucket.tokens = burst;
    bucket.last = now;
    bucket.windowStart = now;
  }
  const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  bucket.tokens = std::min(burst, bucket.tokens + elapsed * rate);
  bucket.last = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return Verdict::Pass;
  }
  if (now - bucket.windowStart >= Seconds(1)) {
    bucket.windowStart = now;
    bucket.overInWindow = 0;
  }
  bucket.overInWindow += 1;
  if (bucket.overInWindow > burst && config_.banTime.count() > 0) {
    bans_[key] = now + config_.banTime;
    ++bansIssued_;
    bucket.overInWindow = 0;
    spdlog::warn("guard: banning {} for {} s (more than twice its limit of {}/s)", address.to_string(),
                 config_.banTime.count(), rate);
    return Verdict::Banned;
  }
  return Verdict::Limited;
}

RateLimiter::Verdict RateLimiter::onMessage(const boost::asio::ip::address& source, TimePoint now) {
  return charge(source, &Source::all, config_.requestsPerSecond, now);
}

RateLimiter::Verdict RateLimiter::onRegister(const boost::asio::ip::address& source, TimePoint now) {
  return charge(source, &Source::registers, config_.registersPerSecond, now);
}

bool RateLimiter::banned(const boost::asio::ip::address& source, TimePoint now) const {
  auto b = bans_.find(keyOf(source));
  return b != bans_.end() && now < b->second;
}

std::size_t RateLimiter::expireBans(TimePoint now) {
  const std::size_t n = std::erase_if(bans_, [now](const auto& kv) { return now >= kv.second; });
  std::erase_if(sources_, [now](const auto& kv) { return now - kv.second.seen > Seconds(60); });
  return n;
}

std::vector<RateLimiter::Ban> RateLimiter::bans(TimePoint now) const {
  std::vector<Ban> out;
  for (const auto& [key, until] : bans_)
    if (now < until) out.push_back(Ban{addressOfKey(key), until});
  std::sort(out.begin(), out.end(), [](const Ban& a, const Ban& b) { return a.source < b.source; });
  return out;
}

} // namespace switchback
