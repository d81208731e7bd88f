#include "security/role_policy.h"

#include <algorithm>
#include <array>

#include "fhir/model/model.h"
#include "security/scopes.h"

namespace ehr::security {
namespace {

constexpr std::string_view kDemographic[] = {
    "Appointment", "AppointmentResponse", "Endpoint",      "HealthcareService", "Location", "Organization",
    "Patient",     "Person",              "Practitioner",  "PractitionerRole",  "RelatedPerson", "Schedule",
    "Slot"};
constexpr std::string_view kFinancial[] = {
    "Account",          "ChargeItem",           "ChargeItemDefinition", "Claim",         "ClaimResponse",
    "Coverage",         "CoverageEligibilityRequest", "CoverageEligibilityResponse", "EnrollmentRequest",
    "EnrollmentResponse", "ExplanationOfBenefit", "Invoice",            "PaymentNotice", "PaymentReconciliation"};
constexpr std::string_view kDefinitional[] = {
    "ActivityDefinition", "CapabilityStatement", "CodeSystem",          "CompartmentDefinition", "ConceptMap",
    "GraphDefinition",    "ImplementationGuide", "Library",             "Measure",               "NamingSystem",
    "OperationDefinition", "PlanDefinition",     "Questionnaire",       "SearchParameter",       "StructureDefinition",
    "StructureMap",       "TerminologyCapabilities", "ValueSet"};

template <size_t N>
bool In(const std::string_view (&list)[N], std::string_view type) {
  return std::find(std::begin(list), std::end(list), type) != std::end(list);
}

enum Access : uint8_t { kNoAccess = 0, kReads = 1, kWrites = 2, kReadsWrites = 3 };

struct RoleRow {
  std::string_view role;
  // Indexed by Category: clinical, demographic, financial, audit, definitional.
  std::array<Access, 5> access;
};

// The role-to-permission matrix (mirrored in the README).
constexpr RoleRow kMatrix[] = {
    {"ADMIN", {kNoAccess, kReadsWrites, kNoAccess, kReads, kReadsWrites}},
    {"DOCTOR", {kReadsWrites, kReadsWrites, kNoAccess, kNoAccess, kReads}},
    {"NURSE", {kReadsWrites, kReadsWrites, kNoAccess, kNoAccess, kReads}},
    {"CLERK", {kNoAccess, kReadsWrites, kNoAccess, kNoAccess, kReads}},
    {"BILLING", {kNoAccess, kReads, kReadsWrites, kNoAccess, kReads}},
    {"RESEARCHER", {kNoAccess, kNoAccess, kNoAccess, kNoAccess, kReads}},
    {"SERVICE", {kReadsWrites, kReadsWrites, kReadsWrites, kReads, kReadsWrites}},
    {"AUDITOR", {kNoAccess, kNoAccess, kNoAccess, kReads, kNoAccess}},
};

bool IsRead(std::string_view interaction) {
  return interaction == "read" || interaction == "vread" || interaction == "history-instance" ||
         interaction == "history-type" || interaction == "history-system" || interaction == "search-type" ||
         interaction == "search-system" || interaction == "operation";
}

Access Needed(std::string_view interaction) { return IsRead(interaction) ? kReads : kWrites; }

bool Allows(const RoleRow& row, std::string_view type, Access need) {
  if (type == "*") {
    return std::all_of(row.access.begin(), row.access.end(), [need](Access a) { return (a & need) == need; });
  }
  return (row.access[static_cast<size_t>(CategoryOf(type))] & need) == need;
}

Status Denied(std::string message) { return Status::Forbidden(std::move(message)); }

uint8_t PermissionFor(std::string_view interaction) {
  if (interaction == "create") return kCreate;
  if (interaction == "update" || interaction == "patch") return kUpdate;
  if (interaction == "delete") return kDelete;
  if (interaction == "search-type" || interaction == "search-system") return kSearch;
  if (interaction == "operation") return kRead | kSearch;
  return kRead;  // read, vread, history-*
}

// The patient whose compartment patient/ scopes reach: the SMART launch context, else the
// patient the account is.
std::string OwnPatient(const Principal& who) {
  if (!who.patient.empty()) return who.patient;
  return who.fhir_user.rfind("Patient/", 0) == 0 ? who.fhir_user.substr(8) : std::string();
}

// The id of the account's FHIR record when it is of `type` ("Patient", "RelatedPerson").
std::string LinkedId(const Principal& who, std::string_view type) {
  const std::string prefix = std::string(type) + "/";
  return who.fhir_user.rfind(prefix, 0) == 0 ? who.fhir_user.substr(prefix.size()) : std::string();
}

// Types in no patient compartment that a patient or guardian may read: the people and
// places of their care, and what their medications are.
constexpr std::string_view kDirectory[] = {"Practitioner", "PractitionerRole", "Organization", "Location",
                                           "HealthcareService", "Endpoint", "Medication", "Substance"};

bool PersonallyReadable(std::string_view type) {
  if (type.empty() || type == "*" || CategoryOf(type) == Category::kAudit) return false;
  return InPatientCompartment(type) || In(kDirectory, type) || CategoryOf(type) == Category::kDefinitional;
}

// A PATIENT (their own record) or GUARDIAN (their ward's): reads of the types of a record;
// which patient's resources they reach is the Reach the caller applies.
Status AuthorizePersonal(const Principal& who, const Action& a, bool guardian) {
  const std::string linked = LinkedId(who, guardian ? "RelatedPerson" : "Patient");
  if (linked.empty()) {
    return Denied(guardian ? "this guardian account is not linked to a RelatedPerson record"
                           : "this patient account is not linked to a Patient record");
  }
  if (Needed(a.interaction) != kReads) return Denied("patients and guardians cannot change records through this API");
  if (a.interaction == "history-type" || a.interaction == "history-system") {
    return Denied("history across resources is not available to patients and guardians");
  }
  bool ok = PersonallyReadable(a.resource_type);
  for (const std::string& t : a.also_reads) ok = ok && PersonallyReadable(t);
  if (!ok) {
    return Denied("patients and guardians read the resources of a health record (name the types to search), "
                  "not " + (a.resource_type.empty() ? std::string("every type") : a.resource_type));
  }
  // What names another patient is refused here, before anything is read.
  if (!guardian && ((!a.compartment_patient.empty() && a.compartment_patient != linked) ||
                    (a.resource_type == "Patient" && !a.id.empty() && a.id != linked))) {
    return Denied("patients can read only their own record");
  }
  return Status::Ok();
}

// A token's scopes, parsed once per thread for as long as the same token keeps coming (a
// request decides twice or more, and a client's requests come in runs).
const Scopes& ParsedScopes(const std::string& text) {
  thread_local std::string last_text;
  thread_local Scopes last;
  thread_local bool parsed = false;
  if (!parsed || text != last_text) {
    last = ParseScopes(text);
    last_text = text;
    parsed = true;
  }
  return last;
}

bool IsClinician(std::string_view role) { return role == "DOCTOR" || role == "NURSE"; }

}  // namespace

bool InPatientCompartment(std::string_view type) {
  return type == "Patient" || !fhir::PatientCompartmentParams(type).empty();
}

Category CategoryOf(std::string_view type) {
  if (In(kDemographic, type)) return Category::kDemographic;
  if (In(kFinancial, type)) return Category::kFinancial;
  if (In(kDefinitional, type)) return Category::kDefinitional;
  if (type == "AuditEvent") return Category::kAudit;
  return Category::kClinical;
}

Status RolePolicy::Authorize(const Principal& who, const Action& a) { return Decide(who, a).status; }

Reach RolePolicy::ReachOf(const Principal& who, const Action& a) { return Decide(who, a).reach; }

RolePolicy::Decision RolePolicy::Decide(const Principal& who, const Action& a) const {
  if (!who.authenticated) return {{Code::kUnauthorized, Issue{"error", "login", "authentication is required", {}}}, {}};
  if (who.mfa_enrollment_only) {
    return {Denied("enrol a second factor first (POST /auth/mfa/enroll): it is required for this account"), {}};
  }
  if (a.interaction == "capabilities" || a.interaction == "batch" || a.interaction == "transaction") {
    return {};  // a Bundle's entries are authorized one by one
  }
  Decision d = DecideByRole(who, a);
  if (!d.status.ok()) return d;
  // Definitional resources (value sets, code systems, questionnaires) hold no personal
  // data: reading them needs no scope, as an app in a patient context needs them too.
  if (!a.resource_type.empty() && CategoryOf(a.resource_type) == Category::kDefinitional && a.also_reads.empty() &&
      Needed(a.interaction) == kReads) {
    return d;
  }
  // The token's scopes narrow what the roles allow; they never widen it. user/ and system/
  // scopes count everywhere; patient/ ones bound the action to the patient in context.
  const Scopes& scopes = ParsedScopes(who.scope);
  const std::string own = OwnPatient(who);
  // A granular scope grants no write: what a write would make is not there to match yet.
  const bool writes = Needed(a.interaction) == kWrites;
  auto grant = [&](ScopeContext c, std::string_view type, uint8_t need) -> Grant {
    Grant g = scopes.GrantOf(c, type, need);
    return writes && g && !g->empty() ? std::nullopt : g;
  };
  auto wide = [&](std::string_view type, uint8_t need) {
    return Either(grant(ScopeContext::kUser, type, need), grant(ScopeContext::kSystem, type, need));
  };
  auto granted = [&](std::string_view type, uint8_t need) {
    return Either(wide(type, need), own.empty() ? std::nullopt : grant(ScopeContext::kPatient, type, need));
  };
  // Granular scopes: what they match is all the action reaches of that type (the first
  // need of a type decides: the action's own).
  auto filter = [&](const std::string& type, const Grant& g) {
    if (g && !g->empty()) d.reach.filters.emplace(type, *g);
  };
  const std::string type = a.resource_type.empty() ? std::string("*") : a.resource_type;
  const uint8_t need = PermissionFor(a.interaction);

  bool all_wide = wide(type, need).has_value();
  for (const std::string& t : a.also_reads) all_wide = all_wide && wide(t, kSearch).has_value();
  if (all_wide) {
    filter(type, wide(type, need));
    for (const std::string& t : a.also_reads) filter(t, wide(t, kSearch));
    return d;
  }
  const Grant main = granted(type, need);
  if (!main) {
    return {Denied("the token's scopes (" + who.scope + ") do not allow " + a.interaction + " of " + type), {}};
  }
  filter(type, main);
  for (const std::string& t : a.also_reads) {
    const Grant g = granted(t, kSearch);
    if (!g) return {Denied("the token's scopes do not allow searching " + t), {}};
    filter(t, g);
  }
  if ((!a.compartment_patient.empty() && a.compartment_patient != own) ||
      (a.resource_type == "Patient" && !a.id.empty() && a.id != own)) {
    return {Denied("the token's patient/ scopes reach only the patient in context"), {}};
  }
  d.reach.only = own;
  return d;
}

RolePolicy::Decision RolePolicy::DecideByRole(const Principal& who, const Action& a) const {
  Decision d;
  d.reach.all = false;
  const Access need = Needed(a.interaction);
  bool allowed = false;
  bool any_role = false;
  Status personal = Status::Ok();  // why the PATIENT or GUARDIAN role refused, if it did
  for (const std::string& role : who.roles) {
    if (role == "PATIENT" || role == "GUARDIAN") {
      any_role = true;
      Status st = AuthorizePersonal(who, a, role == "GUARDIAN");
      if (st.ok()) {
        allowed = true;
        (role == "GUARDIAN" ? d.reach.wards : d.reach.own) = true;
      } else if (personal.ok()) {
        personal = std::move(st);
      }
      continue;
    }
    for (const RoleRow& row : kMatrix) {
      if (row.role != role) continue;
      any_role = true;
      bool ok = Allows(row, a.resource_type.empty() ? "*" : a.resource_type, need);
      // Whatever else the action reads must be readable too: an include, a chain or a _has
      // over forbidden types would otherwise leak them (or answer yes/no about them).
      for (const std::string& t : a.also_reads) ok = ok && Allows(row, t, kReads);
      if (!ok) continue;
      allowed = true;
      if (IsClinician(role) && !options_.clinicians_reach_all) {
        d.reach.assigned = true;
      } else {
        d.reach.all = true;
      }
    }
  }
  if (allowed) return d;
  if (!personal.ok()) return {personal, {}};
  if (!any_role) return {Denied("the account has no role that grants access to FHIR data"), {}};
  return {Denied("the account's roles do not allow " + a.interaction +
                 (a.resource_type.empty() ? std::string(" across all types") : " of " + a.resource_type) +
                 (a.also_reads.empty() ? "" : " (or of the types it includes, chains or tests)")),
          {}};
}

}  // namespace ehr::security
