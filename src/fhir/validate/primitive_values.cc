#include "fhir/validate/primitive_values.h"

#include <charconv>
#include <cstdint>

namespace ehr::fhir {
namespace {

constexpr size_t kMaxStringBytes = 1024 * 1024;  // "strings SHALL NOT exceed 1MB"

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// The characters of the definitions' `\s` (ECMAScript, ASCII part).
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Reads exactly `count` digits at `pos`.
bool ReadDigits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!IsDigit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  *out = value;
  return true;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// YYYY, YYYY-MM or YYYY-MM-DD at the start of `s`. Returns the length read (0 when
// invalid) and how many parts were present.
size_t ReadDate(std::string_view s, int* parts) {
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(s, 0, 4, &year) || year == 0) return 0;
  *parts = 1;
  if (s.size() == 4 || s[4] != '-') return 4;
  if (!ReadDigits(s, 5, 2, &month) || month < 1 || month > 12) return 0;
  *parts = 2;
  if (s.size() == 7 || s[7] != '-') return 7;
  if (!ReadDigits(s, 8, 2, &day) || day < 1 || day > DaysInMonth(year, month)) return 0;
  *parts = 3;
  return 10;
}

// hh:mm:ss(.fraction)? at `pos`. Returns the end position, or 0 when invalid.
size_t ReadTime(std::string_view s, size_t pos) {
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 2, &hour) || hour > 23) return 0;
  if (pos + 2 >= s.size() || s[pos + 2] != ':' || !ReadDigits(s, pos + 3, 2, &minute) || minute > 59) return 0;
  if (pos + 5 >= s.size() || s[pos + 5] != ':' || !ReadDigits(s, pos + 6, 2, &second) || second > 60) return 0;
  size_t end = pos + 8;
  if (end < s.size() && s[end] == '.') {
    size_t digits = end + 1;
    while (digits < s.size() && IsDigit(s[digits])) ++digits;
    if (digits == end + 1) return 0;
    end = digits;
  }
  return end;
}

// Z or (+|-)hh:mm with hh:mm up to 14:00, exactly to the end of `s`.
bool IsZoneAt(std::string_view s, size_t pos) {
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  int hour = 0, minute = 0;
  if (pos + 6 != s.size() || !ReadDigits(s, pos + 1, 2, &hour) || s[pos + 3] != ':' ||
      !ReadDigits(s, pos + 4, 2, &minute)) {
    return false;
  }
  return (hour <= 13 && minute <= 59) || (hour == 14 && minute == 0);
}

bool IsDate(std::string_view s) {
  int parts = 0;
  return ReadDate(s, &parts) == s.size() && !s.empty();
}

// dateTime allows a partial date; a time needs a full date and a zone. An instant must
// have everything.
bool IsDateTime(std::string_view s, bool require_time) {
  int parts = 0;
  const size_t date_end = ReadDate(s, &parts);
  if (date_end == 0) return false;
  if (date_end == s.size()) return !require_time;
  if (parts != 3 || s[date_end] != 'T') return false;
  const size_t time_end = ReadTime(s, date_end + 1);
  return time_end != 0 && IsZoneAt(s, time_end);
}

bool IsTime(std::string_view s) { return !s.empty() && ReadTime(s, 0) == s.size(); }

bool IsCode(std::string_view s) {
  if (s.empty() || IsSpace(s.front()) || IsSpace(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (IsSpace(s[i]) && IsSpace(s[i - 1])) return false;
  }
  return true;
}

bool IsId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsUri(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (IsSpace(c)) return false;
  }
  return true;
}

bool IsOid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:oid:";
  if (!s.starts_with(kPrefix)) return false;
  s.remove_prefix(kPrefix.size());
  if (s.empty() || s[0] < '0' || s[0] > '2') return false;
  size_t i = 1;
  int arcs = 0;
  while (i < s.size()) {
    if (s[i] != '.' || i + 1 >= s.size() || !IsDigit(s[i + 1])) return false;
    const size_t start = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (s[start] == '0' && i - start > 1) return false;  // no leading zeros
    ++arcs;
  }
  return arcs > 0;
}

bool IsUuid(std::string_view s) {
  constexpr std::string_view kPrefix = "urn:uuid:";
  if (!s.starts_with(kPrefix)) return false;
  s.remove_prefix(kPrefix.size());
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) {
      return false;
    }
  }
  return true;
}

// Groups of four base64 characters; whitespace only between groups; `=` padding only
// at the very end.
bool IsBase64(std::string_view s) {
  size_t count = 0;
  size_t padding = 0;
  for (char c : s) {
    if (IsSpace(c)) {
      if (count % 4 != 0) return false;
      continue;
    }
    const bool alphabet = IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
    if (c == '=') {
      ++padding;
    } else if (!alphabet || padding > 0) {
      return false;
    }
    ++count;
  }
  return count > 0 && count % 4 == 0 && padding <= 2;
}

bool IsString(std::string_view s) {
  if (s.empty() || s.size() > kMaxStringBytes) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, size_t pos, std::string_view prefix) {
  if (pos + prefix.size() > s.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[pos + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Only a basic check: a full XHTML check needs an XML parser and the narrative rules.
bool IsXhtml(std::string_view s) {
  if (!s.starts_with("<div")) return false;
  for (size_t pos = s.find('<'); pos != std::string_view::npos; pos = s.find('<', pos + 1)) {
    if (StartsWithIgnoreCase(s, pos + 1, "script")) return false;
  }
  return true;
}

bool IsInteger(std::string_view s, int64_t min) {
  int64_t value = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc() || ptr != end || s.empty()) return false;
  if (min >= 0 && s[0] == '-') return false;  // "-0" is not an unsignedInt
  return value >= min && value <= INT32_MAX;
}

}  // namespace

JsonKind JsonKindOf(Primitive primitive) {
  switch (primitive) {
    case Primitive::kBoolean: return JsonKind::kBool;
    case Primitive::kDecimal:
    case Primitive::kInteger:
    case Primitive::kPositiveInt:
    case Primitive::kUnsignedInt: return JsonKind::kNumber;
    default: return JsonKind::kString;
  }
}

bool IsValidPrimitiveText(Primitive primitive, std::string_view text) {
  switch (primitive) {
    case Primitive::kNone: return false;
    case Primitive::kBoolean: return true;
    case Primitive::kDecimal: return !text.empty();  // the JSON number grammar is the rule
    case Primitive::kInteger: return IsInteger(text, INT32_MIN);
    case Primitive::kUnsignedInt: return IsInteger(text, 0);
    case Primitive::kPositiveInt: return IsInteger(text, 1);
    case Primitive::kString:
    case Primitive::kMarkdown: return IsString(text);
    case Primitive::kCode: return IsCode(text);
    case Primitive::kId: return IsId(text);
    case Primitive::kUri:
    case Primitive::kUrl:
    case Primitive::kCanonical: return IsUri(text);
    case Primitive::kOid: return IsOid(text);
    case Primitive::kUuid: return IsUuid(text);
    case Primitive::kDate: return IsDate(text);
    case Primitive::kDateTime: return IsDateTime(text, false);
    case Primitive::kInstant: return IsDateTime(text, true);
    case Primitive::kTime: return IsTime(text);
    case Primitive::kBase64Binary: return IsBase64(text);
    case Primitive::kXhtml: return IsXhtml(text);
  }
  return false;
}

std::string_view DescribePrimitiveRule(Primitive primitive) {
  switch (primitive) {
    case Primitive::kNone: return "not a primitive";
    case Primitive::kBoolean: return "a boolean";
    case Primitive::kDecimal: return "a decimal";
    case Primitive::kInteger: return "an integer from -2147483648 to 2147483647";
    case Primitive::kUnsignedInt: return "an unsignedInt from 0 to 2147483647";
    case Primitive::kPositiveInt: return "a positiveInt from 1 to 2147483647";
    case Primitive::kString: return "a string: not empty, no control characters but TAB, CR, LF, at most 1 MiB";
    case Primitive::kMarkdown: return "markdown: not empty, no control characters but TAB, CR, LF, at most 1 MiB";
    case Primitive::kCode: return "a code: not empty, no leading, trailing or repeated whitespace";
    case Primitive::kId: return "an id: 1 to 64 of A-Z a-z 0-9 - .";
    case Primitive::kUri: return "a uri: not empty, no whitespace";
    case Primitive::kUrl: return "a url: not empty, no whitespace";
    case Primitive::kCanonical: return "a canonical: not empty, no whitespace";
    case Primitive::kOid: return "an oid: urn:oid: followed by dotted numbers";
    case Primitive::kUuid: return "a uuid: urn:uuid: followed by a lower-case UUID";
    case Primitive::kDate: return "a date: YYYY, YYYY-MM or YYYY-MM-DD";
    case Primitive::kDateTime: return "a dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss)+zz:zz";
    case Primitive::kInstant: return "an instant: YYYY-MM-DDThh:mm:ss(.sss)+zz:zz";
    case Primitive::kTime: return "a time: hh:mm:ss(.sss)";
    case Primitive::kBase64Binary: return "base64Binary: groups of four base64 characters";
    case Primitive::kXhtml: return "xhtml: a <div> element without scripts";
  }
  return "";
}

}  // namespace ehr::fhir
