// _summary and _elements over HTTP: read, vread, search (matches and includes) and the GET
// entries of a batch, on official R4 examples stored in a real server.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "fhir/json/value.h"
#include "fhir/model/model.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr std::string_view kSubsettedSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

std::set<std::string> Keys(const json::Value& v) {
  std::set<std::string> keys;
  if (!v.is_object()) return keys;
  for (const json::Member& m : v.as_object()) keys.insert(m.first);
  return keys;
}

bool IsSubsetted(const json::Value& resource) {
  const json::Value* meta = resource.Find("meta");
  const json::Value* tags = meta != nullptr ? meta->Find("tag") : nullptr;
  if (tags == nullptr || !tags->is_array()) return false;
  for (const json::Value& tag : tags->as_array()) {
    if (tag.GetString("system") == kSubsettedSystem && tag.GetString("code") == "SUBSETTED") return true;
  }
  return false;
}

// The resources of a searchset Bundle with the given search mode.
std::vector<json::Value> Entries(const json::Value& bundle, std::string_view mode) {
  std::vector<json::Value> out;
  const json::Value* entries = bundle.Find("entry");
  if (entries == nullptr) return out;
  for (const json::Value& e : entries->as_array()) {
    if (e.Find("search")->GetString("mode") == mode) out.push_back(*e.Find("resource"));
  }
  return out;
}

class SummaryTest : public ::testing::Test {
 protected:
  static constexpr const char* kExamples[] = {"Patient-f201.json", "Patient-example.json",
                                              "Observation-blood-pressure.json"};

  void SetUp() override {
    for (const char* name : kExamples) {
      const std::string text = ReadFile(SharedData() + "/fhir-examples/" + name);
      json::Value resource = ParseBody(text);
      stored_[name] = resource;
      const std::string path =
          "/fhir/" + std::string(resource.GetString("resourceType")) + "/" + std::string(resource.GetString("id"));
      HttpResult put = c_.Send("PUT", path, text, kFhirJson);
      ASSERT_EQ(put.status, 201) << name << ": " << put.body;
    }
  }

  json::Value Get(const std::string& target, int status = 200) {
    HttpResult r = c_.Get(target);
    EXPECT_EQ(r.status, status) << target << ": " << r.body;
    return ParseBody(r.body);
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
  std::map<std::string, json::Value> stored_;
};

// Patient-f201 has summary elements and others; these are the R4 flags for its members.
const std::set<std::string> kF201Summary = {
    "resourceType", "id",     "meta",      "identifier",      "active",  "name",
    "telecom",      "gender", "birthDate", "deceasedBoolean", "address", "managingOrganization"};

TEST_F(SummaryTest, ReadSummaryTrueKeepsTheSummaryElements) {
  HttpResult r = c_.Get("/fhir/Patient/f201?_summary=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("ETag"), "W/\"1\"");
  json::Value patient = ParseBody(r.body);
  EXPECT_EQ(Keys(patient), kF201Summary);
  EXPECT_TRUE(IsSubsetted(patient));
  EXPECT_EQ(patient.Find("meta")->GetString("versionId"), "1");
  EXPECT_EQ(*patient.Find("name"), *stored_["Patient-f201.json"].Find("name"));

  // The expectation agrees with the model's flags: what was dropped is neither summary,
  // modifier nor mandatory, and what stayed is one of them.
  const fhir::TypeDef& type = *fhir::FindType("Patient");
  for (const json::Member& m : stored_["Patient-f201.json"].as_object()) {
    const fhir::ElementDef* e = fhir::FindElement(type, m.first);
    if (e == nullptr) continue;  // resourceType
    EXPECT_EQ(kF201Summary.count(m.first) == 1, e->is_summary || e->is_modifier || e->min > 0) << m.first;
  }
  for (const char* dropped : {"text", "communication", "contact", "photo", "maritalStatus", "multipleBirthBoolean"}) {
    EXPECT_EQ(patient.Find(dropped), nullptr) << dropped;
  }
}

TEST_F(SummaryTest, ReadOtherModes) {
  const json::Value& stored = stored_["Patient-f201.json"];
  json::Value text = Get("/fhir/Patient/f201?_summary=text");
  EXPECT_EQ(Keys(text), (std::set<std::string>{"resourceType", "id", "meta", "text"}));
  EXPECT_EQ(*text.Find("text"), *stored.Find("text"));
  EXPECT_TRUE(IsSubsetted(text));

  json::Value data = Get("/fhir/Patient/f201?_summary=data");
  std::set<std::string> expected = Keys(stored);
  expected.erase("text");
  expected.insert("meta");
  EXPECT_EQ(Keys(data), expected);
  EXPECT_TRUE(IsSubsetted(data));

  const HttpResult plain = c_.Get("/fhir/Patient/f201");
  EXPECT_EQ(c_.Get("/fhir/Patient/f201?_summary=false").body, plain.body);
  EXPECT_FALSE(IsSubsetted(ParseBody(plain.body)));

  json::Value elements = Get("/fhir/Patient/f201?_elements=gender,birthDate");
  EXPECT_EQ(Keys(elements), (std::set<std::string>{"resourceType", "id", "meta", "gender", "birthDate"}));
  EXPECT_TRUE(IsSubsetted(elements));
}

TEST_F(SummaryTest, VReadTakesTheSameParameters) {
  EXPECT_EQ(Get("/fhir/Patient/f201/_history/1?_summary=true"), Get("/fhir/Patient/f201?_summary=true"));
  EXPECT_EQ(Keys(Get("/fhir/Patient/f201/_history/1?_summary=text")),
            (std::set<std::string>{"resourceType", "id", "meta", "text"}));
}

TEST_F(SummaryTest, HistoryTakesTheSameParameters) {
  HttpResult del = c_.Send("DELETE", "/fhir/Observation/blood-pressure");
  ASSERT_EQ(del.status, 204) << del.body;
  for (const char* target : {"/fhir/Patient/f201/_history?_summary=true", "/fhir/Patient/_history?_summary=true",
                             "/fhir/_history?_summary=true&_count=1"}) {
    json::Value bundle = Get(target);
    for (const json::Value& e : bundle.Find("entry")->as_array()) {
      const json::Value* resource = e.Find("resource");
      if (resource == nullptr) continue;  // the deletion: no resource
      EXPECT_TRUE(IsSubsetted(*resource)) << target;
      if (resource->GetString("id") == "f201") {
        EXPECT_EQ(Keys(*resource), kF201Summary) << target;
      }
    }
    // Paging keeps the parameters.
    for (const json::Value& link : bundle.Find("link")->as_array()) {
      EXPECT_NE(link.GetString("url").find("_summary=true"), std::string_view::npos) << target;
    }
  }
  json::Value elements = Get("/fhir/Patient/f201/_history?_elements=gender");
  EXPECT_EQ(Keys(*elements.Find("entry")->as_array()[0].Find("resource")),
            (std::set<std::string>{"resourceType", "id", "meta", "gender"}));
}

TEST_F(SummaryTest, BadParametersAreA400) {
  for (const char* query : {"_summary=count", "_summary=yes", "_summary=true&_elements=name", "_elements=a%20b",
                            "_summary=true&_summary=false"}) {
    HttpResult r = c_.Get(std::string("/fhir/Patient/f201?") + query);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << query;
    EXPECT_EQ(c_.Get(std::string("/fhir/Patient/f201/_history/1?") + query).status, 400) << query;
    EXPECT_EQ(c_.Get(std::string("/fhir/Patient/f201/_history?") + query).status, 400) << query;
    EXPECT_EQ(c_.Get(std::string("/fhir/Patient?") + query).status, query == std::string("_summary=count") ? 200 : 400)
        << query;
  }
}

TEST_F(SummaryTest, SearchCutsMatchesAndIncludes) {
  json::Value read = Get("/fhir/Patient/f201?_summary=true");
  json::Value bundle = Get("/fhir/Patient?_id=f201&_summary=true");
  std::vector<json::Value> matches = Entries(bundle, "match");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0], read);

  bundle = Get("/fhir/Observation?_id=blood-pressure&_summary=true&_include=Observation:subject");
  matches = Entries(bundle, "match");
  std::vector<json::Value> included = Entries(bundle, "include");
  ASSERT_EQ(matches.size(), 1u);
  ASSERT_EQ(included.size(), 1u);
  EXPECT_TRUE(IsSubsetted(matches[0]));
  EXPECT_TRUE(IsSubsetted(included[0]));
  EXPECT_EQ(included[0].Find("text"), nullptr);
  const json::Value& observation = matches[0];
  EXPECT_EQ(Keys(observation),
            (std::set<std::string>{"resourceType", "id", "meta", "identifier", "basedOn", "status", "code", "subject",
                                   "effectiveDateTime", "performer", "component"}));
  // Observation.component stays, without its non-summary interpretation.
  const json::Array& components = observation.Find("component")->as_array();
  ASSERT_EQ(components.size(), 2u);
  for (const json::Value& component : components) {
    EXPECT_EQ(Keys(component), (std::set<std::string>{"code", "valueQuantity"}));
  }
  // The stored profile survives, the tag is added beside it.
  EXPECT_EQ(*observation.Find("meta")->Find("profile"),
            *stored_["Observation-blood-pressure.json"].Find("meta")->Find("profile"));

  json::Value data = Get("/fhir/Observation?_id=blood-pressure&_summary=data");
  ASSERT_EQ(Entries(data, "match").size(), 1u);
  EXPECT_EQ(Entries(data, "match")[0].Find("text"), nullptr);
  EXPECT_NE(Entries(data, "match")[0].Find("interpretation"), nullptr);

  json::Value count = Get("/fhir/Patient?_summary=count");
  EXPECT_EQ(count.Find("total")->as_int64(), 2);
  EXPECT_TRUE(Entries(count, "match").empty());

  json::Value whole = Get("/fhir/Patient?_id=f201&_summary=false");
  ASSERT_EQ(Entries(whole, "match").size(), 1u);
  EXPECT_FALSE(IsSubsetted(Entries(whole, "match")[0]));
  EXPECT_NE(Entries(whole, "match")[0].Find("communication"), nullptr);
}

TEST_F(SummaryTest, BatchReadEntriesTakeTheParameters) {
  HttpResult r = c_.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"request":{"method":"GET","url":"Patient/f201?_summary=true"}},
      {"request":{"method":"GET","url":"Patient/f201?_summary=count"}}]})",
                         kFhirJson);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value response = ParseBody(r.body);
  const json::Array& entries = response.Find("entry")->as_array();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(*entries[0].Find("resource"), Get("/fhir/Patient/f201?_summary=true"));
  EXPECT_EQ(entries[1].Find("response")->GetString("status").substr(0, 3), "400");
}

TEST_F(SummaryTest, CapabilityStatementNoLongerCallsSummaryUnsupported) {
  json::Value cs = Get("/fhir/metadata");
  const std::string documentation(cs.Find("rest")->as_array()[0].GetString("documentation"));
  EXPECT_EQ(documentation.find("_summary=true are not supported"), std::string::npos) << documentation;
  EXPECT_NE(documentation.find("_summary"), std::string::npos) << documentation;
}

}  // namespace
}  // namespace ehr::testing
