#include "core/slow_turns.h"

#include <spdlog/spdlog.h>
#include <time.h>

namespace switchback {

namespace {

std::int64_t threadCpuNs() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return -1;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

} // namespace

SlowTurns::Scope::Scope(SlowTurns& turns, const char* name, bool cpu)
    : turns_(turns), name_(name), start_(Clock::now()), cpuStartNs_(cpu ? threadCpuNs() : -1) {}

SlowTurns::Scope::~Scope() {
  const auto took = Clock::now() - start_;
  if (took < turns_.threshold_) return;
  turns_.record(name_, took, cpuStartNs_ >= 0 ? threadCpuNs() - cpuStartNs_ : -1);
}

void SlowTurns::record(const char* name, Clock::duration took, std::int64_t cpuNs) {
  if (took < threshold_) return;
  auto it = handlers_.find(std::string_view(name));
  if (it == handlers_.end()) it = handlers_.emplace(name, Handler{}).first;
  Handler& h = it->second;
  ++h.slow;
  const double ms = std::chrono::duration<double, std::milli>(took).count();
  const double cpuMs = cpuNs >= 0 ? cpuNs / 1e6 : -1;
  if (ms > h.longestMs) {
    h.longestMs = ms;
    h.longestCpuMs = cpuMs;
  }
  // At most one line a second: a stall is an event to the operator, not a stream.
  const TimePoint now = Clock::now();
  if (now - lastWarning_ < Seconds(1)) return;
  lastWarning_ = now;
  if (cpuMs >= 0)
    spdlog::warn("slow turn of the SIP thread: {} took {:.1f} ms ({:.1f} ms of it on the CPU)", name, ms, cpuMs);
  else
    spdlog::warn("slow turn of the SIP thread: {} took {:.1f} ms", name, ms);
}

} // namespace switchback
