#include "api/patient_reach.h"

#include <algorithm>

#include "fhir/json/value.h"
#include "fhir/model/model.h"
#include "search/query_parser.h"
#include "security/role_policy.h"

namespace ehr::api {
namespace {

void SortUnique(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

std::string ReferenceAt(const json::Value& resource, std::string_view element) {
  const json::Value* ref = resource.Find(element);
  return ref ? std::string(ref->GetString("reference")) : std::string();
}

// Cache keys and the types whose writes change what they resolve to.
constexpr std::string_view kAssignmentTypes[] = {"Patient", "CareTeam", "Encounter", "PractitionerRole",
                                                 "RelatedPerson"};

}  // namespace

std::string PatientIdOf(std::string_view reference) {
  size_t at = reference.rfind("Patient/");
  if (at == std::string_view::npos || (at > 0 && reference[at - 1] != '/')) return {};
  std::string_view id = reference.substr(at + 8);
  if (id.empty() || id.find('/') != std::string_view::npos) return {};
  return std::string(id);
}

bool WithinPeriod(std::string_view start, std::string_view end, std::string_view now) {
  // Dates and dateTimes compare as text with the instant's prefix of the same length.
  auto prefix = [&](std::string_view bound) { return now.substr(0, std::min<size_t>(bound.size(), 19)); };
  if (!start.empty() && start.substr(0, 19) > prefix(start)) return false;
  if (!end.empty() && end.substr(0, 19) < prefix(end)) return false;
  return true;
}

Status ForEachMatch(store::Store& store, const std::string& tenant, const std::string& type, const std::string& query,
                    size_t limit, const std::function<Status(const store::SearchMatch&)>& fn) {
  search::ParseOptions options;
  options.strict = true;
  EHR_ASSIGN_OR_RETURN(search::ParsedSearch parsed, search::ParseSearch(type, query + "&_count=1000", options));
  store::SearchQuery& q = parsed.query;
  q.tenant = tenant;
  q.total = store::TotalMode::kNone;
  size_t seen = 0;
  while (true) {
    EHR_ASSIGN_OR_RETURN(store::SearchPage page, store.Search(q));
    for (const store::SearchMatch& m : page.matches) {
      if (++seen > limit) {
        return Status::Unavailable("more than " + std::to_string(limit) + " " + type +
                                   " resources to resolve for an access decision");
      }
      EHR_RETURN_IF_ERROR(fn(m));
    }
    if (page.next_cursor.empty()) return Status::Ok();
    q.cursor = page.next_cursor;
  }
}

const std::vector<std::pair<std::string, std::string>>& PatientLinks() {
  static const auto* links = [] {
    auto* out = new std::vector<std::pair<std::string, std::string>>();
    for (std::string_view type : fhir::ResourceTypes()) {
      for (std::string_view param : fhir::PatientCompartmentParams(type)) out->emplace_back(type, param);
    }
    return out;
  }();
  return *links;
}

store::CompartmentFilter PatientCompartment(std::vector<std::string> ids, bool other_types_pass) {
  return store::CompartmentFilter{"Patient", std::move(ids), PatientLinks(), other_types_pass};
}

std::vector<std::string> CompartmentPatients(std::string_view type, std::string_view id, const store::IndexRows& rows) {
  std::vector<std::string> out;
  if (type == "Patient") out.emplace_back(id);
  const auto params = fhir::PatientCompartmentParams(type);
  for (const store::ReferenceRow& r : rows.references) {
    if (r.target_type != "Patient" || r.target_id.empty()) continue;
    if (std::find(params.begin(), params.end(), r.param) != params.end()) out.push_back(r.target_id);
  }
  SortUnique(out);
  return out;
}

bool PatientSet::Contains(std::string_view id) const {
  return all || std::binary_search(ids.begin(), ids.end(), id, std::less<>());
}

bool PatientSet::MayRead(std::string_view type, const std::vector<std::string>& patients) const {
  if (all || !security::InPatientCompartment(type)) return true;
  return std::any_of(patients.begin(), patients.end(), [&](const std::string& p) { return Contains(p); });
}

bool PatientSet::MayWrite(std::string_view type, const std::vector<std::string>& patients) const {
  if (all) return true;
  if (security::InPatientCompartment(type) && patients.empty()) return false;
  return std::all_of(patients.begin(), patients.end(), [&](const std::string& p) { return Contains(p); });
}

Result<PatientSet> PatientReach::Resolve(const security::Principal& who, const security::Reach& reach) {
  PatientSet set;
  if (!reach.Restricted()) return set;
  if (!reach.all) {
    set.all = false;
    const std::string& user = who.fhir_user;
    auto linked = [&](std::string_view type) {
      return user.rfind(std::string(type) + "/", 0) == 0 ? user.substr(type.size() + 1) : std::string();
    };
    if (reach.own && !linked("Patient").empty()) set.ids.push_back(linked("Patient"));
    if (reach.wards && !linked("RelatedPerson").empty()) {
      const std::string id = linked("RelatedPerson");
      EHR_ASSIGN_OR_RETURN(std::vector<std::string> wards,
                           Cached(who.tenant + "\nwards\n" + id, [&] { return Wards(who.tenant, id); }));
      set.ids.insert(set.ids.end(), wards.begin(), wards.end());
    }
    if (reach.assigned && !linked("Practitioner").empty()) {
      const std::string id = linked("Practitioner");
      EHR_ASSIGN_OR_RETURN(std::vector<std::string> assigned,
                           Cached(who.tenant + "\nassigned\n" + id, [&] { return Assigned(who.tenant, id); }));
      set.ids.insert(set.ids.end(), assigned.begin(), assigned.end());
    }
    SortUnique(set.ids);
  }
  if (!reach.only.empty()) {
    const bool in = set.Contains(reach.only);
    set.all = false;
    set.ids.clear();
    if (in) set.ids.push_back(reach.only);
  }
  return set;
}

bool PatientReach::Warm(const security::Principal& who, const security::Reach& reach) {
  if (reach.all) return true;
  const std::string& user = who.fhir_user;
  if (reach.wards && user.rfind("RelatedPerson/", 0) == 0 && !Fresh(who.tenant + "\nwards\n" + user.substr(14))) {
    return false;
  }
  if (reach.assigned && user.rfind("Practitioner/", 0) == 0 && !Fresh(who.tenant + "\nassigned\n" + user.substr(13))) {
    return false;
  }
  return true;
}

bool PatientReach::ActorsWarm(const security::Principal& who) {
  return who.fhir_user.rfind("Practitioner/", 0) != 0 || Fresh(who.tenant + "\nactors\n" + who.fhir_user);
}

bool PatientReach::Fresh(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  return it != cache_.end() && it->second.generation == generation_.load() && clock_.Now() - it->second.resolved < kCacheTtl;
}

void PatientReach::Changed(std::string_view type) {
  if (std::find(std::begin(kAssignmentTypes), std::end(kAssignmentTypes), type) != std::end(kAssignmentTypes)) {
    generation_.fetch_add(1);
  }
}

Result<std::vector<std::string>> PatientReach::Cached(const std::string& key,
                                                      const std::function<Result<std::vector<std::string>>()>& fn) {
  const uint64_t generation = generation_.load();
  const Micros now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.generation == generation && now - it->second.resolved < kCacheTtl) {
      return it->second.ids;
    }
  }
  EHR_ASSIGN_OR_RETURN(std::vector<std::string> ids, fn());
  std::lock_guard lock(mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[key] = Entry{generation, now, ids};
  return ids;
}

Result<std::vector<std::string>> PatientReach::Assigned(const std::string& tenant, const std::string& practitioner) {
  std::string refs = "Practitioner/" + practitioner;
  EHR_RETURN_IF_ERROR(ForEachMatch(tenant, "PractitionerRole", "practitioner=Practitioner/" + practitioner,
                                   [&](const store::SearchMatch& m) {
                                     refs += ",PractitionerRole/" + m.id;
                                     return Status::Ok();
                                   }));
  std::vector<std::string> out;
  EHR_RETURN_IF_ERROR(ForEachMatch(tenant, "Patient", "general-practitioner=" + refs, [&](const store::SearchMatch& m) {
    out.push_back(m.id);
    return Status::Ok();
  }));
  auto subject = [&](const store::SearchMatch& m) -> Status {
    EHR_ASSIGN_OR_RETURN(json::Value resource, json::Parse(m.body));
    std::string id = PatientIdOf(ReferenceAt(resource, "subject"));
    if (!id.empty()) out.push_back(std::move(id));
    return Status::Ok();
  };
  EHR_RETURN_IF_ERROR(ForEachMatch(tenant, "CareTeam", "status=active&participant=" + refs, subject));
  EHR_RETURN_IF_ERROR(
      ForEachMatch(tenant, "Encounter", "status=arrived,triaged,in-progress,onleave&participant=" + refs, subject));
  SortUnique(out);
  return out;
}

Result<std::vector<std::string>> PatientReach::Actors(const security::Principal& who) {
  if (who.fhir_user.rfind("Practitioner/", 0) != 0) {
    return who.fhir_user.empty() ? std::vector<std::string>() : std::vector<std::string>{who.fhir_user};
  }
  return Cached(who.tenant + "\nactors\n" + who.fhir_user, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> out{who.fhir_user};
    EHR_RETURN_IF_ERROR(ForEachMatch(who.tenant, "PractitionerRole", "practitioner=" + who.fhir_user,
                                     [&](const store::SearchMatch& m) -> Status {
                                       out.push_back("PractitionerRole/" + m.id);
                                       EHR_ASSIGN_OR_RETURN(json::Value role, json::Parse(m.body));
                                       const std::string org = ReferenceAt(role, "organization");
                                       const size_t at = org.rfind("Organization/");
                                       if (at != std::string::npos && (at == 0 || org[at - 1] == '/')) {
                                         out.push_back(org.substr(at));
                                       }
                                       return Status::Ok();
                                     }));
    SortUnique(out);
    return out;
  });
}

Result<std::vector<std::string>> PatientReach::Wards(const std::string& tenant, const std::string& related_person) {
  EHR_ASSIGN_OR_RETURN(std::optional<store::VersionRecord> rec, store_.ReadCurrent(tenant, "RelatedPerson", related_person));
  if (!rec || rec->deleted) return std::vector<std::string>();
  EHR_ASSIGN_OR_RETURN(json::Value resource, json::Parse(rec->body));
  const json::Value* active = resource.Find("active");
  if (active && active->is_bool() && !active->as_bool()) return std::vector<std::string>();
  if (const json::Value* period = resource.Find("period")) {
    if (!WithinPeriod(period->GetString("start"), period->GetString("end"), FormatInstant(clock_.Now()))) {
      return std::vector<std::string>();
    }
  }
  std::string id = PatientIdOf(ReferenceAt(resource, "patient"));
  if (id.empty()) return std::vector<std::string>();
  return std::vector<std::string>{std::move(id)};
}

}  // namespace ehr::api
