// FHIR search end to end over a Synthea sample: a real server, the Bundles POSTed as
// transactions, every query of expected_counts.json asked over HTTP with every page walked.
// The expected numbers come from expected_counts.py, plain Python over the raw files.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "io/resource_files.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

// Whole query strings: their separators stay.
std::string PercentEncode(std::string_view s) { return UrlEncode(s, "-._~:/=&?,"); }

struct Walked {
  std::vector<json::Value> matches;
  std::vector<json::Value> included;
  std::set<std::string> urls;  // fullUrl of every match
  int pages = 0;
  int duplicates = 0;
  std::optional<int64_t> total;
};

class SearchSynthea : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    expected_ = new json::Value(ParseBody(ReadFile(std::string(std::getenv("EHR_SOURCE_DIR")) +
                                                   "/tests/search/expected_counts.json")));
    server_ = new TestServer();
    HttpClient client = server_->Client();
    for (const json::Value& file : expected_->Find("files")->as_array()) {
      const std::string path = SharedData() + "/synthea/" + file.as_string();
      Status st = io::ForEachDocument(path, [&](std::string&& text) {
        HttpResult r = client.Send("POST", "/fhir", text, kFhirJson);
        if (r.status != 200) return Status::Internal(path + ": HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300));
        return Status::Ok();
      });
      ASSERT_TRUE(st.ok()) << st.message();
    }
    // The value sets and code system the :in / :not-in / :below / :above queries name.
    for (const json::Value& r : expected_->Find("terminology")->as_array()) {
      HttpResult posted = client.Send("POST", "/fhir/" + std::string(r.GetString("resourceType")), json::Write(r), kFhirJson);
      ASSERT_EQ(posted.status, 201) << posted.body.substr(0, 300);
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete expected_;
  }

  // Follows `next` links from the first page to the last.
  static Walked Walk(const std::string& query, int count) {
    Walked w;
    HttpClient client = server_->Client();
    std::string target = "/fhir/" + PercentEncode(query) + (query.find('?') == std::string::npos ? "?" : "&") +
                         "_count=" + std::to_string(count);
    while (!target.empty() && w.pages < 10000) {
      HttpResult r = client.Get(target);
      EXPECT_EQ(r.status, 200) << query << ": " << r.body.substr(0, 500);
      if (r.status != 200) break;
      ++w.pages;
      json::Value bundle = ParseBody(r.body);
      if (const json::Value* total = bundle.Find("total"); total && w.pages == 1) w.total = total->as_int64();
      if (const json::Value* entries = bundle.Find("entry")) {
        for (const json::Value& e : entries->as_array()) {
          std::string mode(e.Find("search")->GetString("mode"));
          if (mode == "match") {
            if (!w.urls.insert(std::string(e.GetString("fullUrl"))).second) ++w.duplicates;
            w.matches.push_back(*e.Find("resource"));
          } else if (mode == "include") {
            w.included.push_back(*e.Find("resource"));
          }
        }
      }
      target.clear();
      if (const json::Value* links = bundle.Find("link")) {
        for (const json::Value& l : links->as_array()) {
          if (l.GetString("relation") == "next") {
            std::string url(l.GetString("url"));
            target = url.substr(url.find("/fhir"));
          }
        }
      }
    }
    return w;
  }

  static TestServer* server_;
  static json::Value* expected_;
};

TestServer* SearchSynthea::server_ = nullptr;
json::Value* SearchSynthea::expected_ = nullptr;

TEST_F(SearchSynthea, EveryQueryFindsWhatTheRawFilesHold) {
  for (const json::Value& q : expected_->Find("queries")->as_array()) {
    const std::string query(q.GetString("query"));
    const int64_t want = *q.Find("count")->as_int64();
    Walked w = Walk(query, 100);
    EXPECT_EQ(static_cast<int64_t>(w.matches.size()), want) << query;
    EXPECT_EQ(w.duplicates, 0) << query;
    if (w.total) {
      EXPECT_EQ(*w.total, want) << query << " (Bundle.total)";
    }
  }
}

TEST_F(SearchSynthea, SmallPagesReturnEachMatchOnce) {
  // 1832 vital signs in pages of 37: every match exactly once, whatever the page size.
  Walked w = Walk("Observation?category=vital-signs", 37);
  EXPECT_EQ(w.matches.size(), 1832u);
  EXPECT_EQ(w.urls.size(), 1832u);
  EXPECT_EQ(w.duplicates, 0);
  EXPECT_EQ(w.pages, (1832 + 36) / 37);
}

TEST_F(SearchSynthea, SortsByBirthDateAcrossPages) {
  std::vector<std::string> want;
  for (const json::Value& b : expected_->Find("sorted_birthdates")->as_array()) want.push_back(b.as_string());
  for (const char* query : {"Patient?_sort=birthdate", "Patient?_sort=-birthdate"}) {
    Walked w = Walk(query, 7);
    std::vector<std::string> got;
    for (const json::Value& p : w.matches) got.push_back(std::string(p.GetString("birthDate")));
    std::vector<std::string> expected = want;
    if (query[14] == '-') std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(got, expected) << query;
  }
}

TEST_F(SearchSynthea, IncludesAndRevIncludes) {
  for (const char* key : {"include", "revinclude"}) {
    const json::Value& spec = *expected_->Find(key);
    Walked w = Walk(std::string(spec.GetString("query")), 1000);
    EXPECT_EQ(static_cast<int64_t>(w.matches.size()), *spec.Find("matches")->as_int64()) << key;
    std::set<std::string> included;
    for (const json::Value& r : w.included) {
      included.insert(std::string(r.GetString("resourceType")) + "/" + std::string(r.GetString("id")));
    }
    EXPECT_EQ(static_cast<int64_t>(included.size()), *spec.Find("included")->as_int64()) << key;
  }
}

TEST_F(SearchSynthea, PatientCompartmentAndEverything) {
  const json::Value& spec = *expected_->Find("compartment");
  HttpClient client = server_->Client();
  HttpResult found = client.Get("/fhir/Patient?identifier=" + PercentEncode(std::string(spec.GetString("identifier"))));
  ASSERT_EQ(found.status, 200) << found.body;
  const std::string id(ParseBody(found.body).Find("entry")->as_array()[0].Find("resource")->GetString("id"));
  const int64_t all = *spec.Find("all")->as_int64();

  Walked star = Walk("Patient/" + id + "/*", 500);
  EXPECT_EQ(static_cast<int64_t>(star.matches.size()), all);
  EXPECT_EQ(star.duplicates, 0);
  EXPECT_EQ(star.total, all);
  for (const auto& [type, count] : spec.Find("types")->as_object()) {
    Walked w = Walk("Patient/" + id + "/" + type, 100);
    EXPECT_EQ(static_cast<int64_t>(w.matches.size()), *count.as_int64()) << type;
    EXPECT_EQ(w.total, *count.as_int64()) << type;
  }
  // Search parameters apply within the compartment.
  Walked encounters = Walk("Patient/" + id + "/Encounter?class=AMB,EMER,IMP", 100);
  EXPECT_LE(encounters.matches.size(), 30u);
  EXPECT_GT(encounters.matches.size(), 0u);

  // The chart: every compartment resource once over the pages, and the resources they refer
  // to that belong to no patient (practitioners, organizations, ...).
  Walked chart = Walk("Patient/" + id + "/$everything", 250);
  EXPECT_EQ(static_cast<int64_t>(chart.matches.size()), all);
  EXPECT_EQ(chart.duplicates, 0);
  EXPECT_EQ(chart.pages, (all + 249) / 250);
  std::set<std::string> included, included_types;
  for (const json::Value& r : chart.included) {
    included.insert(std::string(r.GetString("resourceType")) + "/" + std::string(r.GetString("id")));
    included_types.insert(std::string(r.GetString("resourceType")));
  }
  EXPECT_EQ(static_cast<int64_t>(included.size()), *spec.Find("included")->as_int64());
  std::set<std::string> want_types;
  for (const json::Value& t : spec.Find("included_types")->as_array()) want_types.insert(t.as_string());
  EXPECT_EQ(included_types, want_types);
  // _type narrows the matches and the included resources alike.
  Walked typed = Walk("Patient/" + id + "/$everything?_type=Encounter,Practitioner", 1000);
  EXPECT_EQ(static_cast<int64_t>(typed.matches.size()), *spec.Find("types")->Find("Encounter")->as_int64());
  for (const json::Value& r : typed.included) EXPECT_EQ(r.GetString("resourceType"), "Practitioner");
  EXPECT_FALSE(typed.included.empty());
  // _since: nothing changed after now.
  Walked since = Walk("Patient/" + id + "/$everything?_since=2999-01-01T00:00:00Z", 100);
  EXPECT_TRUE(since.matches.empty());

  // Type level: every patient's chart.
  HttpResult type_level = client.Get("/fhir/Patient/$everything?_count=1");
  ASSERT_EQ(type_level.status, 200) << type_level.body;
  EXPECT_EQ(ParseBody(type_level.body).Find("total")->as_int64(), *spec.Find("type_level")->as_int64());

  // Errors: a patient that does not exist, a type never in the compartment, bad values.
  EXPECT_EQ(client.Get("/fhir/Patient/nosuch/$everything").status, 404);
  EXPECT_EQ(client.Get("/fhir/Patient/" + id + "/Organization").status, 400);
  EXPECT_EQ(client.Get("/fhir/Patient/" + id + "/NoSuchType").status, 404);
  EXPECT_EQ(client.Get("/fhir/Encounter/x/Observation").status, 400);
  EXPECT_EQ(client.Get("/fhir/Patient/" + id + "/$everything?_since=yesterday").status, 400);
  EXPECT_EQ(client.Get("/fhir/Patient/" + id + "/$everything?nosuch=1").status, 400);
  EXPECT_EQ(client.Get("/fhir/Patient/" + id + "/Observation?code:nosuchmodifier=1").status, 400);
  EXPECT_EQ(client.Send("POST", "/fhir/Patient/" + id + "/Observation", "{}", kFhirJson).status, 405);
}

TEST_F(SearchSynthea, MalformedSearchesAreClearErrors) {
  HttpClient client = server_->Client();
  for (const char* vs : {R"({"resourceType":"ValueSet","url":"http://example.org/fhir/ValueSet/by-filter","status":"active",
                             "compose":{"include":[{"system":"http://snomed.info/sct",
                               "filter":[{"property":"concept","op":"is-a","value":"73211009"}]}]}})",
                         R"({"resourceType":"ValueSet","url":"http://example.org/fhir/ValueSet/loop-a","status":"active",
                             "compose":{"include":[{"valueSet":["http://example.org/fhir/ValueSet/loop-b"]}]}})",
                         R"({"resourceType":"ValueSet","url":"http://example.org/fhir/ValueSet/loop-b","status":"active",
                             "compose":{"include":[{"valueSet":["http://example.org/fhir/ValueSet/loop-a"]}]}})"}) {
    ASSERT_EQ(client.Send("POST", "/fhir/ValueSet", vs, kFhirJson).status, 201);
  }
  struct Case {
    const char* target;
    const char* expression;
  };
  for (const Case& c : {Case{"/fhir/Patient?birthdate=2013-13", "birthdate"},
                        Case{"/fhir/Patient?birthdate=xx2013", "birthdate"},
                        Case{"/fhir/Patient?_sort=birthdate,-", "_sort"},
                        Case{"/fhir/Patient?gender:exact=male", "gender:exact"},  // the parameter as written
                        Case{"/fhir/Observation?value-quantity=abc", "value-quantity"},
                        Case{"/fhir/Patient?_count=abc", "_count"},
                        // Value sets: unknown, or not expandable without a terminology server.
                        Case{"/fhir/Observation?code:in=http://example.org/fhir/ValueSet/nosuch", "code:in"},
                        Case{"/fhir/Observation?code:in=http://example.org/fhir/ValueSet/by-filter", "code:in"},
                        Case{"/fhir/Observation?code:not-in=http://example.org/fhir/ValueSet/loop-a", "code:not-in"},
                        Case{"/fhir/Observation?code:in=http://hl7.org/fhir/ValueSet/ucum-units", "code:in"},
                        // Hierarchies: a code system this server does not hold, a code not in it.
                        Case{"/fhir/Observation?code:below=http://loinc.org|8302-2", "code:below"},
                        Case{"/fhir/Condition?code:above=http://snomed.info/sct|999999", "code:above"}}) {
    HttpResult r = client.Get(c.target);
    EXPECT_EQ(r.status, 400) << c.target << " " << r.body;
    json::Value outcome = ParseBody(r.body);
    EXPECT_EQ(outcome.GetString("resourceType"), "OperationOutcome") << c.target;
    const json::Value* issues = outcome.Find("issue");
    ASSERT_TRUE(issues != nullptr && !issues->as_array().empty()) << c.target;
    const json::Value* expression = issues->as_array()[0].Find("expression");
    ASSERT_TRUE(expression != nullptr) << c.target << " " << r.body;
    EXPECT_EQ(expression->as_array()[0].as_string(), c.expression) << c.target;
  }
  // Unknown parameters: ignored and reported in the Bundle (lenient), or 400 when strict.
  HttpResult lenient = client.Get("/fhir/Patient?nosuch=1&gender=female");
  EXPECT_EQ(lenient.status, 200);
  EXPECT_NE(lenient.body.find("OperationOutcome"), std::string::npos);
  HttpResult strict = client.Get("/fhir/Patient?nosuch=1&gender=female", {{"Prefer", "handling=strict"}});
  EXPECT_EQ(strict.status, 400);
}

}  // namespace
}  // namespace ehr::testing
