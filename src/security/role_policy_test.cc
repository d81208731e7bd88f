// The role policy as a table: each role, each category, read and write, with the token
// scope that grants everything, so that only the roles decide (the README's matrix).
#include "security/role_policy.h"

#include <gtest/gtest.h>

namespace ehr::security {
namespace {

Principal As(std::string role, std::string scope = "user/*.cruds system/*.cruds") {
  Principal p;
  p.subject = "u";
  p.tenant = "t";
  p.authenticated = true;
  p.roles = {std::move(role)};
  p.scope = std::move(scope);
  return p;
}

TEST(RolePolicy, Matrix) {
  // Observation (clinical), Patient (demographic), Claim (financial), AuditEvent (audit),
  // ValueSet (definitional): "R" read, "W" write, "-" neither.
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"ADMIN", "- RW - R RW"},   {"DOCTOR", "RW RW - - R"}, {"NURSE", "RW RW - - R"},    {"CLERK", "- RW - - R"},
      {"BILLING", "- R RW - R"}, {"RESEARCHER", "- - - - R"}, {"SERVICE", "RW RW RW R RW"}, {"GUARDIAN", "- - - - -"},
      {"AUDITOR", "- - - R -"},
  };
  const char* types[] = {"Observation", "Patient", "Claim", "AuditEvent", "ValueSet"};
  RolePolicy policy;
  for (const auto& [role, cells] : rows) {
    size_t start = 0;
    for (const char* type : types) {
      size_t end = cells.find(' ', start);
      const std::string cell = cells.substr(start, end == std::string::npos ? std::string::npos : end - start);
      start = end + 1;
      const bool read = cell.find('R') != std::string::npos;
      const bool write = cell.find('W') != std::string::npos;
      SCOPED_TRACE(role + " " + type);
      EXPECT_EQ(policy.Authorize(As(role), {"read", type, "1", "", {}}).ok(), read);
      EXPECT_EQ(policy.Authorize(As(role), {"search-type", type, "", "", {}}).ok(), read);
      EXPECT_EQ(policy.Authorize(As(role), {"create", type, "", "", {}}).ok(), write);
      EXPECT_EQ(policy.Authorize(As(role), {"delete", type, "1", "", {}}).ok(), write);
    }
  }
}

TEST(RolePolicy, ChainsAndHasNeedEveryTypeTheyTest) {
  RolePolicy policy;
  EXPECT_TRUE(policy.Authorize(As("CLERK"), {"search-type", "Patient", "", "", {"Practitioner"}}).ok());
  EXPECT_FALSE(policy.Authorize(As("CLERK"), {"search-type", "Patient", "", "", {"Observation"}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR"), {"search-type", "Observation", "", "", {"*"}}).ok());
  EXPECT_TRUE(policy.Authorize(As("SERVICE"), {"search-type", "Observation", "", "", {"*"}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR"), {"search-system", "", "", "", {}}).ok());
}

TEST(RolePolicy, ScopesNarrowRoles) {
  RolePolicy policy;
  EXPECT_TRUE(policy.Authorize(As("DOCTOR", "user/Observation.rs"), {"read", "Observation", "1", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR", "user/Observation.rs"), {"create", "Observation", "", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR", "user/Observation.rs"), {"read", "Patient", "1", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR", "user/Observation.r"), {"search-type", "Observation", "", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR", "user/Observation.rs"),
                                {"search-type", "Observation", "", "", {"Patient"}}).ok());
  EXPECT_FALSE(policy.Authorize(As("DOCTOR", ""), {"read", "Observation", "1", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(As("CLERK", "user/*.cruds"), {"read", "Observation", "1", "", {}}).ok());
  // patient/ scopes count only in the principal's own compartment.
  Principal me = As("PATIENT", "patient/*.rs");
  me.fhir_user = "Patient/9";
  EXPECT_TRUE(policy.Authorize(me, {"search-type", "Observation", "", "9", {}}).ok());
  EXPECT_TRUE(policy.Authorize(me, {"read", "Patient", "9", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"search-type", "Observation", "", "8", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"read", "Patient", "8", "", {}}).ok());
  EXPECT_TRUE(policy.Authorize(me, {"read", "ValueSet", "v", "", {}}).ok());
  Principal doctor = As("DOCTOR", "patient/*.rs");  // no patient of their own
  EXPECT_FALSE(policy.Authorize(doctor, {"search-type", "Observation", "", "9", {}}).ok());
}

TEST(RolePolicy, ReachFollowsTheRolesThatAllow) {
  RolePolicy policy;
  const Action read_obs{"read", "Observation", "1", "", {}};
  const Action read_patient{"read", "Patient", "1", "", {}};
  const Reach doctor = policy.ReachOf(As("DOCTOR"), read_obs);
  EXPECT_TRUE(!doctor.all && doctor.assigned && !doctor.own && !doctor.wards);
  EXPECT_TRUE(policy.ReachOf(As("NURSE"), read_obs).assigned);
  EXPECT_FALSE(policy.ReachOf(As("SERVICE"), read_obs).Restricted());
  EXPECT_FALSE(policy.ReachOf(As("CLERK"), read_patient).Restricted());
  EXPECT_FALSE(RolePolicy({.clinicians_reach_all = true}).ReachOf(As("DOCTOR"), read_obs).Restricted());
  // Several roles: the union of those that allow the action.
  Principal both = As("DOCTOR");
  both.roles.push_back("CLERK");
  EXPECT_FALSE(policy.ReachOf(both, read_patient).Restricted()) << "the clerk role reaches every demographic record";
  EXPECT_TRUE(policy.ReachOf(both, read_obs).Restricted()) << "only the doctor role allows clinical reads";
}

TEST(RolePolicy, PatientsAndGuardiansReadTheTypesOfARecord) {
  RolePolicy policy;
  Principal me = As("PATIENT");
  me.fhir_user = "Patient/9";
  EXPECT_TRUE(policy.Authorize(me, {"search-type", "Observation", "", "", {}}).ok());
  const Reach own = policy.ReachOf(me, {"read", "Observation", "1", "", {}});
  EXPECT_TRUE(!own.all && own.own && !own.assigned);
  EXPECT_TRUE(policy.Authorize(me, {"read", "Practitioner", "d", "", {}}).ok());
  EXPECT_TRUE(policy.Authorize(me, {"search-type", "Observation", "", "", {"Patient"}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"search-type", "AuditEvent", "", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"read", "Bundle", "b", "", {}}).ok()) << "in no compartment, not a directory";
  EXPECT_FALSE(policy.Authorize(me, {"search-system", "", "", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"history-type", "Observation", "", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"create", "Observation", "", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"read", "Patient", "8", "", {}}).ok());
  EXPECT_FALSE(policy.Authorize(me, {"search-type", "Observation", "", "8", {}}).ok());
  Principal guardian = As("GUARDIAN");
  EXPECT_FALSE(policy.Authorize(guardian, {"read", "Observation", "1", "", {}}).ok()) << "not linked";
  guardian.fhir_user = "RelatedPerson/r";
  EXPECT_TRUE(policy.Authorize(guardian, {"read", "Observation", "1", "", {}}).ok());
  EXPECT_TRUE(policy.ReachOf(guardian, {"read", "Observation", "1", "", {}}).wards);
  EXPECT_FALSE(policy.Authorize(guardian, {"update", "Observation", "1", "", {}}).ok());
}

TEST(RolePolicy, PatientScopesReachOnlyThePatientInContext) {
  RolePolicy policy;
  Principal app = As("DOCTOR", "patient/Observation.rs user/Practitioner.rs");
  app.patient = "9";
  EXPECT_EQ(policy.ReachOf(app, {"search-type", "Observation", "", "", {}}).only, "9");
  EXPECT_TRUE(policy.ReachOf(app, {"search-type", "Observation", "", "", {}}).assigned);
  EXPECT_FALSE(policy.Authorize(app, {"search-type", "Observation", "", "8", {}}).ok());
  EXPECT_TRUE(policy.ReachOf(app, {"read", "Practitioner", "d", "", {}}).only.empty()) << "a user/ scope grants it";
  Principal wide = As("SERVICE", "patient/*.rs");
  wide.patient = "9";
  const Reach r = policy.ReachOf(wide, {"read", "Encounter", "e", "", {}});
  EXPECT_TRUE(r.all && r.only == "9" && r.Restricted());
}

TEST(RolePolicy, UnauthenticatedAndEnrolmentOnlyPrincipals) {
  RolePolicy policy;
  Principal anonymous;
  EXPECT_EQ(policy.Authorize(anonymous, {"read", "Patient", "1", "", {}}).code(), Code::kUnauthorized);
  Principal enrolling = As("ADMIN");
  enrolling.mfa_enrollment_only = true;
  EXPECT_EQ(policy.Authorize(enrolling, {"read", "Patient", "1", "", {}}).code(), Code::kForbidden);
}

}  // namespace
}  // namespace ehr::security
