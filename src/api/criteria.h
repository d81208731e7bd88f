// Search criteria for conditional interactions (If-None-Exist, conditional update/delete,
// conditional references) and the minimal search the foundation supports: `_id` and
// `identifier` (token: `system|code`, `|code`, `code`), ANDed. The search issue replaces
// this with the full engine.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/json/value.h"
#include "store/store.h"

namespace ehr::api {

struct Criterion {
  std::string param;  // "_id" or "identifier"
  std::vector<std::string> values;  // OR-ed
};

// Parses "identifier=sys|val&_id=x". Unknown or unsupported parameters are kInvalid with
// the parameter named; `context` (e.g. "If-None-Exist") is used in messages.
Result<std::vector<Criterion>> ParseCriteria(std::string_view query, std::string_view context);

// What the criteria need from storage: store::Store and store::WriteTxn both fit.
struct CriteriaReader {
  std::function<Result<std::optional<store::VersionRecord>>(std::string_view id)> read_current;
  std::function<Result<std::vector<std::string>>(const store::TokenQuery&)> find_by_token;
};

// Ids of current, non-deleted resources of `type` matching all criteria (at most `limit`).
Result<std::vector<std::string>> FindMatches(const std::string& tenant, const std::string& type,
                                             const std::vector<Criterion>& criteria, const CriteriaReader& reader,
                                             int limit);

// Index rows the foundation maintains: `identifier` tokens of any resource that has them.
std::vector<store::TokenRow> ExtractTokens(const json::Value& resource);
// The search index rows of a resource, written with each version.
store::IndexRows IndexRowsOf(const json::Value& resource);

}  // namespace ehr::api
