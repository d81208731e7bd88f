// Token `:in` and `:not-in` (R4 search 3.1.1.4.9): membership of a ValueSet, named by its
// canonical URL (`url` or `url|version`); and token `:below` / `:above` (`system|code`):
// the code with its descendants / ancestors.
//
// The parser leaves such a clause with the ValueSet URLs as values; ExpandValueSets turns it,
// before the store sees the query, into the codes the value sets hold: `:in` becomes a plain
// token clause over them (`system|code` OR-ed, and `|code`, as elements of type `code` are
// indexed without their implicit system), `:not-in` a `:not` clause. A value set is
// looked up among this tenant's ValueSet resources (the newest when several share the URL
// and no version is given), then among the value sets of the FHIR R4 specification's
// required bindings. What can be expanded without a terminology server:
//   - `expansion.contains` (nested too), when the resource carries an expansion;
//   - `compose.include` with listed concepts, a whole code system (`system|`: any code),
//     or other value sets (`include.valueSet`, their union; at most kMaxValueSetDepth deep);
//   - `compose.exclude` of listed concepts.
// Filters (`is-a`, ...), an include naming both a system and value sets, an exclude of a
// whole system or of value sets, and expansions larger than kMaxExpandedCodes are answered
// 400 not-supported, and an unknown value set or one without codes 400 invalid: never a
// silently wider or narrower result.
#pragma once

#include <string>

#include "api/criteria.h"
#include "core/status.h"
#include "store/query.h"

namespace ehr::api {

inline constexpr int kMaxValueSetDepth = 4;
inline constexpr size_t kMaxHierarchyDepth = 32;
// The store takes at most 1,000 system|code values in one token clause
// (store/sqlite/search_sql_internal.h), and each code takes two (ExpandValueSets: with its
// system, and without for `code` elements).
inline constexpr size_t kMaxExpandedCodes = 500;

// Token `:below` / `:above` follow the nesting of `concept` in the CodeSystem resource of that
// url stored on this server (hierarchyMeaning is-a, the default); without one, the hierarchy
// is not known (SNOMED CT, LOINC... need a terminology service) and the answer is 400
// not-supported, as is a code that is not in it 400 invalid. The same 500-code limit applies.
//
// Rewrites every `:in`/`:not-in`/token `:below`/`:above` clause of `q` (chains and `_has` included) in place;
// `search` finds ValueSet resources of `q.tenant`.
Status ExpandValueSets(store::SearchQuery& q, const SearchFn& search);

}  // namespace ehr::api
