// The reach checks of every path (api/patient_reach.h): reads and vreads, history entries,
// searches (the store's access filter) and their includes, Bundle entries, and writes
// (TxnOps' write guard, which sees the version being replaced and the new one).
#include <algorithm>

#include "api/patient_reach.h"
#include "api/search_access.h"
#include "api/security_labels.h"
#include "api/service_impl.h"
#include "fhir/model/model.h"
#include "search/indexer.h"
#include "security/break_glass.h"
#include "security/role_policy.h"

namespace ehr::api {
namespace {

// A patient or guardian (and nobody with a wider role): denials must not tell them that
// a resource exists.
bool Personal(const security::Principal& who) {
  return (who.HasRole("PATIENT") || who.HasRole("GUARDIAN")) && !who.HasRole("DOCTOR") && !who.HasRole("NURSE");
}

}  // namespace

std::vector<std::string> PatientsOf(const store::VersionRecord& rec) {
  if (rec.deleted || !security::InPatientCompartment(rec.type)) return {};
  Result<json::Value> resource = json::Parse(rec.body);
  if (!resource.ok()) return {};
  store::IndexRows rows;
  rows.references = search::Indexer::Default().References(*resource, fhir::PatientCompartmentParams(rec.type));
  return CompartmentPatients(rec.type, rec.id, rows);
}

Result<PatientSet> FhirService::Impl::ReachFor(const RequestContext& ctx, const security::Action& action) {
  security::Reach r = authz.ReachOf(ctx.principal, action);
  if (!r.Restricted()) return PatientSet{};
  if (!r.all && r.assigned && options.break_glass && options.break_glass->Active(ctx.principal)) r.all = true;
  return reach.Resolve(ctx.principal, r);
}

Status FhirService::Impl::Unreached(const RequestContext& ctx, const std::string& type, const std::string& id) {
  if (Personal(ctx.principal)) return Status::NotFound("Resource " + type + "/" + id + " is not known");
  return Status::Forbidden(type + "/" + id +
                           " is in the record of a patient outside your reach (not in your care); in an emergency, "
                           "declare one with the X-Break-Glass header");
}

Status FhirService::Impl::CheckReach(const RequestContext& ctx, const std::string& interaction,
                                     const store::VersionRecord& rec) {
  if (!security::InPatientCompartment(rec.type)) return Status::Ok();
  EHR_ASSIGN_OR_RETURN(PatientSet set, ReachFor(ctx, {interaction, rec.type, rec.id, "", {}}));
  if (set.all) return Status::Ok();
  if (rec.deleted) return Personal(ctx.principal) ? Unreached(ctx, rec.type, rec.id) : Status::Ok();
  // A Patient is in its own compartment: reached by id without parsing it.
  if (rec.type == "Patient" && set.Contains(rec.id)) return Status::Ok();
  if (set.MayRead(rec.type, PatientsOf(rec))) return Status::Ok();
  return Unreached(ctx, rec.type, rec.id);
}

Result<PatientSet> FhirService::Impl::ApplyReach(const RequestContext& ctx, store::SearchQuery& q) {
  EHR_ASSIGN_OR_RETURN(PatientSet set, ReachFor(ctx, SearchAction(q)));
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
