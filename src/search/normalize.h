// Text normalisation for string search (FHIR R4 search 3.1.1.4.6: "case-insensitive and
// accent-insensitive"): the same function folds the indexed values (store::StringRow,
// store::TokenRow::text) and the values of a query, so that they compare byte for byte.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace ehr::search {

// Compatibility decomposition (NFKD), Unicode case folding and removal of combining marks
// and default-ignorable code points, then whitespace (and control character) runs
// collapsed to one ASCII space, leading and trailing ones removed:
//   "Müller" -> "muller", "ÉLODIE" -> "elodie", "straße" -> "strasse",
//   "  Jean\t\tPaul " -> "jean paul", "ﬁ" -> "fi".
// Invalid UTF-8 never fails: each invalid byte becomes U+FFFD.
std::string NormalizeString(std::string_view text);

}  // namespace ehr::search
