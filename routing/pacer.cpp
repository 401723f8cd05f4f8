#include "routing/pacer.h"

#include <algorithm>
#include <cmath>

namespace switchback {

namespace {
Millis intervalFor(double ratePerSecond) {
  return Millis(std::max<Millis::rep>(1, static_cast<Millis::rep>(std::llround(1000.0 / std::max(ratePerSecond, 0.001)))));
}

constexpr Millis kCatchUp{50};

} // namespace

Pacer::Pacer(double ratePerSecond, std::uint64_t seed) : interval_(intervalFor(ratePerSecond)), rng_(seed) {}

void Pacer::setRate(double ratePerSecond) { interval_ = intervalFor(ratePerSecond); }

void Pacer::push(std::string item, TimePoint now) {
  queue_.push_back(std::move(item));
  if (idle_) {
    idle_ = false;
    planNext(now);
  }
}

void Pacer::planNext(TimePoint slotStart) {
  slotStart_ = slotStart;
  std::uniform_int_distribution<Millis::rep> jitter(0, interval_.count() - 1);
  releaseAt_ = slotStart_ + Millis(jitter(rng_));
}

std::vector<std::string> Pacer::release(TimePoint now) {
  std::vector<std::string> out;
  while (!queue_.empty() && now >= releaseAt_) {
    std::uniform_int_distribution<std::size_t> pick(0, queue_.size() - 1);
    const std::size_t i = pick(rng_);
    std::swap(queue_[i], queue_.back());
    out.push_back(std::move(queue_.back()));
    queue_.pop_back();
    // The next slot starts where this one ends. The caller polls on a timer (every 10 ms), so
    // slots shorter than that fall due between polls and are released together; a slot that
    // fell further behind than kCatchUp (a stall) is dropped, never made up in a burst.
    planNext(std::max(slotStart_ + interval_, now - std::max(interval_, kCatchUp)));
  }
  if (queue_.empty()) idle_ = true;
  return out;
}

Millis registrationBackoff(int consecutiveFailures, Seconds base, Seconds max, std::mt19937_64& rng) {
  const double w = std::min(static_cast<double>(max.count()),
                            static_cast<double>(base.count()) * std::pow(2.0, std::max(0, consecutiveFailures)));
  std::uniform_real_distribution<double> fraction(0.5, 1.0);
  return Millis(static_cast<Millis::rep>(w * fraction(rng) * 1000.0));
}

} // namespace switchback
