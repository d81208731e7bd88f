// SMART scopes: every form the specification names, and the malformed ones that must grant
// nothing (suffix tricks, order, repetition, unknown types, granular queries on every type).
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
        "user/*.cruds?x=1",        // granular: on one type only
        "user/Patient.rs?",        // granular: an empty query
        "user/Patient.rs?gender",  // granular: no parameter=value
        "user/Patient.?gender=male",
        "user//Patient.r", "/Patient.r", "user/.r", "USER/Patient.r"}) {
    Scopes s = ParseScopes(bad);
    const bool valid = bad == "user/Patient.cruds ";
    EXPECT_EQ(s.resources.size(), valid ? 1u : 0u) << bad;
    EXPECT_EQ(s.ignored.size(), valid ? 0u : 1u) << bad;
    EXPECT_EQ(s.Grants(ScopeContext::kUser, "Patient", kRead), valid) << bad;
  }
}

TEST(Scopes, GranularScopesGrantOnlyWhatTheirQueriesMatch) {
  const Scopes s = ParseScopes("patient/Observation.rs?category=laboratory patient/Observation.s?category=vital-signs "
                               "patient/Condition.r patient/Condition.s?clinical-status=active");
  ASSERT_TRUE(s.ignored.empty());
  EXPECT_FALSE(s.Grants(ScopeContext::kPatient, "Observation", kRead)) << "not on every observation";
  EXPECT_EQ(s.GrantOf(ScopeContext::kPatient, "Observation", kRead), (Grant{{"category=laboratory"}}));
  EXPECT_EQ(s.GrantOf(ScopeContext::kPatient, "Observation", kSearch),
            (Grant{{"category=laboratory", "category=vital-signs"}}));
  EXPECT_EQ(s.GrantOf(ScopeContext::kPatient, "Observation", kCreate), std::nullopt);
  // With the read on every condition, the granular search grants search of active ones.
  EXPECT_EQ(s.GrantOf(ScopeContext::kPatient, "Condition", kRead), (Grant{std::vector<std::string>{}}));
  EXPECT_EQ(s.GrantOf(ScopeContext::kPatient, "Condition", kRead | kSearch), (Grant{{"clinical-status=active"}}));
  EXPECT_EQ(s.GrantOf(ScopeContext::kUser, "Observation", kRead), std::nullopt);
  EXPECT_EQ(Either(Grant{{"a=1"}}, Grant{{"b=2"}}), (Grant{{"a=1", "b=2"}}));
  EXPECT_EQ(Either(Grant{{"a=1"}}, Grant{std::vector<std::string>{}}), (Grant{std::vector<std::string>{}}));
  EXPECT_EQ(Either(std::nullopt, std::nullopt), std::nullopt);
  // Narrowing: a granular request of a wider grant keeps its query; two queries meet.
  EXPECT_EQ(ParseScopes("user/*.cruds").Intersect(ParseScopes("patient/Observation.rs?category=laboratory")),
            "patient/Observation.rs?category=laboratory");
  EXPECT_EQ(s.Intersect(ParseScopes("patient/Observation.rs")), "patient/Observation.rs?category=laboratory "
                                                                 "patient/Observation.s?category=vital-signs");
  EXPECT_EQ(ParseScopes("user/Observation.rs?code=1").Intersect(ParseScopes("user/Observation.r?status=final")),
            "user/Observation.r?code=1&status=final");
  EXPECT_EQ(ParseScopes("user/Observation.rs").Intersect(ParseScopes("user/Observation.rs user/Observation.rs?code=1")),
            "user/Observation.rs") << "covered by the unconditional grant";
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
