// The bounds of what a caller may see, as SQL sets (search_internal.h), as the SQLite
// backend compiles them (store/sqlite/search_clauses.cc): compartments (the query's own and
// the caller's reach), records hidden by consent, type filters of granular scopes, and the
// same bounds on what chains and _has test.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/search_internal.h"

namespace ehr::store::pg::internal {
Result<Compiled> PgSearch::CompileCompartment(const CompartmentFilter& f, const std::vector<std::string>& types,
                                              const std::string& alias) {
  std::vector<std::pair<std::string, std::string>> links;  // of the searched types
  std::vector<std::string> others;                          // types never in such a compartment
  for (const std::string& t : types) {
    bool linked = t == f.type;
    for (const auto& link : f.links) {
      if (link.first != t) continue;
      linked = true;
      links.push_back(link);
    }
    if (!linked) others.push_back(t);
  }
  if (f.other_types_pass && others.size() == types.size()) return Constant(true);
  Compiled set;
  if (!f.ids.empty()) {
    const std::string ids = sql_.OneOf(f.ids);
    for (const auto& [type, param] : links) {
      const std::string x = sql_.Alias("x");
      set.arms.push_back({"", x + ".seq",
                          Head("reference_index", x, {type}, param) + " AND " + x + ".target_id" + ids + " AND " + x +
                              ".target_type = " + sql_.Text(f.type)});
    }
    if (std::find(types.begin(), types.end(), f.type) != types.end()) {
      const std::string a = sql_.Alias("a");
      set.arms.push_back({"", a + ".seq",
                          "FROM resource_version " + a + " WHERE " + a + ".tenant = $1::text AND " + a +
                              ".type = " + sql_.Text(f.type) + " AND " + a + ".id" + ids + " AND " + a +
                              ".is_current AND NOT " + a + ".deleted"});
    }
  }
  if (!f.other_types_pass || others.empty()) return set.arms.empty() ? Constant(false) : set;
  Compiled out;
  out.condition = "(" + alias + ".type" + sql_.OneOf(others) +
                  (set.arms.empty() ? "" : " OR " + InSet(alias, set, false)) + ")";
  return out;
}

Result<Compiled> PgSearch::CompileExclusion(const Exclusion& e, const std::vector<std::string>& types) {
  std::vector<std::string> of;
  for (const std::string& t : types) {
    if (e.types.empty() || std::find(e.types.begin(), e.types.end(), t) != e.types.end()) of.push_back(t);
  }
  if (of.empty() || e.compartment.ids.empty()) return Constant(false);
  CompartmentFilter within = e.compartment;
  within.other_types_pass = false;
  const std::string h = sql_.Alias("h");
  EHR_ASSIGN_OR_RETURN(Compiled in, CompileCompartment(within, of, h));
  if (in.arms.empty()) return Constant(false);
  std::string where = h + ".seq IN (" + RenderSet(in.arms, true) + ")";
  auto labels = [&](const std::vector<TokenValue>& tokens, bool carried) -> Status {
    Clause cl;
    cl.param = "_security";
    cl.kind = ParamKind::kToken;
    for (const TokenValue& t : tokens) cl.values.push_back(t);
    EHR_ASSIGN_OR_RETURN(Compiled set, CompileIndexed(cl, of));
    where += " AND " + std::string(carried ? "" : "NOT ") + h + ".seq IN (" + RenderSet(set.arms, true) + ")";
    return Status::Ok();
  };
  if (!e.labels.empty()) EHR_RETURN_IF_ERROR(labels(e.labels, true));
  if (!e.except_labels.empty()) EHR_RETURN_IF_ERROR(labels(e.except_labels, false));
  auto named = [&](const std::vector<std::pair<std::string, std::string>>& resources) {
    std::string any;
    for (const auto& [type, id] : resources) {
      any += (any.empty() ? "(" : " OR (") + h + ".type = " + sql_.Text(type) + " AND " + h + ".id = " + sql_.Text(id) +
             ")";
    }
    return "(" + any + ")";
  };
  if (!e.resources.empty()) where += " AND " + named(e.resources);
  if (!e.except_resources.empty()) where += " AND NOT " + named(e.except_resources);
  Compiled out;
  out.arms.push_back({"", h + ".seq", "FROM resource_version " + h + " WHERE " + where});
  return out;
}

Result<Compiled> PgSearch::CompileFilter(const TypeFilter& f, const std::vector<std::string>& types,
                                         const std::string& alias) {
  std::vector<std::string> of;  // the query's types the filter bounds
  for (const std::string& t : types) {
    if (f.Covers(t)) of.push_back(t);
  }
  if (of.empty()) return Constant(true);
  Compiled set;
  for (const std::vector<Clause>& all : f.any_of) {
    const std::string a = sql_.Alias("a");
    std::string where = a + ".tenant = $1::text AND " + a + ".type" + sql_.OneOf(of) + " AND " + a +
                        ".is_current AND NOT " + a + ".deleted";
    for (const Clause& cl : all) {
      EHR_ASSIGN_OR_RETURN(Compiled c, MatchSet(cl, of, 1));
      where += " AND " + a + ".seq IN (" + RenderSet(c.arms, true) + ")";
    }
    set.arms.push_back({"", a + ".seq", "FROM resource_version " + a + " WHERE " + where});
  }
  if (of.size() == types.size()) return set.arms.empty() ? Constant(false) : set;
  Compiled out;
  out.condition = "(NOT (" + alias + ".type" + sql_.OneOf(of) + ") OR " +
                  (set.arms.empty() ? std::string(kNever) : InSet(alias, set, false)) + ")";
  return out;
}

Result<Compiled> PgSearch::WithinAccess(Compiled set, const std::vector<std::string>& types) {
  const bool filtered = std::any_of(q_.filters.begin(), q_.filters.end(), [&](const TypeFilter& f) {
    return std::any_of(types.begin(), types.end(), [&](const std::string& t) { return f.Covers(t); });
  });
  if (set.arms.empty() || (!q_.access && q_.hidden.empty() && !filtered)) return set;
  const std::string a = sql_.Alias("a");
  std::string where = a + ".seq IN (" + RenderSet(set.arms, true) + ")";
  if (q_.access) {
    EHR_ASSIGN_OR_RETURN(Compiled access, CompileCompartment(*q_.access, types, a));
    if (access.arms.empty() && access.condition == kNever) return Constant(false);
    if (!access.arms.empty() || access.condition != kAlways) {
      where += " AND " + (access.arms.empty() ? access.condition : InSet(a, access, false));
    }
  }
  for (const Exclusion& e : q_.hidden) {
    EHR_ASSIGN_OR_RETURN(Compiled hidden, CompileExclusion(e, types));
    if (!hidden.arms.empty()) where += " AND NOT " + a + ".seq IN (" + RenderSet(hidden.arms, true) + ")";
  }
  for (const TypeFilter& f : q_.filters) {
    EHR_ASSIGN_OR_RETURN(Compiled passing, CompileFilter(f, types, a));
    if (passing.arms.empty() && passing.condition == kAlways) continue;
    where += " AND " + (passing.arms.empty() ? passing.condition : InSet(a, passing, false));
  }
  Compiled out;
  out.arms.push_back({"", a + ".seq", "FROM resource_version " + a + " WHERE " + where});
  return out;
}

}  // namespace ehr::store::pg::internal
