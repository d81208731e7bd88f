// Authentication and authorization over a real socket (`--auth on`): login, refresh
// rotation, logout, the JWKS, the admin API, and the role policy on every path (BOLA
// matrix, tenants, a patient's own record, search oracles).
#include <gtest/gtest.h>

#include "security/ec_key.h"
#include "security/jwt.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kPassword[] = "Tulip-Harbour-42";

std::string Bearer(const std::string& token) { return "Bearer " + token; }

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() : server_(Options()) {}
  static TestServerOptions Options() {
    TestServerOptions o;
    o.auth = true;
    return o;
  }
  void SetUp() override {
    // A service account seeds the data every role is then tried against.
    Add("seed", {"SERVICE"});
    service_ = Token("seed");
    // Doctors and nurses of these tests are this practitioner, the first patient's GP.
    gp_ = Create("Practitioner", R"({"resourceType":"Practitioner","name":[{"family":"Grey"}]})");
    patient_ = Create("Patient", R"({"resourceType":"Patient","name":[{"family":"Smith"}],"generalPractitioner":[{"reference":"Practitioner/)" + gp_ + R"("}]})");
    other_patient_ = Create("Patient", R"({"resourceType":"Patient","name":[{"family":"Jones"}]})");
    observation_ = Create("Observation", R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/)" + patient_ + R"("}})");
    Create("Observation", R"({"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/)" + other_patient_ + R"("}})");
    coverage_ = Create("Coverage", R"({"resourceType":"Coverage","status":"active","beneficiary":{"reference":"Patient/)" + patient_ + R"("},"payor":[{"display":"NHS"}]})");
    valueset_ = Create("ValueSet", R"({"resourceType":"ValueSet","status":"active","url":"http://example.org/vs"})");
  }
  void Add(const std::string& name, std::vector<std::string> roles, std::vector<std::string> tenants = {},
           std::string fhir_user = "") {
    for (const auto& role : roles) {
      if (fhir_user.empty() && (role == "DOCTOR" || role == "NURSE")) fhir_user = "Practitioner/" + gp_;
    }
    auto u = server_.identity()->AddUser({name, kPassword, std::move(roles), std::move(tenants), std::move(fhir_user)});
    ASSERT_TRUE(u.ok()) << u.status().message();
  }
  std::string Token(const std::string& name, const std::string& tenant = "", const std::string& scope = "") {
    auto t = server_.identity()->MintTokens(name, scope, tenant);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? t->access_token : "";
  }
  HttpResult As(const std::string& token, const std::string& method, const std::string& path,
                const std::string& body = "") {
    Headers h = kFhirJson;
    if (!token.empty()) h.push_back({"Authorization", Bearer(token)});
    return c_.Send(method, path, body, h);
  }
  std::string Create(const std::string& type, const std::string& body) {
    auto r = As(service_, "POST", "/fhir/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(ParseBody(r.body).GetString("id"));
  }
  HttpResult Login(const std::string& user, const std::string& password, const std::string& extra = "") {
    return c_.Send("POST", "/auth/login",
                   R"({"username":")" + user + R"(","password":")" + password + "\"" + extra + "}",
                   {{"Content-Type", "application/json"}});
  }
  static int Total(const HttpResult& r) {
    const json::Value body = ParseBody(r.body);
    const json::Value* t = body.Find("total");
    return t && t->as_int64() ? static_cast<int>(*t->as_int64()) : -1;
  }
  static int Entries(const HttpResult& r, std::string_view type = "") {
    const json::Value body = ParseBody(r.body);
    const json::Value* e = body.Find("entry");
    int n = 0;
    for (const auto& entry : e ? e->as_array() : json::Array{}) {
      if (type.empty() || entry.Find("resource")->GetString("resourceType") == type) ++n;
    }
    return n;
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
  std::string service_, gp_, patient_, other_patient_, observation_, coverage_, valueset_;
};

TEST_F(AuthTest, EveryFhirRequestNeedsAValidToken) {
  auto r = c_.Get("/fhir/Patient/" + patient_);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"ehr\"");
  EXPECT_EQ(ParseBody(r.body).GetString("resourceType"), "OperationOutcome");
  EXPECT_EQ(As("not-a-token", "GET", "/fhir/Patient/" + patient_).status, 401);
  EXPECT_NE(As("x.y.z", "GET", "/fhir/Patient").Header("WWW-Authenticate").find("invalid_token"), std::string::npos);
  EXPECT_EQ(As("", "POST", "/fhir/Patient", R"({"resourceType":"Patient"})").status, 401);
  EXPECT_EQ(c_.Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"batch"})", kFhirJson).status, 401);
  // The CapabilityStatement is public and says how to authenticate.
  auto meta = c_.Get("/fhir/metadata");
  EXPECT_EQ(meta.status, 200);
  EXPECT_NE(meta.body.find("Authorization: Bearer"), std::string::npos);
  EXPECT_EQ(c_.Get("/healthz").status, 200);
}

TEST_F(AuthTest, LoginRefreshLogoutOverHttp) {
  Add("dr.who", {"DOCTOR"});
  auto bad = Login("dr.who", "Wrong-Password-1");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(ParseBody(bad.body).GetString("resourceType"), "OperationOutcome");
  EXPECT_EQ(bad.body.find("Wrong-Password"), std::string::npos);
  EXPECT_EQ(c_.Send("POST", "/auth/login", "{", {{"Content-Type", "application/json"}}).status, 400);
  EXPECT_EQ(c_.Send("POST", "/auth/login", R"({"username":"dr.who"})", {{"Content-Type", "application/json"}}).status, 400);
  EXPECT_EQ(c_.Get("/auth/login").status, 405);

  auto ok = Login("dr.who", kPassword);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Header("Cache-Control"), "no-store");
  json::Value tokens = ParseBody(ok.body);
  const std::string access(tokens.GetString("access_token"));
  const std::string refresh(tokens.GetString("refresh_token"));
  EXPECT_EQ(tokens.GetString("token_type"), "Bearer");
  EXPECT_EQ(*tokens.Find("expires_in")->as_int64(), 900);
  EXPECT_EQ(As(access, "GET", "/fhir/Observation/" + observation_).status, 200);

  // The token verifies with the published JWKS (what another service would do).
  auto jwks = ParseBody(c_.Get("/.well-known/jwks.json").body);
  const json::Value& jwk = jwks.Find("keys")->as_array().at(0);
  EXPECT_EQ(jwk.Find("d"), nullptr);
  auto key = security::EcKey::FromPublicJwk(jwk);
  ASSERT_TRUE(key.ok());
  auto jwt = security::DecodeJwt(access);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->kid(), jwk.GetString("kid"));
  EXPECT_TRUE(key->Verify(jwt->signing_input, jwt->signature));

  // Refresh rotates; the old refresh token then revokes the session.
  auto refreshed = c_.Send("POST", "/auth/refresh", R"({"refresh_token":")" + refresh + R"("})",
                           {{"Content-Type", "application/json"}});
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string access2(ParseBody(refreshed.body).GetString("access_token"));
  EXPECT_EQ(As(access2, "GET", "/fhir/Patient/" + patient_).status, 200);
  auto replay = c_.Send("POST", "/auth/refresh", R"({"refresh_token":")" + refresh + R"("})",
                        {{"Content-Type", "application/json"}});
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(As(access2, "GET", "/fhir/Patient/" + patient_).status, 401);

  // Logout ends the session at once.
  auto again = ParseBody(Login("dr.who", kPassword).body);
  const std::string access3(again.GetString("access_token"));
  EXPECT_EQ(As(access3, "GET", "/fhir/Patient/" + patient_).status, 200);
  EXPECT_EQ(As(access3, "POST", "/auth/logout").status, 200);
  EXPECT_EQ(As(access3, "GET", "/fhir/Patient/" + patient_).status, 401);
}

TEST_F(AuthTest, AdminApiAndSecondFactorEnrolment) {
  Add("root", {"ADMIN"});
  Add("dr.who", {"DOCTOR"});
  // A password login of an ADMIN without a second factor may only enrol one.
  auto login = ParseBody(Login("root", kPassword).body);
  EXPECT_TRUE(login.Find("mfa_enrollment_required")->as_bool());
  const std::string enrol_only(login.GetString("access_token"));
  EXPECT_EQ(As(enrol_only, "GET", "/fhir/Patient/" + patient_).status, 403);
  EXPECT_EQ(As(enrol_only, "GET", "/auth/users").status, 403);
  auto enrol = As(enrol_only, "POST", "/auth/mfa/enroll");
  ASSERT_EQ(enrol.status, 200) << enrol.body;
  EXPECT_EQ(ParseBody(enrol.body).GetString("otpauth_uri").rfind("otpauth://totp/", 0), 0u);
  EXPECT_EQ(As(enrol_only, "POST", "/auth/mfa/confirm", R"({"code":"000000"})").status, 400);

  const std::string admin = Token("root");
  const std::string doctor = Token("dr.who");
  auto list = As(admin, "GET", "/auth/users");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(ParseBody(list.body).as_array().size(), 3u);
  EXPECT_EQ(list.body.find("argon2"), std::string::npos);  // hashes never leave the server
  EXPECT_EQ(As(doctor, "GET", "/auth/users").status, 403);
  const std::string clerk_body = R"({"username":"clerk1","password":"Quiet-Meadow-77","roles":["CLERK"]})";
  EXPECT_EQ(As(doctor, "POST", "/auth/users", clerk_body).status, 403);
  EXPECT_EQ(As(admin, "POST", "/auth/users", R"({"username":"clerk1","password":"Password123!","roles":["CLERK"]})").status, 400);
  EXPECT_EQ(As(admin, "POST", "/auth/users", R"({"username":"clerk1","password":"Quiet-Meadow-77","roles":["KING"]})").status, 400);
  EXPECT_EQ(As(admin, "POST", "/auth/users", clerk_body).status, 201);
  EXPECT_EQ(As(admin, "POST", "/auth/users", clerk_body).status, 409);
  EXPECT_EQ(Login("clerk1", "Quiet-Meadow-77").status, 200);
  // Disabling a user ends their sessions at once.
  EXPECT_EQ(As(doctor, "GET", "/fhir/Patient/" + patient_).status, 200);
  EXPECT_EQ(As(admin, "POST", "/auth/users/dr.who/disable").status, 200);
  EXPECT_EQ(As(doctor, "GET", "/fhir/Patient/" + patient_).status, 401);
  EXPECT_EQ(Login("dr.who", kPassword).status, 401);
  EXPECT_EQ(As(admin, "POST", "/auth/users/dr.who/enable").status, 200);
  EXPECT_EQ(Login("dr.who", kPassword).status, 200);
  EXPECT_EQ(As(admin, "POST", "/auth/users/nobody/disable").status, 404);
}

// Each role against each kind of record: the README's matrix, over HTTP.
TEST_F(AuthTest, RoleMatrix) {
  struct Row {
    const char* role;
    // read of Observation, Patient, Coverage, ValueSet; create Observation, Patient, Coverage.
    int obs, pat, cov, vs, new_obs, new_pat, new_cov;
  };
  const Row rows[] = {
      {"ADMIN", 403, 200, 403, 200, 403, 201, 403},   {"DOCTOR", 200, 200, 403, 200, 201, 201, 403},
      {"NURSE", 200, 200, 403, 200, 201, 201, 403},   {"CLERK", 403, 200, 403, 200, 403, 201, 403},
      {"BILLING", 403, 200, 200, 200, 403, 403, 201}, {"RESEARCHER", 403, 403, 403, 200, 403, 403, 403},
      {"GUARDIAN", 403, 403, 403, 403, 403, 403, 403}, {"SERVICE", 200, 200, 200, 200, 201, 201, 201},
  };
  const std::string obs_body = R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" +
                               patient_ + R"("}})";
  const std::string pat_body = R"({"resourceType":"Patient"})";
  const std::string cov_body = R"({"resourceType":"Coverage","status":"active","beneficiary":{"reference":"Patient/)" +
                               patient_ + R"("},"payor":[{"display":"NHS"}]})";
  for (const Row& row : rows) {
    std::string name = std::string("user-") + row.role;
    for (auto& ch : name) ch = static_cast<char>(std::tolower(ch));
    Add(name, {row.role});
    const std::string t = Token(name);
    SCOPED_TRACE(row.role);
    EXPECT_EQ(As(t, "GET", "/fhir/Observation/" + observation_).status, row.obs);
    EXPECT_EQ(As(t, "GET", "/fhir/Observation?code=8867-4").status, row.obs);
    EXPECT_EQ(As(t, "GET", "/fhir/Observation/" + observation_ + "/_history").status, row.obs);
    EXPECT_EQ(As(t, "GET", "/fhir/Patient/" + patient_).status, row.pat);
    EXPECT_EQ(As(t, "GET", "/fhir/Coverage/" + coverage_).status, row.cov);
    EXPECT_EQ(As(t, "GET", "/fhir/ValueSet/" + valueset_).status, row.vs);
    EXPECT_EQ(As(t, "POST", "/fhir/Observation", obs_body).status, row.new_obs);
    EXPECT_EQ(As(t, "POST", "/fhir/Patient", pat_body).status, row.new_pat);
    EXPECT_EQ(As(t, "POST", "/fhir/Coverage", cov_body).status, row.new_cov);
    EXPECT_EQ(As(t, "DELETE", "/fhir/Observation/" + observation_ + "-none").status == 403, row.new_obs == 403);
    // A batch is authorized entry by entry.
    auto batch = As(t, "POST", "/fhir",
                    R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/)" +
                        observation_ + R"("}}]})");
    ASSERT_EQ(batch.status, 200) << batch.body;
    EXPECT_NE(batch.body.find(row.obs == 200 ? "\"200" : "\"403"), std::string::npos) << batch.body;
    // System-wide history and search reach every type: only a role that reads all of them.
    EXPECT_EQ(As(t, "GET", "/fhir/_history").status, std::string(row.role) == "SERVICE" ? 200 : 403);
  }
}

TEST_F(AuthTest, SearchesAreNoOracleForForbiddenTypes) {
  Add("clerk", {"CLERK"});
  const std::string clerk = Token("clerk");
  // _has and chains test clinical data: refused whether or not anything matches.
  EXPECT_EQ(As(clerk, "GET", "/fhir/Patient?_has:Observation:subject:code=8867-4").status, 403);
  EXPECT_EQ(As(clerk, "GET", "/fhir/Patient?_has:Observation:subject:code=0000-0").status, 403);
  EXPECT_EQ(As(clerk, "GET", "/fhir/Coverage?beneficiary.name=Smith").status, 403);
  EXPECT_EQ(As(clerk, "GET", "/fhir/Patient?general-practitioner.name=x").status, 200);  // Practitioner: allowed
  // Includes of forbidden types are left out; matches and totals are as without them.
  auto plain = As(clerk, "GET", "/fhir/Patient?_total=accurate");
  auto rev = As(clerk, "GET", "/fhir/Patient?_total=accurate&_revinclude=Observation:subject&_revinclude=Coverage:beneficiary");
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(Total(rev), Total(plain));
  EXPECT_EQ(Entries(rev), Entries(plain));
  EXPECT_EQ(Entries(rev, "Observation"), 0);
  const std::string doctor_token = (Add("doc", {"DOCTOR"}), Token("doc"));
  // The doctor reaches only the patient in their care, and that patient's observation.
  auto reached = As(doctor_token, "GET", "/fhir/Patient?_total=accurate&_revinclude=Observation:subject");
  EXPECT_EQ(Total(reached), 1);
  EXPECT_EQ(Entries(reached, "Observation"), 1);
  // Conditional writes search too: their criteria are authorized like a search.
  auto conditional = c_.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})",
                             {{"Content-Type", "application/fhir+json"},
                              {"Authorization", Bearer(clerk)},
                              {"If-None-Exist", "_has:Observation:subject:code=8867-4"}});
  EXPECT_EQ(conditional.status, 403) << conditional.body;
  // $everything holds only what the role may read.
  auto everything = As(doctor_token, "GET", "/fhir/Patient/" + patient_ + "/$everything");
  ASSERT_EQ(everything.status, 200) << everything.body;
  EXPECT_EQ(Entries(everything, "Observation"), 1);
  EXPECT_EQ(Entries(everything, "Coverage"), 0);
}

TEST_F(AuthTest, TenantsAreIsolated) {
  // Clerks reach every patient of their tenant, and none of another's.
  Add("uk.doctor", {"CLERK"}, {"uk"});
  Add("de.doctor", {"CLERK"}, {"de"});
  Add("both", {"CLERK"}, {"uk", "de"});
  const std::string uk = Token("uk.doctor");
  const std::string de = Token("de.doctor");
  auto created = As(uk, "POST", "/fhir/Patient", R"({"resourceType":"Patient","name":[{"family":"Windsor"}]})");
  ASSERT_EQ(created.status, 201);
  const std::string id(ParseBody(created.body).GetString("id"));
  EXPECT_EQ(As(uk, "GET", "/fhir/Patient/" + id).status, 200);
  EXPECT_EQ(As(de, "GET", "/fhir/Patient/" + id).status, 404);
  EXPECT_EQ(Total(As(de, "GET", "/fhir/Patient?name=Windsor&_total=accurate")), 0);
  EXPECT_EQ(Total(As(uk, "GET", "/fhir/Patient?name=Windsor&_total=accurate")), 1);
  EXPECT_EQ(As(de, "PUT", "/fhir/Patient/" + id, R"({"resourceType":"Patient","id":")" + id + R"("})").status, 201);
  const json::Value kept = ParseBody(As(uk, "GET", "/fhir/Patient/" + id).body);
  EXPECT_EQ(kept.Find("name")->as_array().size(), 1u);
  // A token names one tenant; a member of several picks it at login.
  EXPECT_EQ(Total(As(Token("both", "de"), "GET", "/fhir/Patient?name=Windsor&_total=accurate")), 0);
  EXPECT_EQ(Total(As(Token("both", "uk"), "GET", "/fhir/Patient?name=Windsor&_total=accurate")), 1);
  EXPECT_FALSE(server_.identity()->MintTokens("uk.doctor", "", "de").ok());
}

TEST_F(AuthTest, APatientReadsOnlyTheirOwnRecord) {
  Add("smith", {"PATIENT"}, {}, "Patient/" + patient_);
  Add("unlinked", {"PATIENT"});
  const std::string me = Token("smith");
  EXPECT_EQ(As(me, "GET", "/fhir/Patient/" + patient_).status, 200);
  EXPECT_EQ(As(me, "GET", "/fhir/Patient/" + other_patient_).status, 403);
  auto mine = As(me, "GET", "/fhir/Patient/" + patient_ + "/Observation");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Entries(mine, "Observation"), 1);
  EXPECT_EQ(As(me, "GET", "/fhir/Patient/" + other_patient_ + "/Observation").status, 403);
  EXPECT_EQ(As(me, "GET", "/fhir/Patient/" + patient_ + "/$everything").status, 200);
  EXPECT_EQ(As(me, "GET", "/fhir/Patient/" + other_patient_ + "/$everything").status, 403);
  // Type-level searches and reads by id reach the patient's own record and nothing else.
  auto chart = As(me, "GET", "/fhir/Patient/$everything");
  ASSERT_EQ(chart.status, 200) << chart.body;
  EXPECT_EQ(Entries(chart, "Patient"), 1);
  EXPECT_EQ(Entries(chart, "Observation"), 1);
  auto own = As(me, "GET", "/fhir/Observation?code=8867-4&_total=accurate");
  EXPECT_EQ(Total(own), 1);
  EXPECT_EQ(Total(As(me, "GET", "/fhir/Observation?subject=Patient/" + other_patient_ + "&_total=accurate")), 0);
  EXPECT_EQ(Total(As(me, "GET", "/fhir/Patient?_total=accurate")), 1);
  EXPECT_EQ(As(me, "GET", "/fhir/Observation/" + observation_).status, 200);
  const std::string others = ParseBody(As(service_, "GET", "/fhir/Observation?subject=" + other_patient_).body)
                                 .Find("entry")->as_array().at(0).Find("resource")->GetString("id").data();  // NOLINT
  auto theirs = As(me, "GET", "/fhir/Observation/" + others);
  EXPECT_EQ(theirs.status, 404) << "as if it did not exist";
  EXPECT_EQ(As(me, "GET", "/fhir/Observation/" + others + "/_history").status, 404);
  EXPECT_EQ(As(me, "GET", "/fhir/Observation/_history").status, 403);
  EXPECT_EQ(As(me, "GET", "/fhir/AuditEvent").status, 403);
  EXPECT_EQ(As(me, "PUT", "/fhir/Patient/" + patient_, R"({"resourceType":"Patient","id":")" + patient_ + R"("})").status,
            403);
  EXPECT_EQ(As(me, "GET", "/fhir/ValueSet/" + valueset_).status, 200);
  EXPECT_EQ(As(Token("unlinked"), "GET", "/fhir/Patient/" + patient_).status, 403);
}

TEST_F(AuthTest, ScopesNarrowWhatRolesAllow) {
  Add("doc", {"DOCTOR"});
  const std::string patients_only = Token("doc", "", "user/Patient.rs");
  EXPECT_EQ(As(patients_only, "GET", "/fhir/Patient/" + patient_).status, 200) << As(patients_only, "GET", "/fhir/Patient/" + patient_).body;
  EXPECT_EQ(As(patients_only, "GET", "/fhir/Patient?name=Smith").status, 200);
  EXPECT_EQ(As(patients_only, "GET", "/fhir/Observation/" + observation_).status, 403);
  EXPECT_EQ(As(patients_only, "POST", "/fhir/Patient", R"({"resourceType":"Patient"})").status, 403);
  EXPECT_EQ(As(patients_only, "GET", "/fhir/Patient?_has:Observation:subject:code=8867-4").status, 403);
  EXPECT_EQ(Entries(As(patients_only, "GET", "/fhir/Patient?_revinclude=Observation:subject"), "Observation"), 0);
  const std::string read_no_search = Token("doc", "", "user/Patient.r");
  EXPECT_EQ(As(read_no_search, "GET", "/fhir/Patient/" + patient_).status, 200);
  EXPECT_EQ(As(read_no_search, "GET", "/fhir/Patient?name=Smith").status, 403);
  // A scope beyond the account's is not granted; one that is malformed grants nothing.
  EXPECT_FALSE(server_.identity()->MintTokens("doc", "system/*.cruds", "").ok());
  EXPECT_FALSE(server_.identity()->MintTokens("doc", "user/Patient.rrs user/Patient.read.write", "").ok());
  // The role still decides: a scope cannot give a doctor financial records.
  const std::string wide = Token("doc", "", "user/*.cruds");
  EXPECT_EQ(As(wide, "GET", "/fhir/Coverage/" + coverage_).status, 403);
}

TEST_F(AuthTest, SecurityLabelsAndVersionsAreNotTheClientsToAssign) {
  Add("doc", {"DOCTOR"});
  Add("clerk", {"CLERK"});
  const std::string doctor = Token("doc");
  const std::string clerk = Token("clerk");
  const std::string label = R"("meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]})";
  auto obs = [&](const std::string& id, const std::string& meta) {
    return R"({"resourceType":"Observation",)" + (id.empty() ? "" : R"("id":")" + id + R"(",)") + (meta.empty() ? "" : meta + ",") +
           R"("status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" + patient_ + R"("}})";
  };
  // A clinician may add a label (it only tightens access)...
  auto labelled = As(doctor, "POST", "/fhir/Observation", obs("", label));
  ASSERT_EQ(labelled.status, 201) << labelled.body;
  const std::string id(ParseBody(labelled.body).GetString("id"));
  // ...but not remove it, not even by leaving meta out, in a transaction neither.
  auto removed = As(doctor, "PUT", "/fhir/Observation/" + id, obs(id, ""));
  EXPECT_EQ(removed.status, 403) << removed.body;
  EXPECT_NE(removed.body.find("meta.security"), std::string::npos);
  auto in_txn = As(doctor, "POST", "/fhir",
                   R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)" + obs(id, "") +
                       R"(,"request":{"method":"PUT","url":"Observation/)" + id + R"("}}]})");
  EXPECT_EQ(in_txn.status, 403) << in_txn.body;
  EXPECT_EQ(As(doctor, "PUT", "/fhir/Observation/" + id, obs(id, label)).status, 200) << "sent back as read";
  // Other roles leave labels alone; a service may change them.
  EXPECT_EQ(As(clerk, "POST", "/fhir/Patient", R"({"resourceType":"Patient",)" + label + "}").status, 403);
  EXPECT_EQ(As(clerk, "PUT", "/fhir/Patient/" + patient_,
               R"({"resourceType":"Patient","id":")" + patient_ + R"(","name":[{"family":"Smith"}]})")
                .status,
            200);
  EXPECT_EQ(As(service_, "PUT", "/fhir/Observation/" + id, obs(id, "")).status, 200);
  // meta.versionId is the server's: a body that names a stale version is a conflict.
  auto stale = As(service_, "PUT", "/fhir/Observation/" + id, obs(id, R"("meta":{"versionId":"1"})"));
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(stale.body.find("Observation.meta.versionId"), std::string::npos);
  EXPECT_EQ(As(service_, "PUT", "/fhir/Observation/" + id, obs(id, R"("meta":{"versionId":"3"})")).status, 200);
  // A created resource's id and version are the server's whatever the body says.
  auto created = As(service_, "POST", "/fhir/Observation", obs("chosen-id", R"("meta":{"versionId":"7"})"));
  ASSERT_EQ(created.status, 201);
  const json::Value made = ParseBody(created.body);
  EXPECT_NE(made.GetString("id"), "chosen-id");
  EXPECT_EQ(made.Find("meta")->GetString("versionId"), "1");
}

}  // namespace
}  // namespace ehr::testing
