// The FHIR R4 search query string as a store::SearchQuery.
//
// ParseSearch validates every parameter name against the R4 search parameters of the
// searched type(s) (fhir/model), every modifier against the parameter's type, and every
// value against its syntax (prefixes, dates, numbers, tokens, references), and fills the
// backend-neutral plan of store/query.h. Expected user errors come back as kInvalid with
// one Issue whose `expression` is the parameter as written in the query ("birthdate",
// "subject:Patient.name") and whose diagnostics say what is wrong; nothing throws.
//
// What is not supported yet is told apart from what is wrong:
//   - unknown parameter names, the special parameters _query and _filter, and
//     the result parameters _contained and _containedType: ignored with a warning
//     (severity "warning", code "not-supported") by default; kInvalid with code
//     "not-supported" under `strict` (Prefer: handling=strict);
//   - modifiers the spec defines for the type but the server does not implement yet (:text,
//     :above, :below, :in, :not-in on _id): always kInvalid with code
//     "not-supported", since ignoring them would widen the result;
//   - anything malformed, and modifiers the spec does not define for the type: kInvalid
//     with code "invalid".
// Input is untrusted: sizes are bounded (kMaxQueryBytes, kMaxParameters,
// kMaxValuesPerParameter, kMaxChainDepth) and exceeding them is kInvalid. Stateless and
// thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/subset/subset.h"
#include "search/sensitive_ids.h"
#include "store/query.h"

namespace ehr::search {

inline constexpr size_t kMaxQueryBytes = 64 * 1024;
inline constexpr int kMaxParameters = 64;           // name=value pairs in one query
inline constexpr int kMaxValuesPerParameter = 100;  // comma-separated values of one pair
inline constexpr int kMaxChainDepth = 4;            // reference hops of chains and _has together

struct ParseOptions {
  bool strict = false;  // Prefer: handling=strict
  int max_count = 1000;
  int default_count = 50;
  // Sensitive identifiers (sensitive_ids.h): with a blinder, the values of token
  // parameters that select Identifiers (also :of-type) and of reference :identifier are
  // searched as IdentifierBlinder::SearchValues says, for `tenant` (whose rows the query
  // reads: the tenant is part of every blind value). Without one, only plain rows match.
  const IdentifierBlinder* blinder = nullptr;
  std::string tenant = {};
};

struct ParsedSearch {
  store::SearchQuery query;     // tenant is left empty: the API layer sets it
  std::vector<Issue> warnings;  // ignored parameters (lenient), for the Bundle's OperationOutcome entry
  fhir::Subset subset;          // _summary and _elements, for the API layer to apply
                                // (_summary=count also sets query.count_only)
};

// `type`: the resource type of /fhir/{type}, or empty for a system search (then `_type`
// decides, and without it the parameters common to every resource type apply).
// `query`: the raw query string (application/x-www-form-urlencoded: '+' is a space, %XX
// decoded), without the leading '?'.
//
// Values: repeated parameters are AND-ed (one Clause each), comma-separated values OR-ed;
// `\,` `\|` `\$` `\\` escape the separators (split on unescaped ones, then unescape).
// Choices where the spec leaves room:
//   - token `:text` values are StringValue (normalised for the starts-with match on
//     TokenRow::text); `_id` values are TokenValue with only `code`.
//   - number/quantity ranges are half a unit of the last significant digit written, so
//     "100" is [99.5, 100.5], "100.00" is [99.995, 100.005] and "1e2" is [50, 150]
//     (one significant figure; the spec's own example says 95..105, which no rule gives).
//   - a date's range covers its precision in UTC; a time without offset is UTC, and a
//     space where the offset's sign belongs is read as '+' (an unencoded '+' in a URL).
//   - a chain through a reference with one target type sets Clause::type to it; with
//     several, the chained parameter must exist on at least one target and Clause::type
//     stays empty unless `:Type` is given. Clause::modifier is kType whenever type is set.
//   - relative reference values must be `id` or `Type/id` with Type a target of the
//     parameter; absolute URLs keep `url` and also fill type/id from a trailing Type/id.
//   - composite values are CompositeValue, split on unescaped '$' into exactly one value per
//     component, each parsed as its component parameter's (so `$gt100` takes a prefix);
//     Clause::components holds the components' kinds. Only :missing applies to them.
//   - token :of-type values are OfTypeValue (system|code|value, all three required);
//     reference :identifier values are TokenValue; uri :contains values UriValue.
//   - _text and _content values are TextValue (full_text.h: words, "phrases", OR); they
//     take no modifier and cannot sort.
Result<ParsedSearch> ParseSearch(std::string_view type, std::string_view query, const ParseOptions& options);

// The parameters of a read or vread (GET [type]/[id]?...): `_summary` (true, text, data or
// false; count is a search's) and `_elements`, checked as ParseSearch checks them. Other
// parameters are ignored, as a read always did (_format, _pretty, cache busters).
Result<fhir::Subset> ParseReadParameters(std::string_view query);

}  // namespace ehr::search
