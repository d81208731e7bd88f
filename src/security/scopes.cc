#include "security/scopes.h"

#include <algorithm>

#include "fhir/model/model.h"

namespace ehr::security {
namespace {

constexpr std::string_view kLetters = "cruds";
constexpr Permission kOrder[] = {kCreate, kRead, kUpdate, kDelete, kSearch};

// v2 "cruds" subsets in order, each letter at most once; v1 read/write/*. 0: invalid.
uint8_t ParsePermissions(std::string_view text) {
  if (text == "read") return kRead | kSearch;
  if (text == "write") return kCreate | kUpdate | kDelete;
  if (text == "*") return kCreate | kRead | kUpdate | kDelete | kSearch;
  if (text.empty()) return 0;
  uint8_t out = 0;
  size_t next = 0;  // the first letter still allowed
  for (char c : text) {
    const size_t at = kLetters.find(c, next);
    if (at == std::string_view::npos) return 0;  // unknown, repeated or out of order
    out |= kOrder[at];
    next = at + 1;
  }
  return out;
}

bool ParseResourceScope(std::string_view s, ResourceScope& out) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view context = s.substr(0, slash);
  if (context == "patient") out.context = ScopeContext::kPatient;
  else if (context == "user") out.context = ScopeContext::kUser;
  else if (context == "system") out.context = ScopeContext::kSystem;
  else return false;
  std::string_view rest = s.substr(slash + 1);
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    out.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
    // One concrete type, and a query that names something.
    if (out.query.empty() || out.query.find('=') == std::string::npos || rest.rfind("*.", 0) == 0) return false;
  }
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view type = rest.substr(0, dot);
  if (type != "*" && !fhir::IsResourceType(type)) return false;
  out.type = std::string(type);
  out.permissions = ParsePermissions(rest.substr(dot + 1));
  return out.permissions != 0;
}

}  // namespace

std::string PermissionLetters(uint8_t permissions) {
  std::string out;
  for (size_t i = 0; i < kLetters.size(); ++i) {
    if (permissions & kOrder[i]) out.push_back(kLetters[i]);
  }
  return out;
}

Scopes ParseScopes(std::string_view text) {
  Scopes out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view s = text.substr(start, end - start);
    start = end + 1;
    if (s.empty()) continue;
    ResourceScope r;
    if (s == "openid") out.openid = true;
    else if (s == "fhirUser") out.fhir_user = true;
    else if (s == "offline_access") out.offline_access = true;
    else if (s == "online_access") continue;
    else if (s == "launch") out.launch = true;
    else if (s == "launch/patient") out.launch_patient = true;
    else if (ParseResourceScope(s, r)) out.resources.push_back(std::move(r));
    else out.ignored.emplace_back(s);
  }
  return out;
}

Grant Either(Grant a, Grant b) {
  if (!a) return b;
  if (!b) return a;
  if (a->empty() || b->empty()) return std::vector<std::string>{};
  a->insert(a->end(), b->begin(), b->end());
  return a;
}

Grant Scopes::GrantOf(ScopeContext context, std::string_view type, uint8_t permissions) const {
  auto covers = [&](const ResourceScope& r) { return r.context == context && (r.type == "*" || r.type == type); };
  uint8_t every = 0;
  for (const ResourceScope& r : resources) {
    if (covers(r) && r.query.empty()) every |= r.permissions;
  }
  if ((every & permissions) == permissions) return std::vector<std::string>{};
  std::vector<std::string> queries;
  for (const ResourceScope& r : resources) {
    if (covers(r) && !r.query.empty() && ((every | r.permissions) & permissions) == permissions) {
      queries.push_back(r.query);
    }
  }
  if (queries.empty()) return std::nullopt;
  return queries;
}

std::string Scopes::Intersect(const Scopes& requested) const {
  std::string out;
  auto add = [&out](std::string_view s) {
    if (!out.empty()) out.push_back(' ');
    out += s;
  };
  if (requested.openid && openid) add("openid");
  if (requested.fhir_user && fhir_user) add("fhirUser");
  if (requested.offline_access && offline_access) add("offline_access");
  if (requested.launch && launch) add("launch");
  if (requested.launch_patient && launch_patient) add("launch/patient");
  // Each (held, asked) pair grants the narrower type with the common permissions, on the
  // resources both queries match.
  std::vector<ResourceScope> grants;
  for (const ResourceScope& want : requested.resources) {
    for (const ResourceScope& have : resources) {
      // A user/ grant covers the same in the narrower patient/ context.
      const bool context = have.context == want.context ||
                           (have.context == ScopeContext::kUser && want.context == ScopeContext::kPatient);
      if (!context) continue;
      std::string type;
      if (have.type == "*" || have.type == want.type) type = want.type;
      else if (want.type == "*") type = have.type;
      else continue;
      const uint8_t common = have.permissions & want.permissions;
      if (common == 0) continue;
      std::string query = have.query.empty() ? want.query
                          : want.query.empty() || want.query == have.query ? have.query
                                                                            : have.query + "&" + want.query;
      auto same = std::find_if(grants.begin(), grants.end(), [&](const ResourceScope& g) {
        return g.context == want.context && g.type == type && g.query == query;
      });
      if (same != grants.end()) same->permissions |= common;
      else grants.push_back({want.context, type, common, std::move(query)});
    }
  }
  // A grant that an unconditional grant of the same context covers adds nothing.
  std::vector<const ResourceScope*> kept;
  for (const ResourceScope& g : grants) {
    const bool covered = std::any_of(grants.begin(), grants.end(), [&](const ResourceScope& w) {
      const bool wider = (w.type == "*" && g.type != "*") || (w.type == g.type && !g.query.empty());
      return wider && w.query.empty() && w.context == g.context && (w.permissions & g.permissions) == g.permissions;
    });
    if (!covered) kept.push_back(&g);
  }
  for (const ResourceScope* kept_grant : kept) {
    const ResourceScope& g = *kept_grant;
    const char* context = g.context == ScopeContext::kPatient ? "patient/"
                          : g.context == ScopeContext::kUser  ? "user/"
                                                              : "system/";
    add(context + g.type + "." + PermissionLetters(g.permissions) + (g.query.empty() ? "" : "?" + g.query));
  }
  return out;
}

}  // namespace ehr::security
