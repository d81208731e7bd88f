// The role-based policy for `--auth on`: which role may do what to which resource types
// (the matrix in the README), in the tenant of the token, and whose records it reaches.
// Tenant isolation itself is the store's: every read and write is scoped to
// Principal::tenant.
//
// Reach (pipeline.h): DOCTOR and NURSE reach the patients they are assigned to (unless the
// server lets clinicians reach everyone), PATIENT their own record, GUARDIAN their ward's;
// the other roles reach every patient within the categories they may read. A user with
// several roles gets the union of what the roles allowing the action reach. Tokens whose
// patient/ scopes alone grant the action reach only the patient in context.
// Stateless and thread-safe.
#pragma once

#include <string_view>

#include "security/pipeline.h"

namespace ehr::security {

enum class Category { kClinical, kDemographic, kFinancial, kAudit, kDefinitional };

Category CategoryOf(std::string_view resource_type);

struct RolePolicyOptions {
  // DOCTOR and NURSE reach every patient (sites that do not record care assignments).
  bool clinicians_reach_all = false;
};

class RolePolicy final : public Authorizer {
 public:
  explicit RolePolicy(RolePolicyOptions options = {}) : options_(options) {}
  Status Authorize(const Principal& who, const Action& action) override;
  Reach ReachOf(const Principal& who, const Action& action) override;

 private:
  struct Decision {
    Status status;
    Reach reach;
  };
  Decision Decide(const Principal& who, const Action& action) const;
  Decision DecideByRole(const Principal& who, const Action& action) const;

  RolePolicyOptions options_;
};

// Whether resources of `type` can be in a patient's compartment (the patient's own type,
// or a type with a link in the R4 patient CompartmentDefinition).
bool InPatientCompartment(std::string_view type);

}  // namespace ehr::security
