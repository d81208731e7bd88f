#include "api/criteria.h"

#include <algorithm>
#include <set>

#include "fhir/model/model.h"
#include "net/http.h"
#include "search/indexer.h"

namespace ehr::api {
namespace {

// Splits on unescaped `sep` and unescapes "\," "\|" "\$" "\\" (FHIR search escaping).
std::vector<std::string> SplitEscaped(std::string_view s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s[++i];
    } else if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back() += s[i];
    }
  }
  return out;
}

// Finds the first unescaped '|'.
size_t FindBar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '|') {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string Unescape(std::string_view s) { return SplitEscaped(s, '\0').front(); }

}  // namespace

Result<std::vector<Criterion>> ParseCriteria(std::string_view query, std::string_view context) {
  std::vector<Criterion> out;
  for (auto& [name, value] : net::ParseQuery(query)) {
    if (name != "_id" && name != "identifier") {
      return Status::Invalid("Search parameter '" + name + "' is not supported in " + std::string(context) +
                                 " yet (supported: _id, identifier)",
                             std::string(context), "not-supported");
    }
    if (value.empty()) {
      return Status::Invalid("Search parameter '" + name + "' has an empty value", std::string(context));
    }
    Criterion c{name, {}};
    // Keep escapes for identifier values: the system|code split happens later.
    std::vector<std::string> parts;
    std::string current;
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) {
        current += value[i];
        current += value[++i];
      } else if (value[i] == ',') {
        parts.push_back(std::move(current));
        current.clear();
      } else {
        current += value[i];
      }
    }
    parts.push_back(std::move(current));
    c.values = std::move(parts);
    out.push_back(std::move(c));
  }
  if (out.empty()) return Status::Invalid(std::string(context) + " has no search criteria", std::string(context));
  return out;
}

Result<std::vector<std::string>> FindMatches(const std::string& tenant, const std::string& type,
                                             const std::vector<Criterion>& criteria, const CriteriaReader& reader,
                                             int limit) {
  std::optional<std::set<std::string>> result;  // nullopt: not yet constrained
  for (const auto& c : criteria) {
    std::set<std::string> matches;
    for (const auto& raw : c.values) {
      if (c.param == "_id") {
        EHR_ASSIGN_OR_RETURN(auto current, reader.read_current(Unescape(raw)));
        if (current && !current->deleted) matches.insert(current->id);
        continue;
      }
      store::TokenQuery q;
      q.tenant = tenant;
      q.type = type;
      q.param = c.param;
      q.limit = 1000;
      size_t bar = FindBar(raw);
      if (bar == std::string::npos) {
        q.code = Unescape(raw);
      } else {
        q.system = Unescape(std::string_view(raw).substr(0, bar));
        q.code = Unescape(std::string_view(raw).substr(bar + 1));
      }
      if (q.code.empty()) {
        return Status::Invalid("identifier search needs a value (system| alone is not supported yet)", c.param,
                               "not-supported");
      }
      EHR_ASSIGN_OR_RETURN(auto ids, reader.find_by_token(q));
      matches.insert(ids.begin(), ids.end());
    }
    if (!result) {
      result = std::move(matches);
    } else {
      std::set<std::string> both;
      std::set_intersection(result->begin(), result->end(), matches.begin(), matches.end(),
                            std::inserter(both, both.begin()));
      result = std::move(both);
    }
  }
  std::vector<std::string> out;
  if (result) {
    for (const auto& id : *result) {
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back(id);
    }
  }
  return out;
}

store::IndexRows IndexRowsOf(const json::Value& resource) {
  store::IndexRows rows = search::Indexer::Default().Index(resource);
  // Conditional references (`Type?identifier=...`) work for every type with identifiers,
  // also the few whose R4 parameters have no `identifier`.
  if (fhir::FindSearchParam(resource.GetString("resourceType"), "identifier") == nullptr) {
    for (store::TokenRow& t : ExtractTokens(resource)) rows.tokens.push_back(std::move(t));
  }
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
