// Full-text search (_text, _content, R4 search 3.1.1.5.3): the text of a resource that the
// store indexes (SQLite FTS5: store::IndexRows::narrative and ::content), and the query
// syntax. Matching is by words: the store's tokenizer folds case and accents and splits on
// everything but letters and digits, in the resource text and in the query alike.
//
// Query syntax (one value; comma-separated values are OR-ed as for any parameter):
//   words               every word must occur (AND is implicit; a literal AND is ignored)
//   "a phrase"          the words in this order, next to each other
//   x OR y              either side (OR binds looser than the implicit AND: `a b OR c` is
//                       (a AND b) OR c)
// Anything else is a word: parentheses, `-`, `*` and quotes inside a word are not
// operators, so no user text ever reaches the store's own query language as syntax.
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fhir/json/value.h"
#include "store/query.h"

namespace ehr::search {

inline constexpr size_t kMaxContentBytes = 1 << 20;  // of one resource's _content text
inline constexpr size_t kMaxTextPhrases = 32;         // words and phrases of one query value

// Resource.text.div without the markup: tags become spaces, the XML character references
// are decoded, whitespace is collapsed. Empty when the resource has no narrative.
std::string NarrativeText(const json::Value& resource);

// Every string value of the resource, one per line, in document order: the narrative as
// NarrativeText, base64 data (Attachment.data, Binary.data) and resourceType left out.
// What the server writes itself is left out too, and meta comes first, so that the text is
// the same before and after the server places id and meta (index rows are computed before,
// `ehr reindex` after): the resource's id, meta.versionId, meta.lastUpdated. Cut (on a UTF-8
// boundary) at kMaxContentBytes.
std::string ContentText(const json::Value& resource);

// A query value as OR-ed groups of phrases; nullopt when it has no word at all (only
// spaces, quotes or operators) or more than kMaxTextPhrases.
std::optional<store::TextValue> ParseTextQuery(std::string_view value);

}  // namespace ehr::search
