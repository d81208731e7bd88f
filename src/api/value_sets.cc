#include "api/value_sets.h"

#include <set>
#include <utility>

#include "fhir/json/value.h"
#include "fhir/model/model.h"

namespace ehr::api {
namespace {

using Code = std::pair<std::string, std::string>;  // system, code ("" code: every code of the system)

Status NotExpandable(const std::string& url, const std::string& why, const std::string& param) {
  return Status(ehr::Code::kInvalid,
                Issue{"error", "not-supported", "The value set " + url + " cannot be expanded here: " + why, param});
}

class Expander {
 public:
  Expander(const std::string& tenant, const SearchFn& search, std::string param)
      : tenant_(tenant), search_(search), param_(std::move(param)) {}

  // Adds the codes of the value set `canonical` (the clause's values OR-ed).
  Status Add(const std::string& canonical, int depth) { return Collect(canonical, depth, codes_); }

  // Adds `code` and its descendants (`below`) or its ancestors, from the nesting of the
  // concepts of the code system `system` as stored on this server (is-a, the default
  // hierarchy meaning).
  Status AddHierarchy(const std::string& system, const std::string& code, bool below) {
    EHR_ASSIGN_OR_RETURN(std::optional<json::Value> cs, Find(system, "CodeSystem"));
    if (!cs) {
      return Status(ehr::Code::kInvalid, Issue{"error", "not-supported",
                                               "The hierarchy of the code system " + system +
                                                   " is not known to this server (no CodeSystem with this url)",
                                               param_});
    }
    std::string_view meaning = cs->GetString("hierarchyMeaning");
    if (!meaning.empty() && meaning != "is-a") {
      return NotExpandable(system, "its hierarchy means " + std::string(meaning) + ", not is-a", param_);
    }
    std::vector<std::string> path;  // ancestors of the concept being visited
    EHR_ASSIGN_OR_RETURN(bool found, Walk(system, cs->Find("concept"), code, below, path, false));
    if (!found) {
      return Status(ehr::Code::kInvalid,
                    Issue{"error", "invalid", "The code " + code + " is not in the code system " + system, param_});
    }
    return Status::Ok();
  }

 private:
  Status Collect(const std::string& canonical, int depth, std::set<Code>& into) {
    if (depth > kMaxValueSetDepth) return NotExpandable(canonical, "value sets nest too deeply", param_);
    if (!open_.insert(canonical).second) return NotExpandable(canonical, "it includes itself", param_);
    struct Close {
      std::set<std::string>& open;
      const std::string& canonical;
      ~Close() { open.erase(canonical); }
    } close{open_, canonical};
    EHR_ASSIGN_OR_RETURN(std::optional<json::Value> vs, Find(canonical));
    if (!vs) {
      if (const fhir::ValueSetDef* def = SpecValueSet(canonical)) return AddSpec(canonical, *def, into);
      return Status(ehr::Code::kInvalid, Issue{"error", "invalid", "Unknown value set " + canonical, param_});
    }
    if (const json::Value* expansion = vs->Find("expansion")) {
      if (const json::Value* contains = expansion->Find("contains"); contains && contains->is_array()) {
        return AddContains(canonical, *contains, into);
      }
    }
    const json::Value* compose = vs->Find("compose");
    if (compose == nullptr) return NotExpandable(canonical, "it has neither compose nor expansion", param_);
    std::set<Code> excluded;
    if (const json::Value* excludes = compose->Find("exclude"); excludes && excludes->is_array()) {
      for (const json::Value& ex : excludes->as_array()) {
        if (ex.Find("filter") || ex.Find("valueSet") || !ex.Find("concept")) {
          return NotExpandable(canonical, "it excludes by filter, value set or whole code system", param_);
        }
        for (const json::Value& c : ex.Find("concept")->as_array()) {
          excluded.emplace(std::string(ex.GetString("system")), std::string(c.GetString("code")));
        }
      }
    }
    std::set<Code> included;
    if (const json::Value* includes = compose->Find("include"); includes && includes->is_array()) {
      for (const json::Value& inc : includes->as_array()) EHR_RETURN_IF_ERROR(AddInclude(canonical, inc, depth, included));
    }
    for (const Code& code : included) {
      if (code.second.empty()) {  // a whole code system: no code of it may be excluded
        for (const Code& ex : excluded) {
          if (ex.first == code.first) return NotExpandable(canonical, "it excludes codes from a whole code system", param_);
        }
      }
      if (excluded.count(code) == 0) EHR_RETURN_IF_ERROR(Put(canonical, code.first, code.second, into));
    }
    return Status::Ok();
  }

 public:

  // Each code as `system|code`, and as `|code` too: elements of type `code` (status,
  // gender, ...) are indexed without a system, theirs being implicit in the binding.
  std::vector<store::SearchValue> Values() const {
    std::vector<store::SearchValue> out;
    for (const auto& [system, code] : codes_) {
      store::TokenValue t;
      t.system = system;
      if (!code.empty()) t.code = code;
      out.emplace_back(t);
      if (!code.empty() && !system.empty()) out.emplace_back(store::TokenValue{std::string(), code});
    }
    return out;
  }

 private:
  // Depth-first over `concepts`: adds the target and, `below`, everything under it, or,
  // above, the concepts on the path to it. True once the target was found.
  Result<bool> Walk(const std::string& system, const json::Value* concepts, const std::string& code, bool below,
                    std::vector<std::string>& path, bool inside) {
    if (concepts == nullptr || !concepts->is_array()) return false;
    if (path.size() > kMaxHierarchyDepth) return NotExpandable(system, "its hierarchy is too deep", param_);
    bool found = false;
    for (const json::Value& c : concepts->as_array()) {
      const std::string this_code(c.GetString("code"));
      const bool target = this_code == code;
      if (target && !below) {
        for (const std::string& ancestor : path) EHR_RETURN_IF_ERROR(Put(system, system, ancestor, codes_));
      }
      if (target || (below && inside)) EHR_RETURN_IF_ERROR(Put(system, system, this_code, codes_));
      path.push_back(this_code);
      EHR_ASSIGN_OR_RETURN(bool under, Walk(system, c.Find("concept"), code, below, path, inside || target));
      path.pop_back();
      found = found || target || under;
    }
    return found;
  }

  Status Put(const std::string& canonical, std::string system, std::string code, std::set<Code>& into) {
    if (system.empty() && code.empty()) return Status::Ok();
    into.emplace(std::move(system), std::move(code));
    if (into.size() > kMaxExpandedCodes) {
      return NotExpandable(canonical, "it has more than " + std::to_string(kMaxExpandedCodes) + " codes", param_);
    }
    return Status::Ok();
  }

  Status AddInclude(const std::string& canonical, const json::Value& inc, int depth, std::set<Code>& into) {
    if (inc.Find("filter")) return NotExpandable(canonical, "it includes codes by filter", param_);
    const std::string system(inc.GetString("system"));
    if (const json::Value* sets = inc.Find("valueSet"); sets && sets->is_array()) {
      if (!system.empty()) return NotExpandable(canonical, "an include names both a system and value sets", param_);
      for (const json::Value& s : sets->as_array()) {
        EHR_RETURN_IF_ERROR(Collect(std::string(s.as_string()), depth + 1, into));
      }
      return Status::Ok();
    }
    if (system.empty()) return Status::Ok();
    const json::Value* concepts = inc.Find("concept");
    if (concepts == nullptr || !concepts->is_array()) return Put(canonical, system, "", into);
    for (const json::Value& c : concepts->as_array()) {
      EHR_RETURN_IF_ERROR(Put(canonical, system, std::string(c.GetString("code")), into));
    }
    return Status::Ok();
  }

  Status AddContains(const std::string& canonical, const json::Value& contains, std::set<Code>& into) {
    for (const json::Value& c : contains.as_array()) {
      if (!c.is_object()) continue;
      if (!c.GetString("code").empty()) {
        EHR_RETURN_IF_ERROR(Put(canonical, std::string(c.GetString("system")), std::string(c.GetString("code")), into));
      }
      if (const json::Value* nested = c.Find("contains"); nested && nested->is_array()) {
        EHR_RETURN_IF_ERROR(AddContains(canonical, *nested, into));
      }
    }
    return Status::Ok();
  }

  Status AddSpec(const std::string& canonical, const fhir::ValueSetDef& def, std::set<Code>& into) {
    if (!def.checkable) return NotExpandable(canonical, std::string(def.reason), param_);
    for (const fhir::ValueSetSystem& group : def.systems) {
      for (std::string_view code : group.codes) {
        EHR_RETURN_IF_ERROR(Put(canonical, std::string(group.system), std::string(code), into));
      }
    }
    return Status::Ok();
  }

  static const fhir::ValueSetDef* SpecValueSet(const std::string& canonical) {
    for (const fhir::ValueSetDef& def : fhir::RequiredValueSets()) {
      if (def.url == canonical) return &def;
      // The spec's sets carry "|4.0.1"; a URL without a version names them too.
      if (def.url.size() > canonical.size() && def.url.substr(0, canonical.size()) == canonical &&
          def.url[canonical.size()] == '|') {
        return &def;
      }
    }
    return nullptr;
  }

  // The tenant's ValueSet (or CodeSystem) with this canonical URL (`url|version`), the newest
  // when several.
  Result<std::optional<json::Value>> Find(const std::string& canonical, const char* type = "ValueSet") {
    const size_t bar = canonical.find('|');
    store::SearchQuery q;
    q.tenant = tenant_;
    q.types = {type};
    q.count = 1;
    q.total = store::TotalMode::kNone;
    store::Clause url;
    url.param = "url";
    url.kind = store::ParamKind::kUri;
    url.values.emplace_back(store::UriValue{canonical.substr(0, bar)});
    q.clauses.push_back(std::move(url));
    if (bar != std::string::npos) {
      store::Clause version;
      version.param = "version";
      version.kind = store::ParamKind::kToken;
      store::TokenValue v;
      v.code = canonical.substr(bar + 1);
      version.values.emplace_back(std::move(v));
      q.clauses.push_back(std::move(version));
    }
    EHR_ASSIGN_OR_RETURN(store::SearchPage page, search_(q));
    if (page.matches.empty()) return std::optional<json::Value>();
    EHR_ASSIGN_OR_RETURN(json::Value vs, json::Parse(page.matches.front().body));
    return std::optional<json::Value>(std::move(vs));
  }

  const std::string& tenant_;
  const SearchFn& search_;
  const std::string param_;
  std::set<std::string> open_;  // the value sets being expanded, outermost first: a cycle is an error
  std::set<Code> codes_;
};

Status ExpandClause(store::Clause& c, const std::string& tenant, const SearchFn& search) {
  for (store::Clause& inner : c.chain) EHR_RETURN_IF_ERROR(ExpandClause(inner, tenant, search));
  const bool hierarchy =
      c.kind == store::ParamKind::kToken && (c.modifier == store::Modifier::kAbove || c.modifier == store::Modifier::kBelow);
  if (c.modifier != store::Modifier::kIn && c.modifier != store::Modifier::kNotIn && !hierarchy) return Status::Ok();
  const char* suffix = c.modifier == store::Modifier::kIn      ? ":in"
                       : c.modifier == store::Modifier::kNotIn ? ":not-in"
                       : c.modifier == store::Modifier::kBelow ? ":below"
                                                               : ":above";
  Expander expander(tenant, search, c.param + suffix);
  for (const store::SearchValue& v : c.values) {
    if (hierarchy) {
      const auto& token = std::get<store::TokenValue>(v);
      EHR_RETURN_IF_ERROR(expander.AddHierarchy(*token.system, *token.code, c.modifier == store::Modifier::kBelow));
    } else {
      EHR_RETURN_IF_ERROR(expander.Add(std::get<store::UriValue>(v).uri, 0));
    }
  }
  c.values = expander.Values();
  if (c.values.empty()) {
    // Rather than guess what a set without codes should match.
    return Status(ehr::Code::kInvalid, Issue{"error", "invalid", "The value set(s) of " + c.param +
                                                                     " hold no codes to match", c.param});
  }
  c.modifier = c.modifier == store::Modifier::kNotIn ? store::Modifier::kNot : store::Modifier::kNone;
  return Status::Ok();
}

}  // namespace

Status ExpandValueSets(store::SearchQuery& q, const SearchFn& search) {
  for (store::Clause& c : q.clauses) EHR_RETURN_IF_ERROR(ExpandClause(c, q.tenant, search));
  return Status::Ok();
}

}  // namespace ehr::api
