// FHIR REST interactions over a real socket against a real server and SQLite file.
#include <gtest/gtest.h>

#include "fhir/json/value.h"
#include "fhir/model/model.h"
#include "fhir/validate/validate.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

const Headers& kJson = kFhirJson;
json::Value J(const std::string& text) { return ParseBody(text); }

std::string FirstExpression(const HttpResult& r) {
  json::Value oo = J(r.body);
  const json::Value* issues = oo.Find("issue");
  if (!issues || !issues->is_array() || issues->as_array().empty()) return "";
  const json::Value* expr = issues->as_array()[0].Find("expression");
  return expr && expr->is_array() && !expr->as_array().empty() ? expr->as_array()[0].as_string() : "";
}

class RestTest : public ::testing::Test {
 protected:
  TestServer server_;
  HttpClient c_ = server_.Client();

  HttpResult Post(const std::string& path, const std::string& body, Headers h = kJson) {
    return c_.Send("POST", "/fhir/" + path, body, h);
  }
  HttpResult Put(const std::string& path, const std::string& body, Headers h = kJson) {
    return c_.Send("PUT", "/fhir/" + path, body, h);
  }
  std::string CreatePatient(const std::string& family = "Smith", const std::string& ident = "") {
    std::string body = R"({"resourceType":"Patient","name":[{"family":")" + family + R"("}])";
    if (!ident.empty()) body += R"(,"identifier":[{"system":"urn:oid:1.2.3","value":")" + ident + R"("}])";
    body += "}";
    auto r = Post("Patient", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(J(r.body).GetString("id"));
  }
};

TEST_F(RestTest, CreateReadUpdateDeleteLifecycle) {
  auto created = Post("Patient", R"({"resourceType":"Patient","id":"ignored","birthDate":"1970-01-01"})");
  ASSERT_EQ(created.status, 201) << created.body;
  json::Value body = J(created.body);
  std::string id(body.GetString("id"));
  EXPECT_NE(id, "ignored");  // the server assigns ids on create
  EXPECT_EQ(created.Header("ETag"), "W/\"1\"");
  EXPECT_EQ(created.Header("Location"), server_.base() + "/Patient/" + id + "/_history/1");
  EXPECT_EQ(body.Find("meta")->GetString("versionId"), "1");
  EXPECT_FALSE(body.Find("meta")->GetString("lastUpdated").empty());

  auto read = c_.Get("/fhir/Patient/" + id);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, created.body);  // stored bytes served as they are
  EXPECT_EQ(read.Header("Content-Type"), "application/fhir+json; charset=utf-8");

  auto updated = Put("Patient/" + id, R"({"resourceType":"Patient","id":")" + id + R"(","birthDate":"1971-02-03"})");
  EXPECT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Header("ETag"), "W/\"2\"");

  auto v1 = c_.Get("/fhir/Patient/" + id + "/_history/1");
  EXPECT_EQ(v1.status, 200);
  EXPECT_EQ(J(v1.body).GetString("birthDate"), "1970-01-01");
  EXPECT_EQ(c_.Get("/fhir/Patient/" + id + "/_history/9").status, 404);

  auto del = c_.Send("DELETE", "/fhir/Patient/" + id);
  EXPECT_EQ(del.status, 204);
  auto gone = c_.Get("/fhir/Patient/" + id);
  EXPECT_EQ(gone.status, 410);
  EXPECT_NE(gone.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(c_.Send("DELETE", "/fhir/Patient/" + id).status, 204);  // idempotent
  EXPECT_EQ(c_.Get("/fhir/Patient/does-not-exist").status, 404);

  auto history = J(c_.Get("/fhir/Patient/" + id + "/_history").body);
  EXPECT_EQ(history.GetString("type"), "history");
  const auto& entries = history.Find("entry")->as_array();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].Find("request")->GetString("method"), "DELETE");
  EXPECT_EQ(entries[0].Find("resource"), nullptr);
  EXPECT_EQ(entries[1].Find("request")->GetString("method"), "PUT");
  EXPECT_EQ(entries[2].Find("request")->GetString("method"), "POST");

  // Update as create of a deleted resource brings it back with a new version.
  auto revived = Put("Patient/" + id, R"({"resourceType":"Patient","id":")" + id + R"("})");
  EXPECT_EQ(revived.status, 201);
  EXPECT_EQ(revived.Header("ETag"), "W/\"4\"");
}

TEST_F(RestTest, UpdateAsCreateWithClientId) {
  auto r = Put("Patient/my-id-1", R"({"resourceType":"Patient","id":"my-id-1"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(c_.Get("/fhir/Patient/my-id-1").status, 200);
}

TEST_F(RestTest, OptimisticLockingWithIfMatch) {
  std::string id = CreatePatient();
  std::string body = R"({"resourceType":"Patient","id":")" + id + R"("})";
  EXPECT_EQ(Put("Patient/" + id, body, {{"Content-Type", "application/fhir+json"}, {"If-Match", "W/\"1\""}}).status, 200);
  auto stale = Put("Patient/" + id, body, {{"Content-Type", "application/fhir+json"}, {"If-Match", "W/\"1\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_NE(stale.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(J(c_.Get("/fhir/Patient/" + id).body).Find("meta")->GetString("versionId"), "2");
  EXPECT_EQ(c_.Send("DELETE", "/fhir/Patient/" + id, "", {{"If-Match", "W/\"1\""}}).status, 412);
  EXPECT_EQ(Put("Patient/" + id, body, {{"Content-Type", "application/fhir+json"}, {"If-Match", "garbage"}}).status, 400);
}

TEST_F(RestTest, ConditionalReads) {
  std::string id = CreatePatient();
  auto read = c_.Get("/fhir/Patient/" + id);
  EXPECT_EQ(c_.Get("/fhir/Patient/" + id, {{"If-None-Match", "W/\"1\""}}).status, 304);
  EXPECT_EQ(c_.Get("/fhir/Patient/" + id, {{"If-None-Match", "W/\"0\""}}).status, 200);
  EXPECT_EQ(c_.Get("/fhir/Patient/" + id, {{"If-Modified-Since", read.Header("Last-Modified")}}).status, 304);
  EXPECT_EQ(c_.Get("/fhir/Patient/" + id, {{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status, 200);
}

TEST_F(RestTest, ConditionalCreateUpdateDelete) {
  Headers h = {{"Content-Type", "application/fhir+json"}, {"If-None-Exist", "identifier=urn:oid:1.2.3|A1"}};
  std::string body = R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"A1"}]})";
  auto first = Post("Patient", body, h);
  EXPECT_EQ(first.status, 201);
  auto second = Post("Patient", body, h);
  EXPECT_EQ(second.status, 200);  // matched: nothing created
  EXPECT_EQ(J(second.body).GetString("id"), J(first.body).GetString("id"));
  auto search = J(c_.Get("/fhir/Patient?identifier=urn:oid:1.2.3|A1").body);
  EXPECT_EQ(search.Find("total")->number_text(), "1");

  // Conditional update: the match gets version 2; no match creates.
  auto cu = Put("Patient?identifier=urn:oid:1.2.3|A1",
                R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"A1"}],"active":true})");
  EXPECT_EQ(cu.status, 200) << cu.body;
  EXPECT_EQ(J(cu.body).GetString("id"), J(first.body).GetString("id"));
  auto cc = Put("Patient?identifier=urn:oid:1.2.3|B2",
                R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"B2"}]})");
  EXPECT_EQ(cc.status, 201) << cc.body;

  // Several matches: 412 for conditional create, update and delete.
  CreatePatient("X", "DUP");
  CreatePatient("Y", "DUP");
  Headers dup = {{"Content-Type", "application/fhir+json"}, {"If-None-Exist", "identifier=DUP"}};
  EXPECT_EQ(Post("Patient", R"({"resourceType":"Patient"})", dup).status, 412);
  EXPECT_EQ(c_.Send("DELETE", "/fhir/Patient?identifier=DUP").status, 412);
  EXPECT_EQ(c_.Send("DELETE", "/fhir/Patient?identifier=urn:oid:1.2.3|B2").status, 204);
  EXPECT_EQ(J(c_.Get("/fhir/Patient?identifier=B2").body).Find("total")->number_text(), "0");
  // Unknown criteria are a clear 400, never ignored (that would widen the condition).
  auto bad = Post("Patient", body, {{"Content-Type", "application/fhir+json"}, {"If-None-Exist", "nosuch=smith"}});
  EXPECT_EQ(bad.status, 400);
  // Any search parameter works as a condition: the second create with the same family
  // name finds the first instead of creating.
  std::string smith = R"({"resourceType":"Patient","name":[{"family":"Smithers"}]})";
  Headers by_name = {{"Content-Type", "application/fhir+json"}, {"If-None-Exist", "family:exact=Smithers"}};
  EXPECT_EQ(Post("Patient", smith, by_name).status, 201);
  EXPECT_EQ(Post("Patient", smith, by_name).status, 200);
}

// _list end to end: the List is indexed like any resource, and its items are found.
TEST_F(RestTest, SearchByList) {
  const std::string a = CreatePatient("Ames");
  const std::string b = CreatePatient("Bell");
  CreatePatient("Cole");
  auto list = Put("List/visit", R"({"resourceType":"List","id":"visit","status":"current","mode":"working","entry":[)"
                                R"({"item":{"reference":"Patient/)" + a + R"("}},{"item":{"reference":"Patient/)" + b +
                                    R"("}}]})");
  ASSERT_EQ(list.status, 201) << list.body;
  auto found = J(c_.Get("/fhir/Patient?_list=visit&name=bell").body);
  EXPECT_EQ(found.Find("total")->number_text(), "1");
  EXPECT_EQ(J(c_.Get("/fhir/Patient?_list=visit").body).Find("total")->number_text(), "2");
  EXPECT_EQ(J(c_.Get("/fhir/Patient?_list=other").body).Find("total")->number_text(), "0");
  auto functional = c_.Get("/fhir/Patient?_list=$current-problems");
  EXPECT_EQ(functional.status, 400);
  EXPECT_EQ(FirstExpression(functional), "_list");
}

TEST_F(RestTest, PreferReturn) {
  std::string body = R"({"resourceType":"Patient"})";
  auto minimal = Post("Patient", body, {{"Content-Type", "application/fhir+json"}, {"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 201);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_FALSE(minimal.Header("Location").empty());
  auto oo = Post("Patient", body, {{"Content-Type", "application/fhir+json"}, {"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(J(oo.body).GetString("resourceType"), "OperationOutcome");
}

TEST_F(RestTest, JsonPatch) {
  std::string id = CreatePatient("Before");
  Headers ph = {{"Content-Type", "application/json-patch+json"}};
  auto ok = c_.Send("PATCH", "/fhir/Patient/" + id,
                    R"([{"op":"replace","path":"/name/0/family","value":"After"},{"op":"add","path":"/active","value":true}])", ph);
  EXPECT_EQ(ok.status, 200) << ok.body;
  json::Value p = J(c_.Get("/fhir/Patient/" + id).body);
  EXPECT_EQ(p.Find("name")->as_array()[0].GetString("family"), "After");
  EXPECT_EQ(p.Find("meta")->GetString("versionId"), "2");
  auto failed_test = c_.Send("PATCH", "/fhir/Patient/" + id, R"([{"op":"test","path":"/active","value":false}])", ph);
  EXPECT_EQ(failed_test.status, 422);
  auto invalid_result = c_.Send("PATCH", "/fhir/Patient/" + id, R"([{"op":"add","path":"/gender","value":"robot"}])", ph);
  EXPECT_EQ(invalid_result.status, 400);
  EXPECT_EQ(FirstExpression(invalid_result), "Patient.gender");
  EXPECT_EQ(c_.Send("PATCH", "/fhir/Patient/" + id, "[]", kJson).status, 415);
  EXPECT_EQ(J(c_.Get("/fhir/Patient/" + id).body).Find("meta")->GetString("versionId"), "2");  // nothing changed
}

TEST_F(RestTest, BadInputIsA4xxWithLocationAndChangesNothing) {
  struct Case {
    std::string method, path, body;
    Headers headers;
    int status;
    std::string expression;
  };
  std::vector<Case> cases = {
      {"POST", "Patient", "{not json", kJson, 400, ""},
      {"POST", "Patient", R"({"resourceType":"Observation","status":"final","code":{}})", kJson, 400, "Observation.resourceType"},
      {"POST", "Patient", R"({"resourceType":"Patient","birthDate":"1970-02-30"})", kJson, 400, "Patient.birthDate"},
      {"POST", "Patient", R"({"resourceType":"Patient","gender":"robot"})", kJson, 400, "Patient.gender"},
      {"POST", "Patient", R"({"resourceType":"Patient","active":"true"})", kJson, 400, "Patient.active"},
      {"POST", "Patient", R"({"resourceType":"Patient","nickname":"x"})", kJson, 400, "Patient.nickname"},
      {"POST", "Observation", R"({"resourceType":"Observation","code":{"text":"x"}})", kJson, 400, "Observation.status"},
      {"POST", "Observation",
       R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true})",
       kJson, 400, ""},
      {"PUT", "Patient/abc", R"({"resourceType":"Patient","id":"xyz"})", kJson, 400, "Patient.id"},
      {"PUT", "Patient/abc", R"({"resourceType":"Patient"})", kJson, 400, "Patient.id"},
      {"POST", "Patient", R"(<Patient xmlns="http://hl7.org/fhir"/>)", {{"Content-Type", "application/fhir+xml"}}, 415, ""},
      {"POST", "NotAType", R"({"resourceType":"NotAType"})", kJson, 404, ""},
      {"POST", "Patient", "", kJson, 400, ""},
  };
  for (const auto& c : cases) {
    auto r = c_.Send(c.method, "/fhir/" + c.path, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body << " -> " << r.body;
    EXPECT_EQ(J(r.body).GetString("resourceType"), "OperationOutcome") << c.body;
    if (!c.expression.empty()) {
      EXPECT_EQ(FirstExpression(r), c.expression) << c.body << " -> " << r.body;
    }
  }
  auto history = J(c_.Get("/fhir/_history").body);
  EXPECT_EQ(history.Find("entry"), nullptr);  // nothing was stored, and FHIR JSON has no empty arrays
  EXPECT_TRUE(fhir::ValidateResource(history).ok());
  EXPECT_EQ(c_.Get("/fhir/Patient/abc?_format=xml").status, 406);
  EXPECT_EQ(c_.Get("/fhir/metadata", {{"Accept", "application/fhir+xml"}}).status, 406);
  EXPECT_EQ(c_.Get("/fhir/NotAType/1").status, 404);
  EXPECT_EQ(c_.Send("DELETE", "/fhir/metadata").status, 405);
}

TEST_F(RestTest, HistoryPagingIsStableWhileDataChanges) {
  for (int i = 0; i < 5; ++i) CreatePatient("P" + std::to_string(i));
  auto page1 = J(c_.Get("/fhir/Patient/_history?_count=2").body);
  ASSERT_EQ(page1.Find("entry")->as_array().size(), 2u);
  std::string next;
  for (const auto& link : page1.Find("link")->as_array()) {
    if (link.GetString("relation") == "next") next = std::string(link.GetString("url"));
  }
  ASSERT_FALSE(next.empty());
  CreatePatient("Newcomer");  // must not shift the next page
  std::string path = next.substr(next.find("/fhir/"));
  auto page2 = J(c_.Get(path).body);
  const auto& e1 = page1.Find("entry")->as_array();
  const auto& e2 = page2.Find("entry")->as_array();
  ASSERT_EQ(e2.size(), 2u);
  EXPECT_EQ(e2[0].Find("resource")->Find("name")->as_array()[0].GetString("family"), "P2");
  EXPECT_EQ(e1[1].Find("resource")->Find("name")->as_array()[0].GetString("family"), "P3");
  // _since filters; a malformed _since is a 400.
  EXPECT_EQ(c_.Get("/fhir/_history?_since=2999-01-01T00:00:00Z").status, 200);
  EXPECT_EQ(J(c_.Get("/fhir/_history?_since=2999-01-01T00:00:00Z").body).Find("entry"), nullptr);
  EXPECT_EQ(c_.Get("/fhir/_history?_since=yesterday").status, 400);
  EXPECT_EQ(J(c_.Get("/fhir/_history?_count=100").body).Find("entry")->as_array().size(), 6u);
}

TEST_F(RestTest, SearchCursorsAreSealed) {
  for (const char* family : {"Zeta", "Alpha", "Mu"}) CreatePatient(family);
  auto page1 = J(c_.Get("/fhir/Patient?_sort=family&_count=1").body);
  std::string next;
  for (const auto& link : page1.Find("link")->as_array()) {
    if (link.GetString("relation") == "next") next = std::string(link.GetString("url"));
  }
  ASSERT_FALSE(next.empty());
  // The link names the page's last row by its sort value inside the cursor: never in clear.
  EXPECT_EQ(next.find("alpha"), std::string::npos) << next;
  EXPECT_EQ(next.find("Alpha"), std::string::npos) << next;
  const std::string path = next.substr(next.find("/fhir/"));
  auto page2 = J(c_.Get(path).body);
  EXPECT_EQ(page2.Find("entry")->as_array()[0].Find("resource")->Find("name")->as_array()[0].GetString("family"), "Mu");
  // A changed cursor is a 400 naming _cursor, and reads nothing.
  std::string tampered = path;
  const size_t at = tampered.find("_cursor=") + 10;
  tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
  auto r = c_.Get(tampered);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(FirstExpression(r), "_cursor");
}

TEST_F(RestTest, CapabilityStatementTellsTheTruth) {
  auto r = c_.Get("/fhir/metadata");
  ASSERT_EQ(r.status, 200);
  json::Value cs = J(r.body);
  EXPECT_EQ(cs.GetString("resourceType"), "CapabilityStatement");
  EXPECT_EQ(cs.GetString("fhirVersion"), "4.0.1");
  const auto& resources = cs.Find("rest")->as_array()[0].Find("resource")->as_array();
  EXPECT_EQ(resources.size(), fhir::ResourceTypes().size());  // every resource type of the model
  bool patient_has_identifier = false;
  for (const auto& res : resources) {
    if (res.GetString("type") != "Patient") continue;
    for (const auto& sp : res.Find("searchParam")->as_array()) patient_has_identifier |= sp.GetString("name") == "identifier";
  }
  EXPECT_TRUE(patient_has_identifier);
}

TEST_F(RestTest, PrettyAndFormat) {
  std::string id = CreatePatient();
  auto pretty = c_.Get("/fhir/Patient/" + id + "?_pretty=true&_format=json");
  EXPECT_EQ(pretty.status, 200);
  EXPECT_NE(pretty.body.find("\n  \"resourceType\""), std::string::npos);
}

TEST(Routing, OnlyBoundedReadsRunOnTheIoThread) {
  auto req = [](std::string method, std::string path) {
    net::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
  };
  EXPECT_TRUE(api::FhirService::RunsOnIoThread(req("GET", "/healthz")));
  EXPECT_TRUE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient/123")));
  EXPECT_TRUE(api::FhirService::RunsOnIoThread(req("HEAD", "/fhir/Patient/123/_history/2")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("PUT", "/fhir/Patient/123")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient/123/_history")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient/_history")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient/_search")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient/1/$everything")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/metadata")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/_history")));
  EXPECT_FALSE(api::FhirService::RunsOnIoThread(req("GET", "/fhir/Patient/1/x/y")));
}

TEST_F(RestTest, HealthAndReadiness) {
  EXPECT_EQ(c_.Get("/healthz").status, 200);
  EXPECT_EQ(c_.Get("/readyz").status, 200);
  EXPECT_EQ(c_.Get("/nothing-here").status, 404);
}

}  // namespace
}  // namespace ehr::testing
