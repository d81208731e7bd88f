// Time: an injectable clock (tests set the time) and FHIR instant formatting/parsing.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ehr {

// Microseconds since the Unix epoch, UTC.
using Micros = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() const = 0;
  static Clock& System();  // the real clock; thread-safe
};

// A clock tests can set and advance. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros start) : now_(start) {}
  Micros Now() const override { return now_.load(); }
  void Set(Micros t) { now_.store(t); }
  void Advance(Micros d) { now_.fetch_add(d); }

 private:
  std::atomic<Micros> now_;
};

// "2026-11-22T15:54:30.123Z" (millisecond precision, as FHIR instant).
std::string FormatInstant(Micros t);
// "Sun, 22 Nov 2026 15:54:30 GMT" (RFC 7231 IMF-fixdate, for Last-Modified).
std::string FormatHttpDate(Micros t);
// Parses an RFC 7231 IMF-fixdate. nullopt when malformed.
std::optional<Micros> ParseHttpDate(std::string_view s);
// Parses a FHIR instant/dateTime with at least day precision, returning the earliest
// microsecond it denotes (used for _since). Timezone required when time is present.
std::optional<Micros> ParseInstant(std::string_view s);

}  // namespace ehr
