#pragma once
// Microsecond wall clock, injectable so tests can pin time.

#include <atomic>
#include <cstdint>

namespace khive {

// Microseconds since the Unix epoch.
using Micros = std::int64_t;

// Interface; implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros nowMicros() const = 0;
};

// The system clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  Micros nowMicros() const override;
  // A process-wide instance.
  static const SystemClock& instance();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start) : now_(start) {}
  Micros nowMicros() const override { return now_.load(); }
  void set(Micros t) { now_.store(t); }
  void advance(Micros d) { now_.fetch_add(d); }

 private:
  std::atomic<Micros> now_;
};

}  // namespace khive
