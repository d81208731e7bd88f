#include "search/query_syntax.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "core/civil_date.h"
#include "fhir/fhirpath/temporal.h"

namespace ehr::search {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr Micros kMicrosPerSecond = 1000000;
constexpr Micros kMicrosPerDay = 86400 * kMicrosPerSecond;

}  // namespace

std::optional<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexDigit(s[i + 1]);
      const int lo = HexDigit(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool IsCleanUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::vector<std::string_view> SplitUnescaped(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;  // the escaped character is never a separator
    } else if (s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && std::string_view(",|$\\").find(s[i + 1]) != std::string_view::npos) ++i;
    out += s[i];
  }
  return out;
}

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '.';
  });
}

std::optional<store::Prefix> PrefixNamed(std::string_view p) {
  using store::Prefix;
  static constexpr std::pair<std::string_view, Prefix> kPrefixes[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt}, {"lt", Prefix::kLt}, {"ge", Prefix::kGe},
      {"le", Prefix::kLe}, {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  for (const auto& [name, prefix] : kPrefixes) {
    if (name == p) return prefix;
  }
  return std::nullopt;
}

std::optional<SearchNumber> ParseSearchNumber(std::string_view s) {
  // Grammar first ([+-]digits[.digits][(e|E)[+-]digits]): from_chars alone would accept
  // "inf", "nan" and hex, and the digits written decide the range.
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  const size_t int_start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == int_start) return std::nullopt;
  int64_t fraction_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t frac_start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    fraction_digits = static_cast<int64_t>(i - frac_start);
    if (fraction_digits == 0) return std::nullopt;
  }
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    const bool negative = i < s.size() && s[i] == '-';
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const size_t exp_start = i;
    // Saturated: anything this large is out of double range anyway.
    for (; i < s.size() && IsDigit(s[i]); ++i) exponent = std::min<int64_t>(exponent * 10 + (s[i] - '0'), 100000);
    if (i == exp_start) return std::nullopt;
    if (negative) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;

  const std::string_view text = s[0] == '+' ? s.substr(1) : s;
  SearchNumber n;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n.value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(n.value)) return std::nullopt;
  const double half = 0.5 * std::pow(10.0, static_cast<double>(exponent - fraction_digits));
  n.low = n.value - half;
  n.high = n.value + half;
  if (!std::isfinite(n.low) || !std::isfinite(n.high)) return std::nullopt;
  return n;
}

std::optional<std::pair<Micros, Micros>> ParseSearchDate(std::string_view s) {
  using fhirpath::Temporal;
  using P = fhirpath::TemporalPrecision;
  // The FHIRPath literal grammar is the search grammar plus a Time form ("T10:30") and a
  // trailing 'T'; both are refused here.
  if (s.empty() || !IsDigit(s.front()) || s.back() == 'T') return std::nullopt;
  std::string text(s);
  if (text.find('T') != std::string::npos) std::replace(text.begin(), text.end(), ' ', '+');
  const std::optional<Temporal> t = Temporal::ParseLiteral(text);
  if (!t || t->kind == fhirpath::TemporalKind::kTime) return std::nullopt;

  const Micros offset = t->has_offset ? Micros{t->offset_minutes} * 60 * kMicrosPerSecond : 0;
  const Micros start = DaysFromCivil(t->year, t->month, t->day) * kMicrosPerDay +
                       (Micros{t->hour} * 3600 + Micros{t->minute} * 60 + t->second) * kMicrosPerSecond +
                       Micros{t->millisecond} * 1000 - offset;
  Micros next = 0;  // the first microsecond after the value
  switch (t->precision) {
    case P::kYear:
      next = DaysFromCivil(t->year + 1, 1, 1) * kMicrosPerDay - offset;
      break;
    case P::kMonth:
      next = (t->month == 12 ? DaysFromCivil(t->year + 1, 1, 1) : DaysFromCivil(t->year, t->month + 1, 1)) *
                 kMicrosPerDay -
             offset;
      break;
    case P::kDay:
      next = start + kMicrosPerDay;
      break;
    case P::kHour:
      next = start + 3600 * kMicrosPerSecond;
      break;
    case P::kMinute:
      next = start + 60 * kMicrosPerSecond;
      break;
    case P::kSecond:
      next = start + kMicrosPerSecond;
      break;
    case P::kMillisecond:
      next = start + 1000;
      break;
  }
  return std::pair<Micros, Micros>{start, next - 1};
}

}  // namespace ehr::search
