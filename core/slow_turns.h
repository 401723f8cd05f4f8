#pragma once

#include "core/clock.h"

#include <cstdint>
#include <map>
#include <string>

namespace switchback {

/// Turns of the event loop that held the thread longer than a threshold, by the handler that ran
/// them: the evidence for a stall (a loop that answers nothing for a second is otherwise seen only
/// from outside). A handler is timed with a Scope; the tick timer's lateness is reported as the
/// handler "loop lag" (the loop was busy with something, or the thread had no CPU).
class SlowTurns {
public:
  explicit SlowTurns(Millis threshold = Millis(20)) : threshold_(threshold) {}

  struct Handler {
    std::uint64_t slow = 0;       // turns over the threshold
    double longestMs = 0;
    double longestCpuMs = 0;      // of the longest: on the thread's CPU (less: waiting for a core or the disk)
  };

  /// Times one handler; `cpu` also reads the thread's CPU clock (a system call: not per message).
  class Scope {
  public:
    Scope(SlowTurns& turns, const char* name, bool cpu = true);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

  private:
    SlowTurns& turns_;
    const char* name_;
    TimePoint start_;
    std::int64_t cpuStartNs_ = -1;
  };

  /// A duration measured elsewhere (the tick's lateness).
  void record(const char* name, Clock::duration took, std::int64_t cpuNs = -1);
  const std::map<std::string, Handler, std::less<>>& handlers() const { return handlers_; }
  Millis threshold() const { return threshold_; }

private:
  Millis threshold_;
  std::map<std::string, Handler, std::less<>> handlers_;
  TimePoint lastWarning_{};
};

} // namespace switchback
