#include "federation/vault_access.h"

#include <algorithm>
#include <strings.h>

#include "fhir/json/value.h"
#include "net/http.h"
#include "security/role_policy.h"

namespace ehr::federation {

bool IsFederatedRole(std::string_view role) { return role == "DOCTOR" || role == "NURSE"; }

bool IsFederated(const security::Principal& who) {
  return who.authenticated && who.client_id.rfind(kNodeClientPrefix, 0) == 0;
}

FederatedAuthenticator::FederatedAuthenticator(security::Authenticator& local, const security::NodeVerifier& verifier,
                                               const FederationConfig& config, store::Store& store,
                                               const mpi::Pseudonymizer& pseudonyms, VaultPolicy policy)
    : local_(local), verifier_(verifier), config_(config), store_(store), pseudonyms_(pseudonyms), policy_(std::move(policy)) {}

namespace {

// Whether the Patient has `pseudonym` among those its vault registers for it (invalid other
// identifiers, such as Synthea's SSNs, are skipped there as here).
bool HoldsPseudonym(const mpi::Pseudonymizer& pseudonyms, const json::Value& patient, std::string_view pseudonym) {
  if (patient.GetString("resourceType") != "Patient") return false;
  const std::vector<mpi::PatientPseudonym> held = pseudonyms.Linkable(patient);
  return std::any_of(held.begin(), held.end(), [&](const mpi::PatientPseudonym& p) { return p.pseudonym == pseudonym; });
}

}  // namespace

// The patient a gateway names must hold the identifier its clinician entered: a gateway (or
// whoever took its key) cannot reach a patient by id alone.
Status FederatedAuthenticator::CheckPatient(const security::NodeClaims& claims, const net::Request& request) {
  if (claims.pseudonym.empty()) return Status::Forbidden("federation: a cross-border request names the identifier it was made with");
  if (claims.patient.empty()) {
    // Registering a visitor here: a new Patient holding the identifier and nothing else.
    if (claims.access != "write" || request.method != "POST" || request.path != "/fhir/Patient") {
      return Status::Forbidden("federation: a cross-border request names its patient");
    }
    Result<json::Value> body = json::Parse(request.body);
    if (!body.ok() || !body->is_object()) return Status::Forbidden("federation: a visitor's record is a Patient");
    for (const auto& [member, value] : body->as_object()) {
      if (member != "resourceType" && member != "identifier") {
        return Status::Forbidden("federation: a visitor's record registered from another region holds only their identifier");
      }
    }
    if (!HoldsPseudonym(pseudonyms_, *body, claims.pseudonym)) {
      return Status::Forbidden("federation: the visitor's record does not hold the identifier the request was made with");
    }
    // A conditional create looks for the visitor's record by that identifier, and by nothing
    // else (its answer would show a record found otherwise).
    if (std::string_view criteria = request.GetHeader("If-None-Exist"); !criteria.empty()) {
      const std::string decoded = criteria.rfind("identifier=", 0) == 0 ? net::PercentDecode(criteria.substr(11), false) : "";
      const size_t bar = decoded.find('|');
      Result<mpi::PatientPseudonym> sought = bar == std::string::npos || decoded.find('&') != std::string::npos
                                                 ? Result<mpi::PatientPseudonym>(Status::Invalid(""))
                                                 : pseudonyms_.Pseudonym(decoded.substr(0, bar), decoded.substr(bar + 1));
      if (!sought.ok() || sought->pseudonym != claims.pseudonym) {
        return Status::Forbidden("federation: a visitor's record is looked for by the identifier entered only");
      }
    }
    return Status::Ok();
  }
  EHR_ASSIGN_OR_RETURN(std::optional<store::VersionRecord> patient, store_.ReadCurrent(policy_.tenant, "Patient", claims.patient));
  const Status not_theirs = Status::Forbidden("federation: the patient named does not hold the identifier the request was made with");
  if (!patient || patient->deleted) return not_theirs;
  Result<json::Value> body = json::Parse(patient->body);
  if (!body.ok()) return not_theirs;
  if (!HoldsPseudonym(pseudonyms_, *body, claims.pseudonym)) return not_theirs;
  return Status::Ok();
}

Result<security::Principal> FederatedAuthenticator::Authenticate(const net::Request& request) {
  const std::string_view authorization = request.GetHeader("Authorization");
  if (authorization.size() < 5 || strncasecmp(authorization.data(), "Node ", 5) != 0) {
    return local_.Authenticate(request);
  }
  EHR_ASSIGN_OR_RETURN(security::NodeClaims claims, verifier_.VerifyHeader(authorization, request.client_certificate));
  const Node* node = config_.Find(claims.issuer);
  if (node == nullptr || node->role != "gateway") {
    return Status::Forbidden("federation: only the federation's gateways read across the border");
  }
  if (claims.user.empty()) return Status::Forbidden("federation: a cross-border read names its clinician");
  if (claims.region != node->region) {
    return Status::Forbidden("federation: the requesting region is not the gateway's");
  }
  const auto& allowed = policy_.allowed_regions;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), claims.region) == allowed.end()) {
    return Status::Forbidden("federation: this vault does not answer requests from region " + claims.region);
  }
  if (!claims.access.empty() && claims.access != "write") return Status::Forbidden("federation: unknown access " + claims.access);
  if (claims.access == "write" && !policy_.accept_writes) {
    return Status::Forbidden("federation: this vault does not accept records written from other regions");
  }
  EHR_RETURN_IF_ERROR(CheckPatient(claims, request));
  security::Principal p;
  p.authenticated = true;
  p.tenant = policy_.tenant;
  p.subject = claims.user + "@" + claims.issuer;
  p.username = p.subject;
  p.client_id = std::string(kNodeClientPrefix) + claims.issuer;
  p.patient = claims.patient;
  if (claims.access == "write") p.scope = std::string(kFederatedWriteScope);
  p.consent_actors = {std::string(kFederationActor), std::string(kFederationActor) + "-" + claims.region};
  if (claims.purpose == "ETREAT") {
    if (!policy_.allow_emergency) {
      return Status::Forbidden("federation: this vault does not grant emergency access across the border");
    }
    p.emergency = true;  // the gateway's clinician broke the glass there, with a reason it recorded
  }
  for (const std::string& role : claims.roles) {
    if (IsFederatedRole(role)) p.roles.push_back(role);
  }
  return p;
}

Status FederatedAuthorizer::Authorize(const security::Principal& who, const security::Action& action) {
  if (!IsFederated(who)) return local_.Authorize(who, action);
  if (who.roles.empty()) return Status::Forbidden("federation: only clinicians read across the border");
  static constexpr std::string_view kReads[] = {"read", "vread", "search-type", "search-system", "operation"};
  const bool reads = std::find(std::begin(kReads), std::end(kReads), action.interaction) != std::end(kReads);
  if (reads && !who.patient.empty() && action.compartment_patient == who.patient) return Status::Ok();
  // Registering a visitor: the conditional create's search for their record (its criteria,
  // the identifier entered, checked at authentication).
  if (who.patient.empty() && who.scope == kFederatedWriteScope && action.interaction == "search-type" &&
      action.resource_type == "Patient" &&
      std::all_of(action.also_reads.begin(), action.also_reads.end(), [](const std::string& t) { return t == "Patient"; })) {
    return Status::Ok();
  }
  if (action.interaction == "create" && who.scope == kFederatedWriteScope) {
    // The visitor's own record (its content checked at authentication), or something about them.
    if (who.patient.empty() ? action.resource_type == "Patient"
                            : action.resource_type != "Patient" && security::InPatientCompartment(action.resource_type)) {
      return Status::Ok();
    }
  }
  return Status::Forbidden("federation: a cross-border request reads one patient's record, or records something about them");
}

security::Reach FederatedAuthorizer::ReachOf(const security::Principal& who, const security::Action& action) {
  if (!IsFederated(who)) return local_.ReachOf(who, action);
  security::Reach reach;  // everyone's records, narrowed to the one patient (none yet: a visitor registered)
  reach.only = who.patient;
  return reach;
}

}  // namespace ehr::federation
