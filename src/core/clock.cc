#include "core/clock.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ehr {
namespace {

class SystemClock final : public Clock {
 public:
  Micros Now() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

Clock& Clock::System() {
  static SystemClock clock;
  return clock;
}

std::string FormatInstant(Micros t) {
  time_t secs = static_cast<time_t>(t / 1000000);
  int64_t micros = t % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  // Formatting the date and time is the costly part; it changes once a second.
  thread_local time_t cached_secs = -1;
  thread_local std::string cached_prefix;
  if (secs != cached_secs) {
    struct tm tm {};
    gmtime_r(&secs, &tm);
    char buf[64];  // room for any int year, which the compiler cannot rule out
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_prefix = buf;
    cached_secs = secs;
  }
  int ms = static_cast<int>(micros / 1000);
  std::string out = cached_prefix;
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
  return out;
}

std::string FormatHttpDate(Micros t) {
  time_t secs = static_cast<time_t>(t / 1000000);
  thread_local time_t cached_secs = -1;
  thread_local std::string cached;
  if (secs != cached_secs) {
    struct tm tm {};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_secs = secs;
  }
  return cached;
}

std::optional<Micros> ParseHttpDate(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(25) != " GMT" || s[3] != ',') return std::nullopt;
  int day, year, hh, mm, ss;
  if (!Digits(s, 5, 2, &day) || !Digits(s, 12, 4, &year) || !Digits(s, 17, 2, &hh) || !Digits(s, 20, 2, &mm) ||
      !Digits(s, 23, 2, &ss))
    return std::nullopt;
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  if (month == 0 || day < 1 || day > DaysInMonth(year, month) || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  return ((days * 86400) + hh * 3600 + mm * 60 + ss) * 1000000LL;
}

std::optional<Micros> ParseInstant(std::string_view s) {
  int year, month = 1, day = 1, hh = 0, mm = 0, ss = 0;
  if (!Digits(s, 0, 4, &year)) return std::nullopt;
  size_t pos = 4;
  if (pos < s.size()) {
    if (s[pos] != '-' || !Digits(s, pos + 1, 2, &month)) return std::nullopt;
    pos += 3;
  }
  if (pos < s.size()) {
    if (s[pos] != '-' || !Digits(s, pos + 1, 2, &day)) return std::nullopt;
    pos += 3;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  int64_t micros = 0;
  int64_t offset_secs = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' || !Digits(s, pos + 1, 2, &hh) || s.size() < pos + 9 || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &mm) || s[pos + 6] != ':' || !Digits(s, pos + 7, 2, &ss))
      return std::nullopt;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
    if (pos >= s.size()) return std::nullopt;  // time without zone
    if (s[pos] == 'Z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!Digits(s, pos + 1, 2, &oh) || s.size() < pos + 6 || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om))
        return std::nullopt;
      offset_secs = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
      pos += 6;
    } else {
      return std::nullopt;
    }
    if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss - offset_secs;
  return secs * 1000000LL + micros;
}

}  // namespace ehr
