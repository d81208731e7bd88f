#include "api/criteria.h"

#include "api/value_sets.h"

#include <algorithm>

#include "fhir/model/model.h"
#include "net/http.h"
#include "search/indexer.h"
#include "search/query_parser.h"

namespace ehr::api {

Result<std::vector<std::string>> FindMatches(const std::string& tenant, const std::string& type,
                                             std::string_view criteria, std::string_view context,
                                             const SearchFn& search, int limit,
                                             const search::IdentifierBlinder& blinder) {
  search::ParseOptions options;
  options.strict = true;  // an ignored criterion would widen a conditional write
  options.max_count = std::max(limit, 1);
  options.blinder = &blinder;
  options.tenant = tenant;
  Result<search::ParsedSearch> parsed = search::ParseSearch(type, criteria, options);
  if (!parsed.ok()) {
    Status st = parsed.take_status();
    for (Issue& issue : st.mutable_issues()) {
      issue.diagnostics = std::string(context) + ": " + issue.diagnostics;
    }
    return st;
  }
  if (parsed->query.clauses.empty()) {
    return Status::Invalid(std::string(context) + " has no search criteria", std::string(context));
  }
  store::SearchQuery& q = parsed->query;
  q.tenant = tenant;
  q.count = limit;
  q.total = store::TotalMode::kNone;
  q.includes.clear();
  EHR_RETURN_IF_ERROR(ExpandValueSets(q, search));
  std::vector<std::string> ids;
  while (static_cast<int>(ids.size()) < limit) {
    EHR_ASSIGN_OR_RETURN(store::SearchPage page, search(q));
    for (store::SearchMatch& m : page.matches) ids.push_back(std::move(m.id));
    if (page.next_cursor.empty()) break;
    q.cursor = std::move(page.next_cursor);
  }
  if (static_cast<int>(ids.size()) > limit) ids.resize(limit);
  return ids;
}

store::IndexRows IndexRowsOf(const json::Value& resource, std::string_view tenant,
                             const search::IdentifierBlinder& blinder, bool* sensitive) {
  store::IndexRows rows = search::Indexer::Default().Index(resource);
  // Conditional references (`Type?identifier=...`) work for every type with identifiers,
  // also the few whose R4 parameters have no `identifier`.
  if (fhir::FindSearchParam(resource.GetString("resourceType"), "identifier") == nullptr) {
    for (store::TokenRow& t : ExtractTokens(resource)) rows.tokens.push_back(std::move(t));
  }
  const bool any = blinder.BlindRows(tenant, resource, rows);
  if (sensitive != nullptr) *sensitive = any;
  return rows;
}

std::vector<store::TokenRow> ExtractTokens(const json::Value& resource) {
  std::vector<store::TokenRow> rows;
  const json::Value* ident = resource.Find("identifier");
  if (!ident) return rows;
  auto add = [&rows](const json::Value& id) {
    std::string_view value = id.GetString("value");
    if (value.empty()) return;
    rows.push_back({"identifier", std::string(id.GetString("system")), std::string(value), {}});
  };
  if (ident->is_array()) {
    for (const auto& id : ident->as_array()) add(id);
  } else if (ident->is_object()) {
    add(*ident);
  }
  return rows;
}

}  // namespace ehr::api
