// The authenticate and authorize steps every request passes through.
//
// Until the identity issue lands both are pass-through, but the router already calls them
// for every request and every Bundle entry, so nothing can bypass them later. Implementations
// must be thread-safe (called concurrently from worker threads).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/http.h"

namespace ehr::security {

struct Principal {
  std::string subject;             // user or client id; "anonymous" when auth is off
  std::vector<std::string> roles;  // ADMIN, DOCTOR, ...
  std::string tenant;              // the tenant this request acts in
  bool authenticated = false;
  std::string session_id;          // the login this request belongs to (revocable)
  std::string username;
  std::string fhir_user;           // "Practitioner/1", "Patient/9"; empty when none
  std::string scope;               // granted scopes, space-separated
  std::string client_id;           // the SMART app or backend service acting; empty: none
  std::string patient;             // SMART launch context: the patient in context
  std::string encounter;
  // More actors that patients' consents may name for this requester, vouched for by the
  // authenticator: a federation's cross-border reads are "Organization/federation" and
  // "Organization/federation-REGION" (federation/vault_access.h), so that a Consent denying
  // that actor opts its patient out of cross-border sharing.
  std::vector<std::string> consent_actors;
  // An emergency this request is made in, asserted by whoever authenticated it: a
  // federation gateway whose clinician broke the glass there (purpose of use ETREAT). It
  // overrides consents like a break-glass declared here, and is audited as one.
  bool emergency = false;
  // Logged in with a password but a required second factor is not enrolled yet: the only
  // thing this principal may do is enrol one.
  bool mfa_enrollment_only = false;

  bool HasRole(std::string_view role) const {
    for (const auto& r : roles) {
      if (r == role) return true;
    }
    return false;
  }
};

// What a request wants to do; `interaction` uses the FHIR restful interaction codes
// (read, vread, update, patch, delete, history-instance, history-type, history-system,
// create, search-type, batch, transaction, capabilities).
struct Action {
  std::string interaction;
  std::string resource_type;  // empty for system-level interactions
  std::string id;             // empty when not about one resource
  // The patient whose compartment bounds the action (`/Patient/{id}/...`, $everything).
  std::string compartment_patient;
  // Other types whose data the action reads or tests: _include and _revinclude targets,
  // chained and _has types. "*" stands for every type.
  std::vector<std::string> also_reads;
};

// Whose records an allowed action may reach: every patient's, or the union of the sets
// named here, which the API layer resolves against the data (api/patient_reach.h) and
// applies to every read, search, include and write of resources in a patient compartment.
struct Reach {
  bool all = true;
  bool assigned = false;  // patients the practitioner (fhir_user) is assigned to: CareTeam, GP, active Encounter
  bool own = false;       // the principal's own Patient record (fhir_user "Patient/...")
  bool wards = false;     // the patient of the principal's RelatedPerson record (fhir_user)
  std::string only;       // when set: at most this one patient (SMART patient/ scopes)
  // SMART granular scopes: resources of these types only when they match one of the
  // queries (search parameters, "category=laboratory"). Apart from the patients.
  std::map<std::string, std::vector<std::string>> filters;
  bool Restricted() const { return !all || !only.empty(); }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<Principal> Authenticate(const net::Request& request) = 0;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Status Authorize(const Principal& who, const Action& action) = 0;
  // Whose records `action`, which Authorize allowed, may reach. Everyone's by default.
  virtual Reach ReachOf(const Principal&, const Action&) { return Reach{}; }
};

// Development only (`--auth off`): everyone is an anonymous principal of `tenant`.
class NoAuthentication final : public Authenticator {
 public:
  explicit NoAuthentication(std::string tenant) : tenant_(std::move(tenant)) {}
  Result<Principal> Authenticate(const net::Request&) override {
    Principal p;
    p.subject = "anonymous";
    p.tenant = tenant_;
    return p;
  }

 private:
  std::string tenant_;
};

class AllowAll final : public Authorizer {
 public:
  Status Authorize(const Principal&, const Action&) override { return Status::Ok(); }
};

}  // namespace ehr::security
