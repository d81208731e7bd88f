// SMART v2 granular scopes (`user/Observation.rs?category=laboratory`) over a real socket:
// a token reaches only the resources its queries match, on reads, vreads, history,
// searches and totals, chains, _has and includes; several queries are alternatives; a
// query that cannot run matches nothing; granular scopes grant no write.
#include <gtest/gtest.h>

#include "support/auth_fixture.h"

namespace ehr::testing {
namespace {

class GranularScopeTest : public AuthFixture {
 protected:
  GranularScopeTest() : AuthFixture(ReachAll()) {}
  static TestServerOptions ReachAll() {
    TestServerOptions o = Authenticated();
    o.clinicians_reach_all = true;
    return o;
  }
  void SetUp() override {
    SetUpService();
    patient_ = Create("Patient", R"({"resourceType":"Patient","gender":"female","name":[{"family":"Gee"}]})");
    other_ = Create("Patient", R"({"resourceType":"Patient","gender":"male","name":[{"family":"Hay"}]})");
    lab_ = Create("Observation", Observation(patient_, "laboratory", "718-7"));
    vital_ = Create("Observation", Observation(patient_, "vital-signs", "8867-4"));
    other_lab_ = Create("Observation", Observation(other_, "laboratory", "2345-7"));
    Add("house", {"DOCTOR"});
  }
  static std::string Observation(const std::string& patient, const std::string& category, const std::string& code) {
    return R"({"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":")" +
           category + R"("}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" + code +
           R"("}]},"subject":{"reference":"Patient/)" + patient + "\"}}";
  }
  static std::vector<std::string> Sorted(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::string TokenWith(const std::string& scope) {
    auto t = server_.identity()->MintTokens("house", scope, "");
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (t.ok()) {
      EXPECT_EQ(t->scope, scope) << "granted as asked";
    }
    return t.ok() ? t->access_token : "";
  }

  std::string patient_, other_, lab_, vital_, other_lab_;
};

TEST_F(GranularScopeTest, ATokenReachesWhatItsQueriesMatchOnEveryPath) {
  const std::string token = TokenWith("user/Observation.rs?category=laboratory user/Patient.rs");
  EXPECT_EQ(Status(token, "/fhir/Observation/" + lab_), 200);
  auto refused = As(token, "GET", "/fhir/Observation/" + vital_);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("granular scopes"), std::string::npos) << refused.body;
  EXPECT_EQ(Status(token, "/fhir/Observation/" + vital_ + "/_history/1"), 403);
  EXPECT_EQ(Status(token, "/fhir/Observation/" + vital_ + "/_history"), 403);
  EXPECT_EQ(Status(token, "/fhir/Observation/" + lab_ + "/_history"), 200);
  EXPECT_EQ(Status(token, "/fhir/Observation/_history"), 403) << "history across resources cannot be filtered";
  // Searches: matches and totals.
  auto all = As(token, "GET", "/fhir/Observation?_total=accurate");
  EXPECT_EQ(Ids(all, "Observation"), Sorted({lab_, other_lab_}));
  EXPECT_EQ(ParseBody(all.body).Find("total")->as_int64(), 2);
  EXPECT_EQ(Total(token, "/fhir/Observation?code=8867-4"), 0);
  EXPECT_EQ(Total(token, "/fhir/Observation?subject=Patient/" + patient_), 1);
  // _has tests only what the scope matches; includes leave the rest out.
  EXPECT_EQ(Total(token, "/fhir/Patient?_has:Observation:subject:code=8867-4"), 0);
  EXPECT_EQ(Total(token, "/fhir/Patient?_has:Observation:subject:code=718-7"), 1);
  auto chart = As(token, "GET", "/fhir/Patient?_id=" + patient_ + "&_revinclude=Observation:subject");
  EXPECT_EQ(Ids(chart, "Observation"), std::vector<std::string>{lab_});
  auto everything = As(token, "GET", "/fhir/Patient/" + patient_ + "/$everything?_type=Patient,Observation");
  EXPECT_EQ(everything.status, 200) << everything.body;
  EXPECT_EQ(Ids(everything, "Observation"), std::vector<std::string>{lab_});
}

TEST_F(GranularScopeTest, QueriesAreAlternativesAndChainsAreBoundToo) {
  // Females' records of any category, or any laboratory result: two alternatives for
  // observations; patients only female.
  const std::string token = TokenWith(
      "user/Observation.rs?category=laboratory user/Observation.rs?subject:Patient.gender=female "
      "user/Patient.rs?gender=female");
  auto all = As(token, "GET", "/fhir/Observation");
  EXPECT_EQ(Ids(all, "Observation"), Sorted({lab_, other_lab_, vital_}));
  EXPECT_EQ(Status(token, "/fhir/Patient/" + other_), 403);
  EXPECT_EQ(Total(token, "/fhir/Patient"), 1);
  // A chain tests only patients the scope matches.
  EXPECT_EQ(Total(token, "/fhir/Observation?subject:Patient.family=Hay"), 0);
  EXPECT_EQ(Total(token, "/fhir/Observation?subject:Patient.family=Gee"), 2);
}

TEST_F(GranularScopeTest, WhatCannotRunMatchesNothingAndWritesAreNotGranted) {
  const std::string broken = TokenWith("user/Observation.rs?no-such-parameter=1");
  EXPECT_EQ(Status(broken, "/fhir/Observation/" + lab_), 403);
  EXPECT_EQ(Total(broken, "/fhir/Observation"), 0);
  const std::string writer = TokenWith("user/Observation.cruds?category=laboratory");
  EXPECT_EQ(As(writer, "POST", "/fhir/Observation", Observation(patient_, "laboratory", "718-7")).status, 403);
  EXPECT_EQ(Status(writer, "/fhir/Observation/" + lab_), 200) << "reads it grants";
}

}  // namespace
}  // namespace ehr::testing
