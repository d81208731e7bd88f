// The lexical layer of FHIR search query strings, below query_parser.h: form decoding,
// the backslash escapes of R4 search 3.1.1.1.4 (`\,` `\|` `\$` `\\`), prefixes, and the
// implicit ranges of numbers and dates. Pure functions on untrusted text: no allocation
// beyond the results, no exceptions, thread-safe. Used by the parser and its tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/query.h"

namespace ehr::search {

// application/x-www-form-urlencoded: '+' is a space, %XX a byte. nullopt on a '%' not
// followed by two hex digits.
std::optional<std::string> FormDecode(std::string_view s);

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without NUL.
bool IsCleanUtf8(std::string_view s);

// Splits on `sep` where it is not escaped by a backslash; the pieces keep their escapes.
std::vector<std::string_view> SplitUnescaped(std::string_view s, char sep);
// Removes the escapes of `\,` `\|` `\$` `\\`; any other backslash stays as written.
std::string Unescape(std::string_view s);

// A resource id: [A-Za-z0-9\-\.]{1,64}.
bool IsValidId(std::string_view s);

// "eq" ... "ap"; nullopt for anything else.
std::optional<store::Prefix> PrefixNamed(std::string_view p);

// A decimal as search writes it (`-12.50`, `1e2`) and the range its significant digits
// imply: half a unit of the last digit written, either way ("100" -> [99.5, 100.5],
// "100.00" -> [99.995, 100.005], "1e2" -> [50, 150]). nullopt when malformed or outside
// the range of a double.
struct SearchNumber {
  double value = 0;
  double low = 0;
  double high = 0;
};
std::optional<SearchNumber> ParseSearchNumber(std::string_view s);

// A date, dateTime or instant of any precision from the year down ("2013", "2013-01",
// "2013-01-15", "2013-01-15T10", "2013-01-15T10:00", "...:00.123+01:00") as the first and
// last microsecond (UTC, inclusive) it covers. A time without an offset is UTC; a space
// in the offset's sign position is read as '+' (an unencoded '+' in a URL). nullopt when
// malformed or out of range (month 13, Feb 30, hour 24).
std::optional<std::pair<Micros, Micros>> ParseSearchDate(std::string_view s);

}  // namespace ehr::search
