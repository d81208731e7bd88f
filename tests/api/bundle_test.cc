// batch and transaction Bundles, Idempotency-Key, and the absence of PHI in access logs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "api/service.h"
#include "core/log.h"
#include "fhir/json/value.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

const Headers& kJson = kFhirJson;
json::Value J(const std::string& text) { return ParseBody(text); }

int Total(HttpClient& c, const std::string& query) {
  json::Value b = J(c.Get("/fhir/" + query).body);
  const json::Value* t = b.Find("total");
  return t ? static_cast<int>(*t->as_int64()) : -1;
}

const char* kTransaction = R"({
  "resourceType": "Bundle", "type": "transaction",
  "entry": [
    {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
     "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:mrn", "value": "T1"}]},
     "request": {"method": "POST", "url": "Patient"}},
    {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
     "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
                  "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
                  "performer": [{"reference": "Practitioner?identifier=urn:npi|P9"}]},
     "request": {"method": "POST", "url": "Observation"}},
    {"resource": {"resourceType": "Patient", "id": "fixed-1", "active": true},
     "request": {"method": "PUT", "url": "Patient/fixed-1"}}
  ]})";

TEST(Bundle, TransactionRewritesUrnAndConditionalReferences) {
  TestServer server;
  HttpClient c = server.Client();
  auto pr = c.Send("POST", "/fhir/Practitioner",
                   R"({"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"P9"}]})", kJson);
  ASSERT_EQ(pr.status, 201);
  std::string practitioner_id(J(pr.body).GetString("id"));

  auto r = c.Send("POST", "/fhir", kTransaction, kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value out = J(r.body);
  EXPECT_EQ(out.GetString("type"), "transaction-response");
  const auto& entries = out.Find("entry")->as_array();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].Find("response")->GetString("status"), "201 Created");
  std::string location(entries[0].Find("response")->GetString("location"));
  std::string patient_id = location.substr(8, location.find("/_history") - 8);

  std::string obs_location(entries[1].Find("response")->GetString("location"));
  json::Value obs = J(c.Get("/fhir/" + obs_location.substr(0, obs_location.find("/_history"))).body);
  EXPECT_EQ(obs.Find("subject")->GetString("reference"), "Patient/" + patient_id);
  EXPECT_EQ(obs.Find("performer")->as_array()[0].GetString("reference"), "Practitioner/" + practitioner_id);
  EXPECT_EQ(c.Get("/fhir/Patient/fixed-1").status, 200);
}

TEST(Bundle, ConditionalReferenceThatChangesBeforeCommitFailsTheTransaction) {
  TestServer server;
  HttpClient c = server.Client();
  auto pr = c.Send("POST", "/fhir/Practitioner",
                   R"({"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"P9"}]})", kJson);
  ASSERT_EQ(pr.status, 201);
  api::RequestContext ctx = server.service().SystemContext();
  auto prepared = server.service().PrepareBundle(J(kTransaction), ctx);  // resolves P9 early
  ASSERT_TRUE(prepared.ok()) << prepared.status().message();
  std::string location = pr.Header("Location");
  ASSERT_EQ(c.Send("DELETE", location.substr(location.find("/fhir/"), location.find("/_history") - location.find("/fhir/"))).status, 204);
  auto committed = server.service().CommitBundle(**prepared, ctx);
  ASSERT_FALSE(committed.ok());
  EXPECT_EQ(committed.status().code(), Code::kConflict);
  EXPECT_EQ(Total(c, "Patient?identifier=urn:mrn|T1"), 0);  // nothing of it was stored
}

TEST(Bundle, StoredResourcesHaveCanonicalMetaFirst) {
  TestServer server;
  HttpClient c = server.Client();
  auto r = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"active":true,"meta":{"tag":[{"code":"t"}]},"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]})",
                  kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string location(J(r.body).Find("entry")->as_array()[0].Find("response")->GetString("location"));
  std::string body = c.Get("/fhir/" + location.substr(0, location.find("/_history"))).body;
  EXPECT_EQ(body.rfind(R"({"resourceType":"Patient","id":")", 0), 0u) << body;
  EXPECT_NE(body.find(R"(,"meta":{"versionId":"1","lastUpdated":")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("tag":[{"code":"t"}]},"active":true})"), std::string::npos) << body;
}

TEST(Bundle, FailedTransactionChangesNothing) {
  TestServer server;
  HttpClient c = server.Client();
  // No Practitioner with identifier P9 exists: the conditional reference fails the whole Bundle.
  auto r = c.Send("POST", "/fhir", kTransaction, kJson);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(J(r.body).GetString("resourceType"), "OperationOutcome");
  EXPECT_EQ(Total(c, "Patient?identifier=urn:mrn|T1"), 0);
  EXPECT_EQ(c.Get("/fhir/Patient/fixed-1").status, 404);

  // An invalid resource in entry 1 is reported with its location; nothing is stored.
  auto bad = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","id":"ok-1"},"request":{"method":"PUT","url":"Patient/ok-1"}},
      {"resource":{"resourceType":"Patient","birthDate":"1970-99-01"},"request":{"method":"POST","url":"Patient"}}]})",
                    kJson);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("Bundle.entry[1].resource.ofType(Patient).birthDate"), std::string::npos) << bad.body;
  EXPECT_EQ(c.Get("/fhir/Patient/ok-1").status, 404);
}

TEST(Bundle, BatchReportsEachEntry) {
  TestServer server;
  HttpClient c = server.Client();
  auto r = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"resource":{"resourceType":"Patient","id":"b1"},"request":{"method":"PUT","url":"Patient/b1"}},
      {"resource":{"resourceType":"Patient","gender":"robot"},"request":{"method":"POST","url":"Patient"}},
      {"request":{"method":"GET","url":"Patient/b1"}},
      {"request":{"method":"DELETE","url":"Patient/never-existed"}}]})",
                  kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value out = J(r.body);
  EXPECT_EQ(out.GetString("type"), "batch-response");
  const auto& e = out.Find("entry")->as_array();
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].Find("response")->GetString("status"), "201 Created");
  EXPECT_EQ(e[1].Find("response")->GetString("status"), "400 Bad Request");
  EXPECT_NE(e[1].Find("response")->Find("outcome"), nullptr);
  EXPECT_EQ(e[2].Find("response")->GetString("status"), "200 OK");
  EXPECT_EQ(e[2].Find("resource")->GetString("id"), "b1");
  EXPECT_EQ(e[3].Find("response")->GetString("status"), "404 Not Found");
  EXPECT_EQ(c.Get("/fhir/Patient/b1").status, 200);
}

// A search GET entry answers what GET /fhir/{type}?... would: exact total, paging links,
// _summary and _elements, and in a transaction the transaction's own writes.
TEST(Bundle, SearchEntriesAreFullSearches) {
  TestServer server;
  HttpClient c = server.Client();
  auto r = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","name":[{"family":"Quill"}],"gender":"female"},
       "request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Patient","name":[{"family":"Quill"}],"gender":"male"},
       "request":{"method":"POST","url":"Patient"}},
      {"resource":{"resourceType":"Patient","name":[{"family":"Quill"}]},"request":{"method":"POST","url":"Patient"}},
      {"request":{"method":"GET","url":"Patient?name=quill&_count=2"}},
      {"request":{"method":"GET","url":"Patient?name=quill&_summary=count"}},
      {"request":{"method":"GET","url":"Patient?name=quill&gender=male&_elements=gender"}}]})",
                  kJson);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::Value out = J(r.body);
  const auto& e = out.Find("entry")->as_array();
  ASSERT_EQ(e.size(), 6u);
  const json::Value& page = *e[3].Find("resource");
  EXPECT_EQ(page.GetString("type"), "searchset");
  EXPECT_EQ(page.Find("total")->number_text(), "3");
  EXPECT_EQ(page.Find("entry")->as_array().size(), 2u);
  std::string next;
  for (const json::Value& l : page.Find("link")->as_array()) {
    if (l.GetString("relation") == "next") next = std::string(l.GetString("url"));
  }
  ASSERT_FALSE(next.empty()) << "a next link, usable as a plain GET";
  json::Value second = J(c.Get(next.substr(next.find("/fhir/"))).body);
  EXPECT_EQ(second.Find("entry")->as_array().size(), 1u);
  const json::Value& count = *e[4].Find("resource");
  EXPECT_EQ(count.Find("total")->number_text(), "3");
  EXPECT_EQ(count.Find("entry"), nullptr);
  const auto& men = e[5].Find("resource")->Find("entry")->as_array();
  ASSERT_EQ(men.size(), 1u);
  EXPECT_EQ(men[0].Find("resource")->Find("name"), nullptr) << "_elements=gender";
  EXPECT_EQ(men[0].Find("resource")->GetString("gender"), "male");
  // An unknown parameter is an error in a Bundle, naming the entry.
  auto bad = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"batch","entry":[
      {"request":{"method":"GET","url":"Patient?nosuch=1"}}]})",
                    kJson);
  ASSERT_EQ(bad.status, 200) << bad.body;
  const json::Value bad_out = J(bad.body);
  const json::Value& outcome = *bad_out.Find("entry")->as_array()[0].Find("response");
  EXPECT_EQ(outcome.GetString("status"), "400 Bad Request");
  EXPECT_NE(json::Write(*outcome.Find("outcome")).find("Bundle.entry[0].request.url"), std::string::npos);
}

TEST(Bundle, RejectsWhatIsNotABatchOrTransaction) {
  TestServer server;
  HttpClient c = server.Client();
  EXPECT_EQ(c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"collection"})", kJson).status, 400);
  EXPECT_EQ(c.Send("POST", "/fhir", R"({"resourceType":"Patient"})", kJson).status, 400);
  auto missing = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]})", kJson);
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("Bundle.entry[0].request"), std::string::npos);
  auto misspelled = c.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","ensry":[]})", kJson);
  EXPECT_EQ(misspelled.status, 400);
  EXPECT_NE(misspelled.body.find("Bundle.ensry"), std::string::npos) << misspelled.body;
}

TEST(Idempotency, RetryGetsTheOriginalResponseAndCreatesNothing) {
  TestServer server;
  HttpClient c = server.Client();
  std::string body = R"({"resourceType":"Patient","identifier":[{"system":"urn:x","value":"IDEM"}]})";
  Headers h = {{"Content-Type", "application/fhir+json"}, {"Idempotency-Key", "key-123"}};
  auto first = c.Send("POST", "/fhir/Patient", body, h);
  ASSERT_EQ(first.status, 201);
  auto retry = c.Send("POST", "/fhir/Patient", body, h);
  EXPECT_EQ(retry.status, 201);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(retry.Header("Location"), first.Header("Location"));
  EXPECT_EQ(retry.Header("Idempotency-Replayed"), "true");
  EXPECT_EQ(Total(c, "Patient?identifier=IDEM"), 1);
  auto other = c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})", h);
  EXPECT_EQ(other.status, 422);
  // Transactions too.
  Headers th = {{"Content-Type", "application/fhir+json"}, {"Idempotency-Key", "tx-1"}};
  std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:x","value":"TX"}]},"request":{"method":"POST","url":"Patient"}}]})";
  auto t1 = c.Send("POST", "/fhir", tx, th);
  auto t2 = c.Send("POST", "/fhir", tx, th);
  EXPECT_EQ(t1.status, 200);
  EXPECT_EQ(t1.body, t2.body);
  EXPECT_EQ(Total(c, "Patient?identifier=TX"), 1);
  // Another tenant-less key space is not shared across keys: a new key creates again.
  Headers h2 = {{"Content-Type", "application/fhir+json"}, {"Idempotency-Key", "key-456"}};
  EXPECT_EQ(c.Send("POST", "/fhir/Patient", body, h2).status, 201);
  EXPECT_EQ(Total(c, "Patient?identifier=IDEM"), 2);
}

TEST(Idempotency, KeysExpireAfter24Hours) {
  ManualClock clock(1'800'000'000'000'000LL);
  TestServer server({.clock = &clock});
  HttpClient c = server.Client();
  Headers h = {{"Content-Type", "application/fhir+json"}, {"Idempotency-Key", "daily"}};
  std::string body = R"({"resourceType":"Patient","identifier":[{"system":"urn:x","value":"DAY"}]})";
  auto first = c.Send("POST", "/fhir/Patient", body, h);
  clock.Advance(23LL * 3600 * 1000000);
  auto replay = c.Send("POST", "/fhir/Patient", body, h);
  EXPECT_EQ(replay.Header("Location"), first.Header("Location"));
  clock.Advance(2LL * 3600 * 1000000);  // 25 hours after the first request
  auto fresh = c.Send("POST", "/fhir/Patient", body, h);
  EXPECT_EQ(fresh.status, 201);
  EXPECT_NE(fresh.Header("Location"), first.Header("Location"));
  EXPECT_EQ(Total(c, "Patient?identifier=DAY"), 2);
}

// What `ehr serve` runs every ten minutes: responses older than the window are deleted
// (they hold personal data and can no longer be replayed), younger ones stay, in writes
// of `batch`.
TEST(Idempotency, ExpiredResponsesAreDeleted) {
  ManualClock clock(1'800'000'000'000'000LL);
  TestServer server({.clock = &clock});
  HttpClient c = server.Client();
  auto post = [&](const std::string& key) {
    Headers h = {{"Content-Type", "application/fhir+json"}, {"Idempotency-Key", key}};
    return c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})", h).status;
  };
  for (int i = 0; i < 5; ++i) ASSERT_EQ(post("old-" + std::to_string(i)), 201);
  clock.Advance(20LL * 3600 * 1000000);
  ASSERT_EQ(post("young"), 201);
  clock.Advance(5LL * 3600 * 1000000);  // the old ones are 25 hours old, the young one 5

  const Micros day = 24LL * 3600 * 1000000;
  int calls = 0;
  auto stop_after_first = [&calls] { return calls++ > 0; };
  auto partial = api::ExpireIdempotency(server.store(), day, clock.Now(), stop_after_first, 2);
  ASSERT_TRUE(partial.ok()) << partial.status().message();
  EXPECT_EQ(*partial, 2) << "one write of 2, then stopped";
  auto rest = api::ExpireIdempotency(server.store(), day, clock.Now(), [] { return false; }, 2);
  ASSERT_TRUE(rest.ok()) << rest.status().message();
  EXPECT_EQ(*rest, 3);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(server.store().GetIdempotency("default", "old-" + std::to_string(i))->has_value()) << i;
  }
  EXPECT_TRUE(server.store().GetIdempotency("default", "young")->has_value());
  EXPECT_EQ(*api::ExpireIdempotency(server.store(), day, clock.Now(), [] { return false; }), 0);
}

TEST(AccessLog, CarriesRouteTemplatesAndNoPhi) {
  char path[] = "/tmp/ehr-log-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  {
    TestServer server({.log_fd = fd});
    HttpClient c = server.Client();
    auto r = c.Send("POST", "/fhir/Patient",
                    R"({"resourceType":"Patient","name":[{"family":"Zebedeus"}],"identifier":[{"system":"urn:nhs","value":"9434765919"}]})",
                    kJson);
    std::string id(J(r.body).GetString("id"));
    c.Get("/fhir/Patient/" + id);
    c.Get("/fhir/Patient?identifier=urn:nhs|9434765919");
    c.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Zebedeus"}],"birthDate":"bad"})", kJson);
    log::Flush();
    std::string log = ReadFile(path);
    EXPECT_NE(log.find("\"route\":\"/fhir/{type}/{id}\""), std::string::npos) << log;
    EXPECT_NE(log.find("\"request_id\""), std::string::npos);
    EXPECT_EQ(log.find("Zebedeus"), std::string::npos) << log;
    EXPECT_EQ(log.find("9434765919"), std::string::npos) << log;
    EXPECT_EQ(log.find(id), std::string::npos) << log;
  }
  close(fd);
  unlink(path);
}

}  // namespace
}  // namespace ehr::testing
