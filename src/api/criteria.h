// Search criteria for conditional interactions (If-None-Exist, conditional update and
// delete, conditional references `Type?criteria`, GET entries of a Bundle): the general
// search (search::ParseSearch, strict: an unknown parameter is an error, not ignored),
// answered by whatever can search, the committed store or the write transaction so that
// resources created earlier in the same transaction count. Also the index rows written
// with every version.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/json/value.h"
#include "search/sensitive_ids.h"
#include "store/store.h"

namespace ehr::api {

using SearchFn = std::function<Result<store::SearchPage>(const store::SearchQuery&)>;
// The authorize step of a query (FhirService: api/search_access.h): refuses it, or bounds
// it to the caller's reach (SearchQuery::access).
using SearchGuard = std::function<Status(store::SearchQuery&)>;

// Ids of current, non-deleted resources of `type` matching `criteria` (a query string), at
// most `limit`. Errors name `context` ("If-None-Exist", "Bundle.entry[2].request.url") as
// the location when the criteria are malformed or empty. Sensitive identifiers in the
// criteria are looked for by their blind values (search/sensitive_ids.h).
Result<std::vector<std::string>> FindMatches(const std::string& tenant, const std::string& type,
                                             std::string_view criteria, std::string_view context,
                                             const SearchFn& search, int limit,
                                             const search::IdentifierBlinder& blinder);

// Index rows the foundation maintains: `identifier` tokens of any resource that has them.
std::vector<store::TokenRow> ExtractTokens(const json::Value& resource);
// The search index rows of a resource of `tenant`, written with each version: those of
// search::Indexer, with the blind values of its sensitive identifiers in place of theirs
// (search/sensitive_ids.h). `sensitive`, when given, is set to whether it holds one (then
// its body is stored encrypted: NewVersion::sensitive).
store::IndexRows IndexRowsOf(const json::Value& resource, std::string_view tenant,
                             const search::IdentifierBlinder& blinder, bool* sensitive = nullptr);

}  // namespace ehr::api
