#include "security/role_policy.h"

#include <algorithm>
#include <array>

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

// The token's scopes narrow what the roles allow; they never widen it. patient/ scopes
// count only inside the principal's own compartment; user/ and system/ ones anywhere.
Status CheckScopes(const Principal& who, const Action& a) {
  const Scopes scopes = ParseScopes(who.scope);
  const std::string own = OwnPatient(who);
  const bool own_record = !own.empty() && (a.compartment_patient == own ||
                                           (a.compartment_patient.empty() && a.resource_type == "Patient" && a.id == own));
  auto granted = [&](std::string_view type, uint8_t need) {
    return scopes.Grants(ScopeContext::kUser, type, need) || scopes.Grants(ScopeContext::kSystem, type, need) ||
           (own_record && scopes.Grants(ScopeContext::kPatient, type, need));
  };
  const std::string_view type = a.resource_type.empty() ? std::string_view("*") : std::string_view(a.resource_type);
  if (!granted(type, PermissionFor(a.interaction))) {
    return Denied("the token's scopes (" + who.scope + ") do not allow " + a.interaction + " of " + std::string(type));
  }
  for (const std::string& t : a.also_reads) {
    if (!granted(t, kSearch)) return Denied("the token's scopes do not allow searching " + t);
  }
  return Status::Ok();
}

Status AuthorizeByRole(const Principal& who, const Action& a);

// A PATIENT reads their own compartment, through the paths that name it.
Status AuthorizePatient(const Principal& who, const Action& a) {
  const std::string own = who.fhir_user.rfind("Patient/", 0) == 0 ? who.fhir_user.substr(8) : std::string();
  if (own.empty()) return Denied("this patient account is not linked to a Patient record");
  if (Needed(a.interaction) != kReads) return Denied("patients cannot change records through this API");
  if (!a.compartment_patient.empty()) {
    if (a.compartment_patient == own) return Status::Ok();
    return Denied("patients can read only their own record");
  }
  if (a.resource_type == "Patient" && a.id == own &&
      (a.interaction == "read" || a.interaction == "vread" || a.interaction == "history-instance")) {
    return Status::Ok();
  }
  if (!a.resource_type.empty() && CategoryOf(a.resource_type) == Category::kDefinitional && a.also_reads.empty()) {
    return Status::Ok();
  }
  return Denied("patients read their record through /Patient/" + own + "/... and /Patient/" + own + "/$everything");
}

}  // namespace

Category CategoryOf(std::string_view type) {
  if (In(kDemographic, type)) return Category::kDemographic;
  if (In(kFinancial, type)) return Category::kFinancial;
  if (In(kDefinitional, type)) return Category::kDefinitional;
  if (type == "AuditEvent") return Category::kAudit;
  return Category::kClinical;
}

Status RolePolicy::Authorize(const Principal& who, const Action& a) {
  if (!who.authenticated) return {Code::kUnauthorized, Issue{"error", "login", "authentication is required", {}}};
  EHR_RETURN_IF_ERROR(AuthorizeByRole(who, a));
  if (a.interaction == "capabilities" || a.interaction == "batch" || a.interaction == "transaction") {
    return Status::Ok();
  }
  // Definitional resources (value sets, code systems, questionnaires) hold no personal
  // data: reading them needs no scope, as an app in a patient context needs them too.
  if (!a.resource_type.empty() && CategoryOf(a.resource_type) == Category::kDefinitional && a.also_reads.empty() &&
      Needed(a.interaction) == kReads) {
    return Status::Ok();
  }
  return CheckScopes(who, a);
}

namespace {

Status AuthorizeByRole(const Principal& who, const Action& a) {
  if (!who.authenticated) return {Code::kUnauthorized, Issue{"error", "login", "authentication is required", {}}};
  if (who.mfa_enrollment_only) {
    return Denied("enrol a second factor first (POST /auth/mfa/enroll): it is required for this account");
  }
  if (a.interaction == "capabilities" || a.interaction == "batch" || a.interaction == "transaction") {
    return Status::Ok();  // a Bundle's entries are authorized one by one
  }
  const Access need = Needed(a.interaction);
  bool any_role = false;
  for (const std::string& role : who.roles) {
    if (role == "PATIENT") {
      any_role = true;
      if (AuthorizePatient(who, a).ok()) return Status::Ok();
      continue;
    }
    for (const RoleRow& row : kMatrix) {
      if (row.role != role) continue;
      any_role = true;
      bool ok = Allows(row, a.resource_type.empty() ? "*" : a.resource_type, need);
      // Whatever else the action reads must be readable too: an include, a chain or a _has
      // over forbidden types would otherwise leak them (or answer yes/no about them).
      for (const std::string& t : a.also_reads) ok = ok && Allows(row, t, kReads);
      if (ok) return Status::Ok();
    }
  }
  for (const std::string& role : who.roles) {
    if (role == "PATIENT") return AuthorizePatient(who, a);
  }
  if (!any_role) return Denied("the account has no role that grants access to FHIR data");
  return Denied("the account's roles do not allow " + a.interaction +
                (a.resource_type.empty() ? std::string(" across all types") : " of " + a.resource_type) +
                (a.also_reads.empty() ? "" : " (or of the types it includes, chains or tests)"));
}

}  // namespace
}  // namespace ehr::security
