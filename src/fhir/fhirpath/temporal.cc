#include "fhir/fhirpath/temporal.h"

#include <cstdio>

#include "core/civil_date.h"

namespace ehr::fhirpath {
namespace {

using P = TemporalPrecision;

constexpr int64_t kMillisPerSecond = 1000;
constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;
constexpr int kMaxOffsetMinutes = 14 * 60;
// Boundaries of a DateTime without offset take the extreme offsets in use on Earth.
constexpr int kEarliestOffsetMinutes = 14 * 60;
constexpr int kLatestOffsetMinutes = -12 * 60;

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t MillisOfDay(const Temporal& t) {
  return t.hour * kMillisPerHour + t.minute * kMillisPerMinute + t.second * kMillisPerSecond + t.millisecond;
}

void SetMillisOfDay(Temporal& t, int64_t ms) {
  t.hour = static_cast<uint8_t>(ms / kMillisPerHour);
  t.minute = static_cast<uint8_t>(ms / kMillisPerMinute % 60);
  t.second = static_cast<uint8_t>(ms / kMillisPerSecond % 60);
  t.millisecond = static_cast<uint16_t>(ms % kMillisPerSecond);
}

// Sets the date and time fields from milliseconds since the epoch (local to the value's
// offset); false when the year leaves 1..9999.
bool SetEpochMillis(Temporal& t, __int128 ms) {
  // About ±10^4 years either way of the representable range, so int64 holds it after this.
  constexpr __int128 kLimit = static_cast<__int128>(kMillisPerDay) * 366 * 20000;
  if (ms > kLimit || ms < -kLimit) return false;
  const int64_t m = static_cast<int64_t>(ms);
  const int64_t days = FloorDiv(m, kMillisPerDay);
  const CivilDate c = CivilFromDays(days);
  if (c.year < 1 || c.year > 9999) return false;
  t.year = static_cast<int32_t>(c.year);
  t.month = static_cast<uint8_t>(c.month);
  t.day = static_cast<uint8_t>(c.day);
  SetMillisOfDay(t, m - days * kMillisPerDay);
  return true;
}

int64_t EpochMillis(const Temporal& t) {
  return DaysFromCivil(t.year, t.month, t.day) * kMillisPerDay + MillisOfDay(t);
}

// ---- Parsing ---------------------------------------------------------------------------

// A cursor over literal or FHIR text; every reader consumes only on success.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool AtEnd() const { return pos_ == s_.size(); }
  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool Accept(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  // Exactly n digits.
  bool Digits(int n, int* out) {
    if (pos_ + static_cast<size_t>(n) > s_.size()) return false;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      const char c = s_[pos_ + static_cast<size_t>(i)];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += static_cast<size_t>(n);
    *out = v;
    return true;
  }
  // One or more digits read as a fraction of a second, truncated to milliseconds.
  bool FractionMillis(int* out) {
    int ms = 0;
    int n = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (n < 3) ms = ms * 10 + (s_[pos_] - '0');
      ++n;
      ++pos_;
    }
    if (n == 0) return false;
    for (int i = n; i < 3; ++i) ms *= 10;
    *out = ms;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// YYYY(-MM(-DD)?)? into t, with t.precision set. Range-checked.
bool ReadDate(Reader& r, Temporal& t) {
  int y = 0, m = 0, d = 0;
  if (!r.Digits(4, &y) || y < 1) return false;
  t.year = y;
  t.precision = P::kYear;
  if (!r.Accept('-')) return true;
  if (!r.Digits(2, &m) || m < 1 || m > 12) return false;
  t.month = static_cast<uint8_t>(m);
  t.precision = P::kMonth;
  if (!r.Accept('-')) return true;
  if (!r.Digits(2, &d) || d < 1 || d > DaysInMonth(y, m)) return false;
  t.day = static_cast<uint8_t>(d);
  t.precision = P::kDay;
  return true;
}

// hh(:mm(:ss(.f+)?)?)?; `need_seconds` demands the FHIR form hh:mm:ss. Leap seconds (60)
// are refused: they would need a field value no arithmetic here can produce or consume.
bool ReadTime(Reader& r, Temporal& t, bool need_seconds) {
  int h = 0, mi = 0, s = 0, ms = 0;
  if (!r.Digits(2, &h) || h > 23) return false;
  t.hour = static_cast<uint8_t>(h);
  t.precision = P::kHour;
  if (!r.Accept(':')) return !need_seconds;
  if (!r.Digits(2, &mi) || mi > 59) return false;
  t.minute = static_cast<uint8_t>(mi);
  t.precision = P::kMinute;
  if (!r.Accept(':')) return !need_seconds;
  if (!r.Digits(2, &s) || s > 59) return false;
  t.second = static_cast<uint8_t>(s);
  t.precision = P::kSecond;
  if (!r.Accept('.')) return true;
  if (!r.FractionMillis(&ms)) return false;
  t.millisecond = static_cast<uint16_t>(ms);
  t.precision = P::kMillisecond;
  return true;
}

// Z or ±hh:mm, at most 14:00 either way.
bool ReadOffset(Reader& r, Temporal& t) {
  if (r.Accept('Z')) {
    t.has_offset = true;
    t.offset_minutes = 0;
    return true;
  }
  int sign = 0;
  if (r.Accept('+')) {
    sign = 1;
  } else if (r.Accept('-')) {
    sign = -1;
  } else {
    return false;
  }
  int h = 0, m = 0;
  if (!r.Digits(2, &h) || !r.Accept(':') || !r.Digits(2, &m) || m > 59) return false;
  const int total = h * 60 + m;
  if (total > kMaxOffsetMinutes) return false;
  t.has_offset = true;
  t.offset_minutes = static_cast<int16_t>(sign * total);
  return true;
}

bool StartsTimeZone(const Reader& r) { return r.Peek('Z') || r.Peek('+') || r.Peek('-'); }

// ---- Precision helpers -----------------------------------------------------------------

// Seconds and milliseconds are one precision for comparison (FHIRPath 5.1).
int ComparisonRank(P p) { return p >= P::kSecond ? static_cast<int>(P::kSecond) : static_cast<int>(p); }

std::optional<P> PrecisionFromDigits(TemporalKind kind, int digits) {
  if (kind == TemporalKind::kTime) {
    switch (digits) {
      case 2:
        return P::kHour;
      case 4:
        return P::kMinute;
      case 6:
        return P::kSecond;
      case 9:
        return P::kMillisecond;
      default:
        return std::nullopt;
    }
  }
  switch (digits) {
    case 4:
      return P::kYear;
    case 6:
      return P::kMonth;
    case 8:
      return P::kDay;
    default:
      break;
  }
  if (kind == TemporalKind::kDate) return std::nullopt;
  switch (digits) {
    case 10:
      return P::kHour;
    case 12:
      return P::kMinute;
    case 14:
      return P::kSecond;
    case 17:
      return P::kMillisecond;
    default:
      return std::nullopt;
  }
}

// Resets the fields finer than t.precision to their minimum, as the struct requires.
void ClearBeyondPrecision(Temporal& t) {
  if (t.precision < P::kMonth) t.month = 1;
  if (t.precision < P::kDay) t.day = 1;
  if (t.precision < P::kHour) t.hour = 0;
  if (t.precision < P::kMinute) t.minute = 0;
  if (t.precision < P::kSecond) t.second = 0;
  if (t.precision < P::kMillisecond) t.millisecond = 0;
}

// The value moved to offset zero, so that values written with different offsets compare
// field by field. Values without an offset are UTC already (see the header).
Temporal ToUtc(const Temporal& t) {
  if (t.kind != TemporalKind::kDateTime || !t.has_offset || t.offset_minutes == 0 || t.precision < P::kHour) return t;
  Temporal u = t;
  // Year 1 or 9999 may move to year 0 or 10000 here; only the ordering matters.
  const int64_t ms = EpochMillis(t) - t.offset_minutes * kMillisPerMinute;
  const int64_t days = FloorDiv(ms, kMillisPerDay);
  const CivilDate c = CivilFromDays(days);
  u.year = static_cast<int32_t>(c.year);
  u.month = static_cast<uint8_t>(c.month);
  u.day = static_cast<uint8_t>(c.day);
  SetMillisOfDay(u, ms - days * kMillisPerDay);
  u.offset_minutes = 0;
  return u;
}

int Sign(int64_t v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

}  // namespace

std::optional<Temporal> Temporal::ParseLiteral(std::string_view text) {
  Temporal t;
  Reader r(text);
  if (r.Accept('T')) {
    // A Time has no offset: "T14:34:28Z" is not a Time literal (suite: testLiteralTimeUTC).
    t.kind = TemporalKind::kTime;
    t.year = 0;
    if (!ReadTime(r, t, /*need_seconds=*/false) || !r.AtEnd()) return std::nullopt;
    return t;
  }
  if (!ReadDate(r, t)) return std::nullopt;
  if (!r.Accept('T')) {
    t.kind = TemporalKind::kDate;
    return r.AtEnd() ? std::optional<Temporal>(t) : std::nullopt;
  }
  t.kind = TemporalKind::kDateTime;
  if (r.AtEnd()) return t;  // "2012-04-15T": a DateTime of date precision
  // The grammar allows a time only after a full date.
  if (t.precision != P::kDay) return std::nullopt;
  if (!ReadTime(r, t, /*need_seconds=*/false)) return std::nullopt;
  if (StartsTimeZone(r) && !ReadOffset(r, t)) return std::nullopt;
  if (!r.AtEnd()) return std::nullopt;
  return t;
}

std::optional<Temporal> Temporal::ParseFhir(std::string_view text, TemporalKind kind) {
  Temporal t;
  t.kind = kind;
  Reader r(text);
  if (kind == TemporalKind::kTime) {
    t.year = 0;
    if (!ReadTime(r, t, /*need_seconds=*/true) || !r.AtEnd()) return std::nullopt;
    return t;
  }
  if (!ReadDate(r, t)) return std::nullopt;
  if (r.AtEnd()) return t;
  if (kind == TemporalKind::kDate || t.precision != P::kDay || !r.Accept('T')) return std::nullopt;
  // FHIR R4: a time needs seconds, and a time zone SHALL be given with it.
  if (!ReadTime(r, t, /*need_seconds=*/true) || !ReadOffset(r, t) || !r.AtEnd()) return std::nullopt;
  return t;
}

Temporal Temporal::FromUnixMillis(int64_t millis) {
  Temporal t;
  t.kind = TemporalKind::kDateTime;
  t.precision = P::kMillisecond;
  t.has_offset = true;
  t.offset_minutes = 0;
  if (!SetEpochMillis(t, millis)) {
    // Only a clock far outside years 1..9999 gets here; pin it to the nearest end.
    t.year = millis < 0 ? 1 : 9999;
    t.month = millis < 0 ? 1 : 12;
    t.day = millis < 0 ? 1 : 31;
    SetMillisOfDay(t, millis < 0 ? 0 : kMillisPerDay - 1);
  }
  return t;
}

std::string Temporal::ToString() const {
  char buf[48];
  int n = 0;
  auto put = [&](const char* fmt, int v) { n += std::snprintf(buf + n, sizeof(buf) - static_cast<size_t>(n), fmt, v); };
  if (kind != TemporalKind::kTime) {
    put("%04d", year);
    if (precision >= P::kMonth) put("-%02d", month);
    if (precision >= P::kDay) put("-%02d", day);
    // A DateTime of date precision prints as FHIR writes it, without the literal's 'T'.
    if (kind == TemporalKind::kDate || precision < P::kHour) return std::string(buf, static_cast<size_t>(n));
    buf[n++] = 'T';
  }
  put("%02d", hour);
  if (precision >= P::kMinute) put(":%02d", minute);
  if (precision >= P::kSecond) put(":%02d", second);
  if (precision >= P::kMillisecond) put(".%03d", millisecond);
  if (kind == TemporalKind::kDateTime && has_offset) {
    if (offset_minutes == 0) {
      buf[n++] = 'Z';
    } else {
      const int abs = offset_minutes < 0 ? -offset_minutes : offset_minutes;
      buf[n++] = offset_minutes < 0 ? '-' : '+';
      put("%02d", abs / 60);
      put(":%02d", abs % 60);
    }
  }
  return std::string(buf, static_cast<size_t>(n));
}

int Temporal::PrecisionDigits() const {
  if (kind == TemporalKind::kTime) {
    switch (precision) {
      case P::kMinute:
        return 4;
      case P::kSecond:
        return 6;
      case P::kMillisecond:
        return 9;
      default:
        return 2;
    }
  }
  switch (precision) {
    case P::kYear:
      return 4;
    case P::kMonth:
      return 6;
    case P::kDay:
      return 8;
    case P::kHour:
      return 10;
    case P::kMinute:
      return 12;
    case P::kSecond:
      return 14;
    case P::kMillisecond:
      return 17;
  }
  return 4;
}

std::optional<int> Compare(const Temporal& a, const Temporal& b) {
  if (a.kind != b.kind) return std::nullopt;
  // With a time of day on both sides, a value without offset could be at any offset:
  // the order is unknown (the suite's testEquality23 expects empty).
  if (a.kind == TemporalKind::kDateTime && a.has_offset != b.has_offset &&
      a.precision >= TemporalPrecision::kHour && b.precision >= TemporalPrecision::kHour) {
    return std::nullopt;
  }
  const Temporal x = ToUtc(a);
  const Temporal y = ToUtc(b);
  const int64_t fx[] = {x.year, x.month, x.day, x.hour, x.minute, x.second * kMillisPerSecond + x.millisecond};
  const int64_t fy[] = {y.year, y.month, y.day, y.hour, y.minute, y.second * kMillisPerSecond + y.millisecond};
  const int rank_a = ComparisonRank(a.precision);
  const int rank_b = ComparisonRank(b.precision);
  const int common = rank_a < rank_b ? rank_a : rank_b;
  for (int i = 0; i <= common; ++i) {
    if (fx[i] != fy[i]) return Sign(fx[i] - fy[i]);
  }
  if (rank_a != rank_b) return std::nullopt;
  return 0;
}

std::optional<bool> Equal(const Temporal& a, const Temporal& b) {
  std::optional<int> c = Compare(a, b);
  if (!c) return std::nullopt;
  return *c == 0;
}

bool Equivalent(const Temporal& a, const Temporal& b) {
  if (a.kind != b.kind || ComparisonRank(a.precision) != ComparisonRank(b.precision)) return false;
  return Compare(a, b) == 0;
}

namespace {

enum class Unit { kYear, kMonth, kWeek, kDay, kHour, kMinute, kSecond, kMillisecond };

// UCUM 'a' and 'mo' are definite durations (365.25 and 30.4375 days), not calendar years
// and months; the suite makes adding them an error (testPlusDate14/16/17).
std::optional<Unit> ParseUnit(std::string_view u) {
  struct Name {
    std::string_view text;
    Unit unit;
  };
  static constexpr Name kNames[] = {
      {"year", Unit::kYear},
      {"years", Unit::kYear},
      {"month", Unit::kMonth},
      {"months", Unit::kMonth},
      {"week", Unit::kWeek},
      {"weeks", Unit::kWeek},
      {"wk", Unit::kWeek},
      {"day", Unit::kDay},
      {"days", Unit::kDay},
      {"d", Unit::kDay},
      {"hour", Unit::kHour},
      {"hours", Unit::kHour},
      {"h", Unit::kHour},
      {"minute", Unit::kMinute},
      {"minutes", Unit::kMinute},
      {"min", Unit::kMinute},
      {"second", Unit::kSecond},
      {"seconds", Unit::kSecond},
      {"s", Unit::kSecond},
      {"millisecond", Unit::kMillisecond},
      {"milliseconds", Unit::kMillisecond},
      {"ms", Unit::kMillisecond},
  };
  for (const Name& n : kNames) {
    if (n.text == u) return n.unit;
  }
  return std::nullopt;
}

// Length of a unit in milliseconds, for the units of fixed length.
int64_t FixedMillis(Unit u) {
  switch (u) {
    case Unit::kWeek:
      return 7 * kMillisPerDay;
    case Unit::kDay:
      return kMillisPerDay;
    case Unit::kHour:
      return kMillisPerHour;
    case Unit::kMinute:
      return kMillisPerMinute;
    case Unit::kSecond:
      return kMillisPerSecond;
    case Unit::kMillisecond:
      return 1;
    default:
      return 0;
  }
}

// The unit of a value's last field.
Unit UnitOfPrecision(P p) {
  switch (p) {
    case P::kYear:
      return Unit::kYear;
    case P::kMonth:
      return Unit::kMonth;
    case P::kDay:
      return Unit::kDay;
    case P::kHour:
      return Unit::kHour;
    case P::kMinute:
      return Unit::kMinute;
    case P::kSecond:
      return Unit::kSecond;
    case P::kMillisecond:
      return Unit::kMillisecond;
  }
  return Unit::kMillisecond;
}

// Converts `n` of `from` into whole units of `to` (coarser), truncating toward zero
// (FHIRPath 6.6.1: @2014 + 24 months = @2016, + 23 months = @2015). Month has no fixed
// length and the spec gives no factor, so a finer quantity becomes months and years at
// UCUM's mean lengths ('mo' = 30.4375 days, 'a' = 365.25 days).
__int128 ConvertDown(__int128 n, Unit from, Unit to) {
  if (from == Unit::kMonth) return n / 12;  // to years
  const __int128 ms = n * FixedMillis(from);
  switch (to) {
    case Unit::kYear:
      return ms * 100 / (static_cast<__int128>(36525) * kMillisPerDay);
    case Unit::kMonth:
      return ms * 10000 / (static_cast<__int128>(304375) * kMillisPerDay);
    default:
      return ms / FixedMillis(to);
  }
}

}  // namespace

std::optional<Temporal> Add(const Temporal& value, const Decimal& amount, std::string_view unit_text) {
  std::optional<Unit> unit = ParseUnit(unit_text);
  if (!unit) return std::nullopt;
  const bool is_time = value.kind == TemporalKind::kTime;
  if (is_time && *unit <= Unit::kDay) return std::nullopt;

  // Whole units, except that a fraction of a second is kept as milliseconds.
  std::optional<int64_t> whole;
  if (*unit == Unit::kSecond && !amount.IsInteger()) {
    std::optional<Decimal> ms = Decimal::Mul(amount, Decimal::FromInt(1000));
    if (!ms) return std::nullopt;
    whole = ms->Truncate().ToInt64();
    unit = Unit::kMillisecond;
  } else {
    whole = amount.Truncate().ToInt64();
  }
  if (!whole) return std::nullopt;
  __int128 n = *whole;
  Unit u = *unit;
  if (u == Unit::kWeek) {
    n *= 7;
    u = Unit::kDay;
  }
  const Unit finest = UnitOfPrecision(value.precision);
  if (u > finest) {
    n = ConvertDown(n, u, finest);
    u = finest;
  }

  Temporal r = value;
  if (u == Unit::kYear || u == Unit::kMonth) {
    const __int128 months =
        static_cast<__int128>(value.year) * 12 + (value.month - 1) + (u == Unit::kYear ? n * 12 : n);
    const __int128 year = months >= 0 ? months / 12 : (months - 11) / 12;
    if (year < 1 || year > 9999) return std::nullopt;
    r.year = static_cast<int32_t>(year);
    r.month = static_cast<uint8_t>(months - year * 12 + 1);
    // Jan 31 + 1 month is the last day of February.
    const int last = DaysInMonth(r.year, r.month);
    if (r.day > last) r.day = static_cast<uint8_t>(last);
    return r;
  }
  const __int128 delta = n * FixedMillis(u);
  if (is_time) {
    // A Time is a clock reading: it wraps around midnight.
    __int128 ms = (MillisOfDay(value) + delta) % kMillisPerDay;
    if (ms < 0) ms += kMillisPerDay;
    SetMillisOfDay(r, static_cast<int64_t>(ms));
    return r;
  }
  if (!SetEpochMillis(r, EpochMillis(value) + delta)) return std::nullopt;
  return r;
}

namespace {

std::optional<Temporal> Boundary(const Temporal& value, std::optional<int> precision_digits, bool high) {
  const int default_digits = value.kind == TemporalKind::kDateTime ? 17 : value.kind == TemporalKind::kDate ? 8 : 9;
  std::optional<P> target = PrecisionFromDigits(value.kind, precision_digits.value_or(default_digits));
  if (!target) return std::nullopt;
  Temporal r = value;
  // Fields the value does not have are filled with their least or greatest possible value.
  if (high) {
    if (value.precision < P::kMonth) r.month = 12;
    if (value.precision < P::kDay) r.day = static_cast<uint8_t>(DaysInMonth(r.year, r.month));
    if (value.precision < P::kHour) r.hour = 23;
    if (value.precision < P::kMinute) r.minute = 59;
    if (value.precision < P::kSecond) r.second = 59;
    if (value.precision < P::kMillisecond) r.millisecond = 999;
  }
  r.precision = *target;
  ClearBeyondPrecision(r);
  if (r.kind == TemporalKind::kDateTime) {
    if (r.precision < P::kHour) {
      r.has_offset = false;  // an offset needs a time
      r.offset_minutes = 0;
    } else if (!r.has_offset) {
      // Unknown offset: the earliest reading is in the first time zone to reach it, the
      // latest in the last one.
      r.has_offset = true;
      r.offset_minutes = static_cast<int16_t>(high ? kLatestOffsetMinutes : kEarliestOffsetMinutes);
    }
  }
  return r;
}

}  // namespace

std::optional<Temporal> LowBoundary(const Temporal& value, std::optional<int> precision_digits) {
  return Boundary(value, precision_digits, /*high=*/false);
}

std::optional<Temporal> HighBoundary(const Temporal& value, std::optional<int> precision_digits) {
  return Boundary(value, precision_digits, /*high=*/true);
}

}  // namespace ehr::fhirpath
