// The audit log through the API, over HTTP with --auth on: what each kind of request
// records (writes in their transaction, reads and searches one entry per patient,
// denials, failed writes, logins), who may read the log (ADMIN and AUDITOR, not
// clinicians), that no one may write it, and tree heads and proofs that verify.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <set>

#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "core/base64.h"
#include "support/auth_fixture.h"

namespace ehr::testing {
namespace {

class AuditTest : public AuthFixture {
 protected:
  AuditTest() : AuthFixture(Options()) {}
  static TestServerOptions Options() {
    TestServerOptions o = Authenticated();
    o.clinicians_reach_all = true;
    // Unauthenticated requests: 5 recorded one by one in a window of 300 ms, the rest
    // together soon after it ends.
    o.unauthenticated_individually = 5;
    o.unauthenticated_window_ms = 300;
    o.unauthenticated_flush_ms = 50;
    return o;
  }
  std::string IdOf(const std::string& username) {
    auto users = server_.identity()->Users();
    for (const auto& u : *users) {
      if (u.username == username) return u.id;
    }
    return "";
  }

  void SetUp() override {
    SetUpService();
    Add("drx", {"DOCTOR"}, "Practitioner/dr1");
    Add("admin2", {"ADMIN"});
    Add("auditor", {"AUDITOR"});
    Add("clerk", {"CLERK"});
    dr_ = Token("drx");
    admin_ = Token("admin2");
    auditor_ = Token("auditor");
    clerk_ = Token("clerk");
    ada_ = Create("Patient", R"({"resourceType":"Patient","name":[{"family":"Lovelace","given":["Ada"]}]})");
    bob_ = Create("Patient", R"({"resourceType":"Patient","name":[{"family":"Babbage"}]})");
    obs_ = Create("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"pulse"},)"
                                 R"("subject":{"reference":"Patient/)" + ada_ + R"("}})");
    Create("Observation", R"({"resourceType":"Observation","status":"final","code":{"text":"pulse"},)"
                          R"("subject":{"reference":"Patient/)" + bob_ + R"("}})");
  }

  // The AuditEvents the query finds (as the auditor), newest first.
  std::vector<json::Value> Events(const std::string& query) {
    auto r = As(auditor_, "GET", "/fhir/AuditEvent?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json::Value> out;
    json::Value body = ParseBody(r.body);
    if (const json::Value* e = body.Find("entry")) {
      for (const json::Value& entry : e->as_array()) out.push_back(*entry.Find("resource"));
    }
    return out;
  }
  static std::string Subtype(const json::Value& ae) {
    return std::string(ae.Find("subtype")->as_array()[0].GetString("code"));
  }
  static std::set<std::string> Entities(const json::Value& ae) {
    std::set<std::string> out;
    if (const json::Value* e = ae.Find("entity")) {
      for (const json::Value& en : e->as_array()) {
        if (const json::Value* what = en.Find("what")) {
          if (!what->GetString("reference").empty()) out.emplace(what->GetString("reference"));
        }
      }
    }
    return out;
  }
  static std::string Who(const json::Value& ae) {
    const json::Value& user = ae.Find("agent")->as_array()[0];
    const json::Value* id = user.Find("who")->Find("identifier");
    return id ? std::string(id->GetString("value")) : "";
  }

  std::string dr_, admin_, auditor_, clerk_, ada_, bob_, obs_;
};

TEST_F(AuditTest, WritesReadsAndSearchesRecordWhoDidWhatToWhom) {
  // The SERVICE account's creates, one entry per version, in the patient's record.
  auto created = Events("patient=" + ada_ + "&action=C");
  ASSERT_EQ(created.size(), 2u);  // Ada's Patient and her Observation
  EXPECT_EQ(Subtype(created[0]), "create");
  EXPECT_TRUE(Entities(created[0]).count("Observation/" + obs_ + "/_history/1"));
  EXPECT_TRUE(Entities(created[0]).count("Patient/" + ada_));

  ASSERT_EQ(Status(dr_, "/fhir/Observation/" + obs_), 200);
  auto reads = Events("patient=" + ada_ + "&action=R");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(Subtype(reads[0]), "read");
  EXPECT_EQ(reads[0].Find("agent")->as_array()[0].Find("who")->GetString("reference"), "Practitioner/dr1");
  EXPECT_EQ(reads[0].Find("purposeOfEvent")->as_array()[0].Find("coding")->as_array()[0].GetString("code"), "TREAT");

  // A search over two patients' records: one entry for each, with the query.
  ASSERT_EQ(Status(dr_, "/fhir/Observation?code:text=pulse"), 200);
  for (const std::string& p : {ada_, bob_}) {
    auto searched = Events("patient=" + p + "&action=E");
    ASSERT_EQ(searched.size(), 1u) << p;
    EXPECT_EQ(Subtype(searched[0]), "search-type");
    const json::Value& query = searched[0].Find("entity")->as_array()[1];
    EXPECT_EQ(query.Find("role")->GetString("code"), "24");
    EXPECT_EQ(*Base64Decode(query.GetString("query")), "code:text=pulse");
  }
  // The agent parameter: everything the doctor did, newest first.
  auto by_dr = Events("agent=" + Who(reads[0]));
  ASSERT_GE(by_dr.size(), 3u);
  EXPECT_EQ(Subtype(by_dr[0]), "search-type");
}

// A Patient that links another is in both patients' records: its read is in both logs
// (regression: the Patient-read shortcut named the Patient read only).
TEST_F(AuditTest, AReadOfALinkedPatientIsInEachLinkedPatientsLog) {
  const std::string carol = Create("Patient", R"({"resourceType":"Patient","name":[{"family":"Herschel"}],)"
                                              R"("link":[{"other":{"reference":"Patient/)" + ada_ +
                                                  R"("},"type":"seealso"}]})");
  ASSERT_EQ(Status(dr_, "/fhir/Patient/" + carol), 200);
  for (const std::string& p : {carol, ada_}) {
    auto reads = Events("patient=" + p + "&action=R");
    ASSERT_EQ(reads.size(), 1u) << p;
    EXPECT_TRUE(Entities(reads[0]).count("Patient/" + carol + "/_history/1")) << p;
  }
  ASSERT_EQ(Status(dr_, "/fhir/Patient/" + bob_), 200);
  EXPECT_EQ(Events("patient=" + bob_ + "&action=R").size(), 1u) << "a Patient without links: its own log";
  EXPECT_EQ(Events("patient=" + ada_ + "&action=R").size(), 1u);
}

TEST_F(AuditTest, DenialsFailedWritesAndLoginsAreRecorded) {
  // A clerk may not read clinical data: the refusal is recorded, naming no patient.
  ASSERT_EQ(Status(clerk_, "/fhir/Observation/" + obs_), 403);
  auto refused = Events("action=R&agent=" + IdOf("clerk"));
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused[0].GetString("outcome"), "4");
  EXPECT_TRUE(Entities(refused[0]).empty()) << "a refusal names nothing the caller was refused";

  // A write that fails (If-Match conflict) changes nothing and records its failure.
  const size_t before = Events("patient=" + ada_ + "&action=U").size();
  auto conflict = As(dr_, "PUT", "/fhir/Patient/" + ada_,
                     R"({"resourceType":"Patient","id":")" + ada_ + R"(","active":true})", {{"If-Match", "W/\"7\""}});
  ASSERT_EQ(conflict.status, 412);
  EXPECT_EQ(Events("patient=" + ada_ + "&action=U").size(), before);
  auto failed = Events("action=U&_count=1");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].GetString("outcome"), "4");

  // Logins, a failed one, and a logout.
  auto bad = c_.Send("POST", "/auth/login", R"({"username":"drx","password":"wrong-password-1"})",
                     {{"Content-Type", "application/json"}});
  ASSERT_EQ(bad.status, 401);
  auto good = c_.Send("POST", "/auth/login", std::string(R"({"username":"drx","password":")") + kPassword + "\"}",
                      {{"Content-Type", "application/json"}});
  ASSERT_EQ(good.status, 200);
  const std::string token(ParseBody(good.body).GetString("access_token"));
  ASSERT_EQ(As(token, "POST", "/auth/logout").status, 200);
  auto security = Events("action=E&_count=3");
  ASSERT_EQ(security.size(), 3u);
  EXPECT_EQ(security[0].Find("subtype")->as_array()[0].GetString("code"), "110123");  // logout
  EXPECT_EQ(security[1].Find("subtype")->as_array()[0].GetString("code"), "110122");  // login
  EXPECT_EQ(security[1].GetString("outcome"), "0");
  EXPECT_EQ(security[2].GetString("outcome"), "4");  // the wrong password
}

// A flood of requests without a token: the first of each window are recorded one by one,
// the rest counted and recorded together as one entry for the address, so that the log
// grows by a few entries a window, not one a request.
TEST_F(AuditTest, AFloodOfUnauthenticatedRequestsIsRecordedTogether) {
  const size_t reads_before = Events("action=R&_count=500").size();
  for (int i = 0; i < 40; ++i) ASSERT_EQ(c_.Get("/fhir/Patient/" + ada_).status, 401);
  EXPECT_EQ(Events("action=R&_count=500").size() - reads_before, 5u) << "the first 5 of the window, one by one";
  std::vector<json::Value> tallies;
  for (int tries = 0; tries < 50 && tallies.empty(); ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const json::Value& e : Events("action=E&_count=100")) {
      if (json::Write(e).find("unauthenticated-tally") != std::string::npos) tallies.push_back(e);
    }
  }
  ASSERT_EQ(tallies.size(), 1u);
  EXPECT_EQ(tallies[0].GetString("outcome"), "4");
  EXPECT_EQ(tallies[0].GetString("outcomeDesc").rfind("35 more unauthenticated requests refused", 0), 0u)
      << json::Write(tallies[0]);
  EXPECT_NE(json::Write(tallies[0]).find("127.0.0.1"), std::string::npos) << "the address is named";
  // A new window records its first ones again.
  const size_t reads_after = Events("action=R&_count=500").size();
  ASSERT_EQ(c_.Get("/fhir/Patient/" + ada_).status, 401);
  EXPECT_EQ(Events("action=R&_count=500").size() - reads_after, 1u);
}

TEST_F(AuditTest, OnlyAuditorsAndAdministratorsReadTheLogAndNoOneWritesIt) {
  EXPECT_EQ(Status(dr_, "/fhir/AuditEvent"), 403);
  EXPECT_EQ(Status(clerk_, "/fhir/AuditEvent"), 403);
  EXPECT_EQ(Status(admin_, "/fhir/AuditEvent?_count=1"), 200);
  EXPECT_EQ(Status(auditor_, "/fhir/AuditEvent/0"), 200);
  EXPECT_EQ(Status(auditor_, "/fhir/AuditEvent/999999"), 404);
  EXPECT_EQ(Status(auditor_, "/fhir/AuditEvent?name=x"), 400);
  EXPECT_EQ(Status(auditor_, "/fhir/AuditEvent?date=yesterday"), 400);
  EXPECT_EQ(Status(auditor_, "/fhir/AuditEvent?date=ge2020-01-01"), 200);
  EXPECT_TRUE(Events("date=lt2020-01-01").empty());
  const std::string ae = R"({"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2020-01-01T00:00:00Z",)"
                         R"("agent":[{"requestor":true}],"source":{"observer":{"display":"x"}}})";
  for (const std::string& token : {service_, admin_}) {
    EXPECT_EQ(As(token, "POST", "/fhir/AuditEvent", ae).status, 405);
    EXPECT_EQ(As(token, "PUT", "/fhir/AuditEvent/0", ae).status, 405);
    EXPECT_EQ(As(token, "DELETE", "/fhir/AuditEvent/0").status, 405);
  }
  // Nor through a Bundle.
  auto bundle = As(service_, "POST", "/fhir",
                   R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + ae +
                       R"(,"request":{"method":"POST","url":"AuditEvent"}}]})");
  EXPECT_GE(bundle.status, 400) << bundle.body;
  // Paging: next links walk the whole log without repeats.
  std::set<std::string> seen;
  std::string path = "/fhir/AuditEvent?_count=3";
  for (int pages = 0; !path.empty() && pages < 100; ++pages) {
    auto r = As(admin_, "GET", path);
    ASSERT_EQ(r.status, 200);
    json::Value body = ParseBody(r.body);
    for (const auto& e : body.Find("entry") ? body.Find("entry")->as_array() : json::Array{}) {
      EXPECT_TRUE(seen.insert(std::string(e.Find("resource")->GetString("id"))).second);
    }
    path.clear();
    for (const auto& l : body.Find("link")->as_array()) {
      if (l.GetString("relation") == "next") path = std::string(l.GetString("url")).substr(server_.base().size() - 5);
    }
  }
  EXPECT_GE(seen.size(), 8u);
}

TEST_F(AuditTest, TreeHeadsAndProofsVerifyWithThePublicKey) {
  ASSERT_EQ(Status(dr_, "/fhir/Patient/" + ada_), 200);
  EXPECT_EQ(As(dr_, "POST", "/audit/tree-head").status, 403);
  auto signed_head = As(auditor_, "POST", "/audit/tree-head");
  ASSERT_EQ(signed_head.status, 200) << signed_head.body;
  json::Value head = ParseBody(signed_head.body);
  const uint64_t size = static_cast<uint64_t>(*head.Find("tree_size")->as_int64());
  const std::string root = *Base64Decode(head.GetString("sha256_root_hash"));
  audit::TreeHead th{size, root, static_cast<uint64_t>(*head.Find("timestamp")->as_int64()),
                     *Base64Decode(head.GetString("tree_head_signature"))};
  EXPECT_TRUE(audit::VerifyTreeHead(th, server_.audit_heads().public_key()).ok());
  auto latest = ParseBody(As(auditor_, "GET", "/audit/tree-head").body);
  EXPECT_EQ(*Base64Decode(latest.GetString("public_key")), server_.audit_heads().public_key());

  auto b64s = [](const json::Value& a) {
    std::vector<std::string> out;
    for (const json::Value& h : a.as_array()) out.push_back(*Base64Decode(h.as_string()));
    return out;
  };
  for (uint64_t i = 0; i < size; ++i) {
    auto r = As(auditor_, "GET", "/audit/proof/inclusion?index=" + std::to_string(i) + "&tree_size=" + std::to_string(size));
    ASSERT_EQ(r.status, 200) << r.body;
    json::Value proof = ParseBody(r.body);
    EXPECT_TRUE(audit::VerifyInclusion(i, size, *Base64Decode(proof.GetString("leaf_hash")),
                                       b64s(*proof.Find("audit_path")), root)
                    .ok())
        << i;
  }
  // The log grows (the requests above were recorded); the new head extends the old one.
  ASSERT_EQ(Status(dr_, "/fhir/Patient/" + bob_), 200);
  json::Value later = ParseBody(As(auditor_, "POST", "/audit/tree-head").body);
  const uint64_t size2 = static_cast<uint64_t>(*later.Find("tree_size")->as_int64());
  ASSERT_GT(size2, size);
  auto r = As(auditor_, "GET", "/audit/proof/consistency?first=" + std::to_string(size) + "&second=" + std::to_string(size2));
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value proof = ParseBody(r.body);
  EXPECT_TRUE(audit::VerifyConsistency(size, size2, root, *Base64Decode(later.GetString("sha256_root_hash")),
                                       b64s(*proof.Find("consistency")))
                  .ok());
  EXPECT_EQ(As(auditor_, "GET", "/audit/proof/inclusion?index=" + std::to_string(size2) +
                                    "&tree_size=" + std::to_string(size2)).status,
            400);
  EXPECT_EQ(As(auditor_, "GET", "/audit/proof/consistency?first=0&second=1").status, 400);
}

}  // namespace
}  // namespace ehr::testing
