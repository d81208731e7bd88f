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
