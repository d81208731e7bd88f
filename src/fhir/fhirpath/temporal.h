// Date, DateTime and Time values of FHIRPath (and of FHIR date, dateTime, instant, time),
// with partial precision.
//
// A value keeps the precision it was written with: @2012 is a Date of year precision,
// @2012-04-15T10 a DateTime of hour precision. Comparing values of different precision
// is decided where the common fields differ and is otherwise undecidable (empty in
// FHIRPath), which is why Compare returns an optional. Values with a time-zone offset are
// compared on the UTC time line. When only one of two DateTimes with a time of day has an
// offset, their order is unknown (empty), as the R4 suite expects; with date precision
// only, a value without offset is taken as UTC (the server's time zone by contract).
// Plain value type, no allocation, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/decimal.h"

namespace ehr::fhirpath {

enum class TemporalKind : uint8_t { kDate, kDateTime, kTime };

// Ordered from coarsest to finest.
enum class TemporalPrecision : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond };

struct Temporal {
  TemporalKind kind = TemporalKind::kDateTime;
  TemporalPrecision precision = TemporalPrecision::kYear;  // kHour at least for a Time
  int32_t year = 0;    // 1..9999 (0 for a Time)
  uint8_t month = 1;   // fields beyond `precision` are at their minimum
  uint8_t day = 1;
  uint8_t hour = 0;
  uint8_t minute = 0;
  uint8_t second = 0;
  uint16_t millisecond = 0;
  bool has_offset = false;     // DateTime only: 'Z' or ±hh:mm was given
  int16_t offset_minutes = 0;  // east of UTC

  // FHIRPath literal text without the '@': "2012", "2012-04-15", "2012-04-15T",
  // "2012-04-15T10:30:00.123+01:00", "2012-04-15T10Z", "T10:30" (a Time). A trailing 'T'
  // makes a DateTime of date precision. Fractional seconds beyond milliseconds are
  // truncated. nullopt when malformed or out of range (month 13, Feb 30, hour 24...).
  static std::optional<Temporal> ParseLiteral(std::string_view text);
  // FHIR JSON primitive text: date ("2012", "2012-04", "2012-04-15"), dateTime (also with
  // time and offset), instant, time ("10:30:00", no 'T'). `kind` says which: kDate accepts
  // only the date form, kDateTime accepts date and dateTime forms (a date-only dateTime
  // stays a DateTime of that precision), kTime only the time form.
  static std::optional<Temporal> ParseFhir(std::string_view text, TemporalKind kind);
  // The current instant (UTC, millisecond precision, offset Z) from milliseconds since the
  // Unix epoch; today() and timeOfDay() derive from it.
  static Temporal FromUnixMillis(int64_t millis);

  // Literal text without '@', at the value's precision: "2012-04-15", "2012-04-15T10:30:00.123Z",
  // "10:30" for a Time (no leading 'T'). Milliseconds print 3 digits. An offset prints as
  // "Z" when 0, else "+01:00". A DateTime of date precision prints as FHIR writes it,
  // without the literal's trailing 'T' ("2012-04-15"), as the suite's boundary outputs do.
  std::string ToString() const;
  // FHIRPath precision(): digits in the value: year 4, month 6, day 8, hour 10, minute 12,
  // second 14, millisecond 17; for a Time hour 2, minute 4, second 6, millisecond 9.
  int PrecisionDigits() const;
};

// -1, 0, 1 on the time line; nullopt when the kinds differ, or when the values are equal
// on every field both have and one has more (precision decides nothing). Seconds and
// milliseconds count as one precision for this rule (FHIRPath 5.1).
std::optional<int> Compare(const Temporal& a, const Temporal& b);
// FHIRPath `=`: true/false, or nullopt when undecidable (same rule as Compare).
std::optional<bool> Equal(const Temporal& a, const Temporal& b);
// FHIRPath `~`: false (never empty) when precisions differ.
bool Equivalent(const Temporal& a, const Temporal& b);

// Adds (or with a negative amount subtracts) a time-valued quantity. `unit` is a calendar
// duration keyword (year(s), month(s), week(s), day(s), hour(s), minute(s), second(s),
// millisecond(s)) or the UCUM code ('wk', 'd', 'h', 'min', 's', 'ms'). UCUM 'a' and 'mo'
// are definite durations, not calendar ones, and are refused (suite: testPlusDate14/16).
// The amount is truncated to an integer of the unit, except seconds with a fraction, which
// are added in milliseconds. Units finer than the value's precision are converted and
// truncated to it (FHIRPath 6.6.1: @2014 + 24 months = @2016; days become months and
// years at UCUM's mean 30.4375 and 365.25 days). Month arithmetic clamps
// the day (Jan 31 + 1 month = Feb 28/29). Time wraps around midnight. nullopt when the
// unit is not a time unit, is a date unit on a Time, or the result leaves year 1..9999.
std::optional<Temporal> Add(const Temporal& value, const Decimal& amount, std::string_view unit);

// lowBoundary()/highBoundary() (FHIRPath 2.0 / R5 suite): the earliest/latest value the
// partial value could stand for, at `precision_digits` (the same digit counts as
// PrecisionDigits; default 17 for DateTime, 8 for Date, 9 for Time). For a DateTime without
// offset the low boundary takes +14:00 and the high boundary -12:00. nullopt for a
// precision the kind does not have.
std::optional<Temporal> LowBoundary(const Temporal& value, std::optional<int> precision_digits);
std::optional<Temporal> HighBoundary(const Temporal& value, std::optional<int> precision_digits);

}  // namespace ehr::fhirpath
