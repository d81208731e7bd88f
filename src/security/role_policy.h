// The role-based policy for `--auth on`: which role may do what to which resource types
// (the matrix in the README), in the tenant of the token. Tenant isolation itself is the
// store's: every read and write is scoped to Principal::tenant.
//
// Today the policy decides by role, resource category and interaction; a PATIENT is held
// to their own compartment through the paths that name it (`Patient/{own id}`,
// `Patient/{own id}/{type}`, `Patient/{own id}/$everything`). Per-resource rules (a
// clinician's assigned patients, guardians, consent, break-glass, SMART scopes) are to come.
// Stateless and thread-safe.
#pragma once

#include <string_view>

#include "security/pipeline.h"

namespace ehr::security {

enum class Category { kClinical, kDemographic, kFinancial, kAudit, kDefinitional };

Category CategoryOf(std::string_view resource_type);

class RolePolicy final : public Authorizer {
 public:
  Status Authorize(const Principal& who, const Action& action) override;
};

}  // namespace ehr::security
