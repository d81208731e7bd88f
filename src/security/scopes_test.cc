// SMART scopes: every form the specification names, and the malformed ones that must grant
// nothing (suffix tricks, order, repetition, unknown types, granular queries not enforced).
#include "security/scopes.h"

#include <gtest/gtest.h>

namespace ehr::security {
namespace {

constexpr uint8_t kAll = kCreate | kRead | kUpdate | kDelete | kSearch;

TEST(Scopes, V1AndV2Forms) {
  Scopes s = ParseScopes("openid fhirUser launch/patient offline_access patient/Observation.read user/Patient.write "
                         "system/*.* user/Encounter.rs patient/Condition.cud");
  EXPECT_TRUE(s.openid && s.fhir_user && s.launch_patient && s.offline_access);
  EXPECT_FALSE(s.launch);
  EXPECT_TRUE(s.ignored.empty());
  EXPECT_TRUE(s.Grants(ScopeContext::kPatient, "Observation", kRead | kSearch));
  EXPECT_FALSE(s.Grants(ScopeContext::kPatient, "Observation", kUpdate));
  EXPECT_FALSE(s.Grants(ScopeContext::kUser, "Observation", kRead));  // patient/ is not user/
  EXPECT_TRUE(s.Grants(ScopeContext::kUser, "Patient", kCreate | kUpdate | kDelete));
  EXPECT_FALSE(s.Grants(ScopeContext::kUser, "Patient", kRead));
  EXPECT_TRUE(s.Grants(ScopeContext::kSystem, "Claim", kAll));
  EXPECT_TRUE(s.Grants(ScopeContext::kUser, "Encounter", kRead | kSearch));
  EXPECT_FALSE(s.Grants(ScopeContext::kUser, "Encounter", kCreate));
  EXPECT_TRUE(s.Grants(ScopeContext::kPatient, "Condition", kCreate | kUpdate | kDelete));
  EXPECT_EQ(PermissionLetters(kAll), "cruds");
}

TEST(Scopes, MalformedScopesGrantNothing) {
  for (std::string_view bad :
       {"user/Patient.rc",         // out of order
        "user/Patient.rrs",        // repeated
        "user/Patient.crudsx",     // unknown letter
        "user/Patient.",           // nothing
        "user/Patient",            // no permissions
        "user/Patient.read.write", // a suffix trick
        "user/Patient.readwrite",
        "user/Patient.cruds ",     // (trailing space is a separator: this one is fine)
        "admin/Patient.cruds",     // unknown context
        "user/Wizard.cruds",       // unknown type
        "user/patient.cruds",      // types are case-sensitive
        "user/*.cruds?x=1",        // granular: not enforced yet, so not granted
        "patient/Observation.rs?category=laboratory",
        "user//Patient.r", "/Patient.r", "user/.r", "USER/Patient.r"}) {
    Scopes s = ParseScopes(bad);
    const bool valid = bad == "user/Patient.cruds ";
    EXPECT_EQ(s.resources.size(), valid ? 1u : 0u) << bad;
    EXPECT_EQ(s.ignored.size(), valid ? 0u : 1u) << bad;
    EXPECT_EQ(s.Grants(ScopeContext::kUser, "Patient", kRead), valid) << bad;
  }
}

TEST(Scopes, IntersectionNeverWidens) {
  const Scopes account = ParseScopes("openid fhirUser user/*.cruds");
  EXPECT_EQ(account.Intersect(ParseScopes("user/Observation.rs user/Patient.read openid")),
            "openid user/Observation.rs user/Patient.rs");
  EXPECT_EQ(account.Intersect(ParseScopes("patient/Observation.rs")), "patient/Observation.rs");
  EXPECT_EQ(account.Intersect(ParseScopes("system/*.cruds offline_access")), "");
  const Scopes narrow = ParseScopes("user/Observation.rs");
  EXPECT_EQ(narrow.Intersect(ParseScopes("user/*.cruds")), "user/Observation.rs");  // * asked: what is held
  EXPECT_EQ(narrow.Intersect(ParseScopes("user/Patient.rs")), "");
}

}  // namespace
}  // namespace ehr::security

#include "security/rate_limit.h"

namespace ehr::security {
namespace {

TEST(RateLimiter, BucketsRefillAtTheRateUpToTheBurst) {
  ManualClock clock(1000000);
  RateLimiter limiter(clock);
  const RateLimit limit{2, 4};  // 2 per second, bursts of 4
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Take("a", limit), 0) << i;
  EXPECT_EQ(limiter.Take("a", limit), 500000) << "half a second until the next token";
  EXPECT_EQ(limiter.Take("b", limit), 0) << "keys are apart";
  clock.Advance(250000);
  EXPECT_EQ(limiter.Take("a", limit), 250000);
  clock.Advance(250000);
  EXPECT_EQ(limiter.Take("a", limit), 0);
  clock.Advance(60 * 1000000);  // long idle: no more than the burst
  for (int i = 0; i < 4; ++i) EXPECT_EQ(limiter.Take("a", limit), 0) << i;
  EXPECT_GT(limiter.Take("a", limit), 0);
  EXPECT_EQ(limiter.Take("a", RateLimit{}), 0) << "no rate: unlimited";
}

}  // namespace
}  // namespace ehr::security
