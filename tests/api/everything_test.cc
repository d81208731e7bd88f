// Patient/$everything's start and end (care dates) over a real socket: resources of types
// with a care date come only when it overlaps the range (either end open), types without
// one always come, paging keeps the range, and a bad date is a 400 naming the parameter.
#include <gtest/gtest.h>

#include <set>

#include "support/test_server.h"

namespace ehr::testing {
namespace {

class EverythingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Put("Patient/p", R"({"resourceType":"Patient","id":"p"})");
    Put("Observation/obs2020", Observation("obs2020", R"("effectiveDateTime":"2020-05-01")"));
    Put("Observation/obs2022", Observation("obs2022", R"("effectivePeriod":{"start":"2021-12-30","end":"2022-01-02"})"));
    Put("Observation/obs2023", Observation("obs2023", R"("effectiveDateTime":"2023-02-01T10:00:00Z")"));
    Put("Condition/c2019", R"({"resourceType":"Condition","id":"c2019","subject":{"reference":"Patient/p"},"onsetDateTime":"2019-07"})");
    Put("Condition/undated", R"({"resourceType":"Condition","id":"undated","subject":{"reference":"Patient/p"}})");
    Put("MedicationRequest/m2021",
        R"({"resourceType":"MedicationRequest","id":"m2021","status":"active","intent":"order","subject":{"reference":"Patient/p"},"medicationCodeableConcept":{"text":"x"},"authoredOn":"2021-03-04"})");
    Put("Coverage/cov",
        R"({"resourceType":"Coverage","id":"cov","status":"active","beneficiary":{"reference":"Patient/p"},"payor":[{"reference":"Patient/p"}]})");
  }
  static std::string Observation(const std::string& id, const std::string& when) {
    return R"({"resourceType":"Observation","id":")" + id +
           R"(","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"},)" + when + "}";
  }
  void Put(const std::string& path, const std::string& body) {
    auto r = c_.Send("PUT", "/fhir/" + path, body, kFhirJson);
    ASSERT_TRUE(r.status == 201 || r.status == 200) << path << ": " << r.body;
  }
  // Every match over all pages (following next links), as "Type/id".
  std::set<std::string> Chart(const std::string& query) {
    std::set<std::string> out;
    std::string next = "/fhir/Patient/p/$everything?_count=2" + (query.empty() ? "" : "&" + query);
    for (int pages = 0; !next.empty() && pages < 50; ++pages) {
      auto r = c_.Get(next);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      const json::Value page = ParseBody(r.body);
      next.clear();
      for (const auto& l : page.Find("link")->as_array()) {
        if (l.GetString("relation") == "next") {
          const std::string url(l.GetString("url"));
          next = url.substr(url.find("/fhir/"));
        }
      }
      if (const json::Value* entries = page.Find("entry")) {
        for (const auto& e : entries->as_array()) {
          const json::Value* res = e.Find("resource");
          if (res && e.Find("search") && e.Find("search")->GetString("mode") == "match") {
            out.insert(std::string(res->GetString("resourceType")) + "/" + std::string(res->GetString("id")));
          }
        }
      }
    }
    return out;
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
};

using Refs = std::set<std::string>;

TEST_F(EverythingTest, StartAndEndBoundTheCareDates) {
  EXPECT_EQ(Chart("").size(), 8u);
  EXPECT_EQ(Chart("start=2020-01-01&end=2021-12-31"),
            (Refs{"Coverage/cov", "MedicationRequest/m2021", "Observation/obs2020", "Observation/obs2022", "Patient/p"}))
      << "a period that overlaps the range counts; types without a care date always come";
  EXPECT_EQ(Chart("start=2022-01-01"), (Refs{"Coverage/cov", "Observation/obs2022", "Observation/obs2023", "Patient/p"}));
  EXPECT_EQ(Chart("end=2019-12-31"), (Refs{"Condition/c2019", "Coverage/cov", "Patient/p"}));
  EXPECT_EQ(Chart("start=2023-02-01T10:00:00Z&end=2023-02-01T10:00:00Z"),
            (Refs{"Coverage/cov", "Observation/obs2023", "Patient/p"}));
  EXPECT_EQ(Chart("start=2020-01-01&end=2021-12-31&_type=Observation,Condition"),
            (Refs{"Observation/obs2020", "Observation/obs2022"}));
}

TEST_F(EverythingTest, ABadDateIsA400NamingTheParameter) {
  auto bad = c_.Get("/fhir/Patient/p/$everything?start=last-tuesday");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"start\""), std::string::npos) << bad.body;
  EXPECT_EQ(c_.Get("/fhir/Patient/p/$everything?end=2020-13-45").status, 400);
}

}  // namespace
}  // namespace ehr::testing
