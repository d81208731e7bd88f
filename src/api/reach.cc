// The reach checks of every path (api/patient_reach.h): reads and vreads, history entries,
// searches (the store's access filter) and their includes, Bundle entries, and writes
// (TxnOps' write guard, which sees the version being replaced and the new one).
#include <algorithm>

#include "api/patient_reach.h"
#include "api/search_access.h"
#include "api/security_labels.h"
#include "api/service_impl.h"
#include "api/value_sets.h"
#include "fhir/model/model.h"
#include "search/indexer.h"
#include "search/query_parser.h"
#include "security/break_glass.h"
#include "security/role_policy.h"

namespace ehr::api {
namespace {

// A patient or guardian (and nobody with a wider role): denials must not tell them that
// a resource exists.
bool Personal(const security::Principal& who) {
  return (who.HasRole("PATIENT") || who.HasRole("GUARDIAN")) && !who.HasRole("DOCTOR") && !who.HasRole("NURSE");
}

bool IsWrite(std::string_view interaction) {
  return interaction == "create" || interaction == "update" || interaction == "patch" || interaction == "delete";
}

// What a record tells the checks: the patients whose compartments it is in, and its
// security labels.
struct Facts {
  std::vector<std::string> patients;
  std::vector<store::TokenValue> labels;
};

Facts FactsOf(const store::VersionRecord& rec) {
  Facts out;
  if (rec.deleted || !security::InPatientCompartment(rec.type)) return out;
  Result<json::Value> resource = json::Parse(rec.body);
  if (!resource.ok()) return out;
  store::IndexRows rows;
  rows.references = search::Indexer::Default().References(*resource, fhir::PatientCompartmentParams(rec.type));
  out.patients = CompartmentPatients(rec.type, rec.id, rows);
  const json::Value* meta = resource->Find("meta");
  const json::Value* security = meta ? meta->Find("security") : nullptr;
  if (security && security->is_array()) {
    for (const json::Value& c : security->as_array()) {
      out.labels.push_back({std::string(c.GetString("system")), std::string(c.GetString("code"))});
    }
  }
  return out;
}

bool HiddenFrom(const PatientSet& set, const store::VersionRecord& rec, const Facts& facts) {
  return std::any_of(set.hidden.begin(), set.hidden.end(),
                     [&](const store::Exclusion& e) { return Hides(e, rec.type, rec.id, facts.patients, facts.labels); });
}

}  // namespace

std::vector<std::string> PatientsOf(const store::VersionRecord& rec) { return FactsOf(rec).patients; }

const char* PurposeOfRole(std::string_view role) {
  return role == "DOCTOR" || role == "NURSE"       ? "TREAT"
         : role == "BILLING"                       ? "HPAYMT"
         : role == "RESEARCHER"                    ? "HRESCH"
         : role == "PATIENT" || role == "GUARDIAN" ? "PATRQT"
                                                   : "HOPERAT";
}

bool HasGranularScopes(const security::Principal& who) { return who.scope.find('?') != std::string::npos; }

bool Shows(const PatientSet& set, const store::VersionRecord& rec) {
  if (set.Unbounded() || rec.deleted || !security::InPatientCompartment(rec.type)) return true;
  const Facts facts = FactsOf(rec);
  return set.MayRead(rec.type, facts.patients) && !HiddenFrom(set, rec, facts);
}

Result<Requester> FhirService::Impl::RequesterOf(const RequestContext& ctx) {
  Requester out;
  EHR_ASSIGN_OR_RETURN(out.actors, reach.Actors(ctx.principal));
  out.actors.insert(out.actors.end(), ctx.principal.consent_actors.begin(), ctx.principal.consent_actors.end());
  for (const std::string& role : ctx.principal.roles) {
    const char* purpose = PurposeOfRole(role);
    if (std::find(out.purposes.begin(), out.purposes.end(), purpose) == out.purposes.end()) out.purposes.push_back(purpose);
  }
  return out;
}

std::vector<store::TypeFilter> FhirService::Impl::FiltersOf(const std::map<std::string, std::vector<std::string>>& queries,
                                                           const std::string& tenant) {
  std::vector<store::TypeFilter> out;
  for (const auto& [type, alternatives] : queries) {
    store::TypeFilter f{{type}, {}};
    for (const std::string& query : alternatives) {
      search::ParseOptions options;
      options.strict = true;
      options.blinder = &blinder;
      options.tenant = tenant;
      Result<search::ParsedSearch> parsed = search::ParseSearch(type, query, options);
      // Parameters only: a scope that sorts, includes or pages is not a filter.
      if (!parsed.ok() || parsed->query.clauses.empty() || !parsed->query.includes.empty() ||
          !parsed->query.sort.empty() || parsed->query.count_only) {
        continue;
      }
      if (!ExpandValueSets(parsed->query, [this](const store::SearchQuery& q) { return store.Search(q); }).ok()) continue;
      f.any_of.push_back(std::move(parsed->query.clauses));
    }
    out.push_back(std::move(f));
  }
  return out;
}

Result<bool> FhirService::Impl::PassesFilter(const RequestContext& ctx, const PatientSet& set, const std::string& type,
                                             const std::string& id) {
  const store::TypeFilter* f = set.FilterOf(type);
  if (f == nullptr) return true;
  for (const std::vector<store::Clause>& clauses : f->any_of) {
    store::SearchQuery q;
    q.tenant = ctx.principal.tenant;
    q.types = {type};
    q.clauses = clauses;
    store::Clause by_id;
    by_id.param = "_id";
    by_id.kind = store::ParamKind::kId;
    by_id.values.push_back(store::TokenValue{std::nullopt, id});
    q.clauses.push_back(std::move(by_id));
    q.count = 1;
    q.total = store::TotalMode::kNone;
    // Bounded like a search: a chain in the scope's query tests nothing out of reach.
    if (!set.all) q.access = PatientCompartment(set.ids, true);
    q.hidden = set.hidden;
    q.filters.insert(q.filters.end(), set.filters.begin(), set.filters.end());  // with the query's own
    EHR_ASSIGN_OR_RETURN(store::SearchPage page, store.Search(q));
    if (!page.matches.empty()) return true;
  }
  return false;
}

bool FhirService::Impl::WouldBlock(const RequestContext& ctx, const security::Action& action) {
  // When every set this principal could reach through is cached, no policy decision is
  // needed to know that none is cold (the usual case on the hot path).
  security::Reach possible;
  possible.all = false;
  possible.assigned = possible.wards = true;
  if (!reach.Warm(ctx.principal, possible)) {
    const security::Reach r = authz.ReachOf(ctx.principal, action);
    if (r.Restricted() && !reach.Warm(ctx.principal, r)) return true;
  }
  if (!ctx.principal.authenticated || IsWrite(action.interaction) || Personal(ctx.principal)) return false;
  const std::optional<bool> any = consents.AnyIfWarm(ctx.principal.tenant);
  return !any || (*any && !reach.ActorsWarm(ctx.principal));
}

Result<PatientSet> FhirService::Impl::ReachFor(const RequestContext& ctx, const security::Action& action) {
  security::Reach r = authz.ReachOf(ctx.principal, action);
  std::optional<bool> glass;  // asked once, when it matters
  auto broke_glass = [&] {
    if (!glass) glass = ctx.principal.emergency || (options.break_glass && options.break_glass->Active(ctx.principal));
    return *glass;
  };
  PatientSet set;
  if (r.Restricted()) {
    if (!r.all && r.assigned && broke_glass()) r.all = true;
    EHR_ASSIGN_OR_RETURN(set, reach.Resolve(ctx.principal, r));
  }
  if (!r.filters.empty()) set.filters = FiltersOf(r.filters, ctx.principal.tenant);
  // Consents govern what is disclosed (reads); the patient and their guardian are exempt.
  if (!ctx.principal.authenticated || IsWrite(action.interaction) || Personal(ctx.principal)) return set;
  if (!set.all && set.ids.empty()) return set;
  EHR_ASSIGN_OR_RETURN(bool any, consents.Any(ctx.principal.tenant));
  if (!any) return set;
  EHR_ASSIGN_OR_RETURN(Requester who, RequesterOf(ctx));
  EHR_ASSIGN_OR_RETURN(set.hidden, consents.Hidden(ctx.principal.tenant, who, set.all, set.ids));
  if (!set.hidden.empty() && broke_glass()) set.hidden.clear();
  return set;
}

Status FhirService::Impl::Unreached(const RequestContext& ctx, const std::string& type, const std::string& id) {
  if (Personal(ctx.principal)) return Status::NotFound("Resource " + type + "/" + id + " is not known");
  return Status::Forbidden(type + "/" + id +
                           " is in the record of a patient outside your reach (not in your care); in an emergency, "
                           "declare one with the X-Break-Glass header");
}

Status FhirService::Impl::CheckReach(const RequestContext& ctx, const std::string& interaction,
                                     const store::VersionRecord& rec) {
  const bool compartment = security::InPatientCompartment(rec.type);
  if (!compartment && !HasGranularScopes(ctx.principal)) return Status::Ok();
  EHR_ASSIGN_OR_RETURN(PatientSet set, ReachFor(ctx, {interaction, rec.type, rec.id, "", {}}));
  if (set.Unbounded()) return Status::Ok();
  if (!rec.deleted) {
    // Granular scopes: the resource as it is now must match (a version read too).
    EHR_ASSIGN_OR_RETURN(bool passes, PassesFilter(ctx, set, rec.type, rec.id));
    if (!passes) {
      if (Personal(ctx.principal)) return Status::NotFound("Resource " + rec.type + "/" + rec.id + " is not known");
      return Status::Forbidden("the token's granular scopes for " + rec.type + " do not cover " + rec.type + "/" + rec.id);
    }
  }
  if (!compartment || (set.all && set.hidden.empty())) return Status::Ok();
  if (rec.deleted) return Personal(ctx.principal) ? Unreached(ctx, rec.type, rec.id) : Status::Ok();
  // A Patient is in its own compartment: reached by id without parsing it.
  if (rec.type == "Patient" && set.Contains(rec.id) && set.hidden.empty()) return Status::Ok();
  const Facts facts = FactsOf(rec);
  if (!set.MayRead(rec.type, facts.patients)) return Unreached(ctx, rec.type, rec.id);
  if (!HiddenFrom(set, rec, facts)) return Status::Ok();
  return Status::Forbidden(rec.type + "/" + rec.id +
                           " is withheld by the patient's consent; in an emergency, declare one with the "
                           "X-Break-Glass header");
}

Result<PatientSet> FhirService::Impl::ApplyReach(const RequestContext& ctx, store::SearchQuery& q) {
  EHR_ASSIGN_OR_RETURN(PatientSet set, ReachFor(ctx, SearchAction(q)));
  q.hidden = set.hidden;
  q.filters.insert(q.filters.end(), set.filters.begin(), set.filters.end());  // with the query's own
  if (set.all) return set;
  if (q.compartment && q.compartment->type == "Patient") {
    for (const std::string& id : q.compartment->ids) {
      if (!set.Contains(id)) {
        if (Personal(ctx.principal)) return Status::Forbidden("patients and guardians can read only their own records");
        return Status::Forbidden("Patient/" + id +
                                 "'s record is outside your reach (not in your care); in an emergency, declare one "
                                 "with the X-Break-Glass header");
      }
    }
  }
  q.access = PatientCompartment(set.ids, true);
  return set;
}

SearchGuard FhirService::Impl::GuardFor(const RequestContext& ctx) {
  return [this, &ctx](store::SearchQuery& q) -> Status {
    EHR_RETURN_IF_ERROR(authz.Authorize(ctx.principal, SearchAction(q)));
    return ApplyReach(ctx, q).status();
  };
}

SearchFn FhirService::Impl::Guarded(const RequestContext& ctx, SearchFn search) {
  return [guard = GuardFor(ctx), search = std::move(search)](const store::SearchQuery& q) -> Result<store::SearchPage> {
    store::SearchQuery guarded = q;
    EHR_RETURN_IF_ERROR(guard(guarded));
    return search(guarded);
  };
}

WriteGuard FhirService::Impl::WriteGuardFor(const RequestContext& ctx) {
  return [this, &ctx](const store::NewVersion& v, const OldVersionFn& old_version) -> Status {
    const bool checks_labels = ctx.principal.authenticated && !ctx.principal.HasRole("SERVICE");
    PatientSet set;  // every patient
    if (security::InPatientCompartment(v.type)) {
      // Creating, updating and deleting reach the same patients (the role policy tells
      // reads from writes, not one write from another).
      EHR_ASSIGN_OR_RETURN(set, ReachFor(ctx, {v.deleted ? "delete" : "update", v.type, v.id, "", {}}));
    }
    if (set.all && !checks_labels) return Status::Ok();
    EHR_ASSIGN_OR_RETURN(std::optional<store::VersionRecord> old, old_version());
    EHR_RETURN_IF_ERROR(CheckSecurityLabels(ctx.principal, v, old));
    if (set.all) return Status::Ok();
    const bool replaces = old && !old->deleted;
    if (replaces && !set.MayWrite(v.type, PatientsOf(*old))) return Unreached(ctx, v.type, v.id);
    if (v.deleted) return Status::Ok();
    std::vector<std::string> patients = CompartmentPatients(v.type, v.id, v.index);
    if (v.type == "Patient" && !replaces) {
      // Registering a new patient writes into nobody's record yet.
      std::erase(patients, v.id);
      if (patients.empty()) return Status::Ok();
    }
    if (set.MayWrite(v.type, patients)) return Status::Ok();
    return Status::Forbidden("the " + v.type +
                             " would be in the record of a patient outside your reach (not in your care), or in no "
                             "patient's record");
  };
}

}  // namespace ehr::api
