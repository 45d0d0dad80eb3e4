#include "khive/core/clock.h"

#include <chrono>

namespace khive {

Micros SystemClock::nowMicros() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace khive
