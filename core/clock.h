#pragma once

#include <chrono>

namespace switchback {

// Every state machine takes the time as an argument, so tests drive it with a fake clock.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;

} // namespace switchback
