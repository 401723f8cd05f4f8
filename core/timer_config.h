#pragma once

#include "core/clock.h"

namespace switchback {

/// RFC 3261 §17 timer bases. Every transaction timer derives from these three.
struct TimerConfig {
  Millis t1{500};
  Millis t2{4000};
  Millis t4{5000};
};

} // namespace switchback
