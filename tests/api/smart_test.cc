// SMART App Launch and backend services over a real socket: discovery, the authorization
// code flow with PKCE and its negative cases, EHR launch context, client credentials with
// ES384 and RS384 assertions and their negative cases, introspection and revocation.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "core/base64.h"
#include "core/secrets.h"
#include "security/ec_key.h"
#include "security/jwk.h"
#include "security/jwt.h"
#include "support/rsa_key.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kPassword[] = "Tulip-Harbour-42";
constexpr char kRedirect[] = "https://app.example/callback";
const Headers kForm = {{"Content-Type", "application/x-www-form-urlencoded"}};

std::string Sha256(std::string_view data) {
  unsigned char d[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(d), n);
}

std::string QueryParam(const std::string& url, const std::string& name) {
  const size_t q = url.find('?');
  if (q == std::string::npos) return "";
  for (const auto& [k, v] : net::ParseQuery(std::string_view(url).substr(q + 1))) {
    if (k == name) return v;
  }
  return "";
}

class SmartTest : public ::testing::Test {
 protected:
  SmartTest() : server_(Options()) {}
  static TestServerOptions Options() {
    TestServerOptions o;
    o.auth = true;
    return o;
  }
  void SetUp() override {
    ASSERT_TRUE(server_.identity()->AddUser({"seed", kPassword, {"SERVICE"}, {}, ""}).ok());
    const std::string seed = server_.identity()->MintTokens("seed", "", "")->access_token;
    // dr.who is this practitioner, both patients' GP.
    auto gp = c_.Send("POST", "/fhir/Practitioner", R"({"resourceType":"Practitioner"})",
                      {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + seed}});
    ASSERT_EQ(gp.status, 201);
    const std::string gp_ref = "Practitioner/" + std::string(ParseBody(gp.body).GetString("id"));
    for (const char* family : {"Smith", "Jones"}) {
      auto r = c_.Send("POST", "/fhir/Patient",
                       std::string(R"({"resourceType":"Patient","name":[{"family":")") + family +
                           R"("}],"generalPractitioner":[{"reference":")" + gp_ref + "\"}]}",
                       {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + seed}});
      ASSERT_EQ(r.status, 201);
      patients_.push_back(std::string(ParseBody(r.body).GetString("id")));
    }
    ASSERT_TRUE(server_.identity()->AddUser({"smith", kPassword, {"PATIENT"}, {}, "Patient/" + patients_[0]}).ok());
    ASSERT_TRUE(server_.identity()->AddUser({"dr.who", kPassword, {"DOCTOR"}, {}, gp_ref}).ok());
    security::NewClient app;
    app.id = "app";
    app.name = "Growth Charts";
    app.redirect_uris = {kRedirect};
    app.scope = "openid fhirUser launch launch/patient offline_access patient/*.rs user/Patient.rs";
    ASSERT_TRUE(server_.smart()->AddClient(app).ok());
    verifier_ = RandomToken(48);
    challenge_ = Base64UrlEncode(Sha256(verifier_));
  }
  std::string Fhir() const { return server_.base(); }
  std::string TokenUrl() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/auth/token"; }
  std::string AuthorizeQuery(const std::string& scope, const std::string& extra = "") {
    return "response_type=code&client_id=app&redirect_uri=" + UrlEncode(kRedirect) + "&scope=" + UrlEncode(scope) +
           "&state=s123&aud=" + UrlEncode(Fhir()) + "&code_challenge=" + challenge_ + "&code_challenge_method=S256" +
           extra;
  }
  // The browser part: the login form posted with the user's credentials.
  HttpResult Approve(const std::string& query, const std::string& user, const std::string& password,
                     const std::string& extra = "") {
    return c_.Send("POST", "/auth/authorize",
                   query + "&username=" + UrlEncode(user) + "&password=" + UrlEncode(password) + extra, kForm);
  }
  HttpResult Exchange(const std::string& code, const std::string& verifier) {
    return c_.Send("POST", "/auth/token",
                   "grant_type=authorization_code&code=" + UrlEncode(code) + "&redirect_uri=" + UrlEncode(kRedirect) +
                       "&code_verifier=" + verifier + "&client_id=app",
                   kForm);
  }
  int Get(const std::string& token, const std::string& path) {
    return c_.Send("GET", path, "", {{"Authorization", "Bearer " + token}}).status;
  }

  TestServer server_;
  HttpClient c_ = server_.Client();
  std::vector<std::string> patients_;
  std::string verifier_, challenge_;
};

TEST_F(SmartTest, TheConsentPageLetsTheUserUntickScopes) {
  const std::string query = AuthorizeQuery("openid fhirUser launch/patient patient/*.rs offline_access");
  auto page = c_.Get("/auth/authorize?" + query);
  ASSERT_EQ(page.status, 200) << page.body;
  for (const char* scope : {"openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"}) {
    EXPECT_NE(page.body.find(std::string(R"(name="approve" value=")") + scope + R"(" checked>)"), std::string::npos)
        << scope << " in " << page.body;
  }
  // The browser posts the ticked boxes: offline access and fhirUser unticked.
  auto approved = Approve(query, "smith", kPassword,
                          "&consent_shown=1&approve=openid&approve=launch%2Fpatient&approve=" + UrlEncode("patient/*.rs"));
  ASSERT_EQ(approved.status, 302) << approved.body;
  auto tokens = Exchange(QueryParam(approved.Header("Location"), "code"), verifier_);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  const json::Value t = ParseBody(tokens.body);
  EXPECT_EQ(t.GetString("scope"), "openid launch/patient patient/*.rs");
  EXPECT_EQ(t.Find("refresh_token"), nullptr) << "offline access was not granted";
  EXPECT_EQ(t.GetString("patient"), patients_[0]);
  // Nothing ticked: denied, back to the app.
  auto none = Approve(query, "smith", kPassword, "&consent_shown=1");
  ASSERT_EQ(none.status, 302);
  EXPECT_EQ(QueryParam(none.Header("Location"), "error"), "access_denied");
  // A box the page did not show widens nothing.
  auto forged = Approve(query, "smith", kPassword, "&consent_shown=1&approve=" + UrlEncode("user/*.cruds"));
  ASSERT_EQ(forged.status, 302);
  EXPECT_EQ(QueryParam(forged.Header("Location"), "error"), "access_denied");
}

TEST_F(SmartTest, Discovery) {
  auto r = c_.Get("/fhir/.well-known/smart-configuration");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value c = ParseBody(r.body);
  EXPECT_EQ(c.GetString("token_endpoint"), TokenUrl());
  EXPECT_EQ(json::Write(*c.Find("code_challenge_methods_supported")), R"(["S256"])");
  EXPECT_EQ(c_.Get("/.well-known/smart-configuration").status, 200);
  auto oidc = c_.Get("/.well-known/openid-configuration");
  ASSERT_EQ(oidc.status, 200) << oidc.body;
  const json::Value o = ParseBody(oidc.body);
  EXPECT_EQ(json::Write(*o.Find("id_token_signing_alg_values_supported")), R"(["RS256"])");
  EXPECT_EQ(json::Write(*o.Find("subject_types_supported")), R"(["public"])");
  EXPECT_EQ(o.GetString("jwks_uri"), c.GetString("jwks_uri"));
}

TEST_F(SmartTest, StandalonePatientLaunchWithPkce) {
  const std::string query = AuthorizeQuery("openid fhirUser launch/patient patient/*.rs offline_access");
  auto page = c_.Get("/auth/authorize?" + query);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Growth Charts"), std::string::npos);
  EXPECT_EQ(page.Header("X-Frame-Options"), "DENY");
  EXPECT_EQ(Approve(query, "smith", "Wrong-Password-1").status, 401);  // the page again, no redirect
  auto approved = Approve(query, "smith", kPassword);
  ASSERT_EQ(approved.status, 302) << approved.body;
  const std::string location = approved.Header("Location");
  ASSERT_EQ(location.rfind(std::string(kRedirect) + "?code=", 0), 0u) << location;
  EXPECT_EQ(QueryParam(location, "state"), "s123");
  const std::string code = QueryParam(location, "code");

  auto tokens = Exchange(code, verifier_);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  json::Value t = ParseBody(tokens.body);
  EXPECT_EQ(t.GetString("patient"), patients_[0]);
  EXPECT_EQ(t.GetString("scope"), "openid fhirUser offline_access launch/patient patient/*.rs");
  EXPECT_FALSE(t.GetString("refresh_token").empty());
  auto id_token = security::DecodeJwt(t.GetString("id_token"));
  ASSERT_TRUE(id_token.ok());
  EXPECT_EQ(id_token->claims.GetString("fhirUser"), "Patient/" + patients_[0]);
  EXPECT_EQ(id_token->claims.GetString("aud"), "app");
  // Signed RS256 (what OpenID clients must accept) with a key the JWKS publishes.
  EXPECT_EQ(id_token->alg(), "RS256");
  auto jwks = security::ParseJwks(c_.Get("/.well-known/jwks.json").body);
  ASSERT_TRUE(jwks.ok());
  EXPECT_TRUE(std::any_of(jwks->begin(), jwks->end(), [&](const security::PublicJwk& k) {
    return k.kid() == id_token->kid() && k.Verify("RS256", id_token->signing_input, id_token->signature);
  }));
  EXPECT_EQ(Get(std::string(t.GetString("id_token")), "/fhir/Patient/" + patients_[0]), 401) << "an ID token is no access token";
  const std::string access(t.GetString("access_token"));
  EXPECT_EQ(Get(access, "/fhir/Patient/" + patients_[0]), 200);
  EXPECT_EQ(Get(access, "/fhir/Patient/" + patients_[0] + "/Observation"), 200);
  EXPECT_EQ(Get(access, "/fhir/Patient/" + patients_[1]), 403);

  // The code again (intercepted and replayed): refused, and what it gave is revoked.
  auto again = Exchange(code, verifier_);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(ParseBody(again.body).GetString("error"), "invalid_grant");
  EXPECT_EQ(Get(access, "/fhir/Patient/" + patients_[0]), 401);
}

TEST_F(SmartTest, AuthorizationRequestsThatMustFail) {
  // Unregistered redirect or unknown client: an error page, never a redirect.
  auto bad_redirect = c_.Get("/auth/authorize?response_type=code&client_id=app&redirect_uri=" +
                             UrlEncode("https://evil.example/cb") + "&code_challenge=" + challenge_ +
                             "&code_challenge_method=S256&aud=" + UrlEncode(Fhir()) + "&scope=patient/*.rs");
  EXPECT_EQ(bad_redirect.status, 400);
  EXPECT_EQ(bad_redirect.Header("Location"), "");
  EXPECT_EQ(c_.Get("/auth/authorize?client_id=nobody&redirect_uri=" + UrlEncode(kRedirect)).status, 400);
  auto error_of = [&](const std::string& query) {
    auto r = c_.Get("/auth/authorize?" + query);
    EXPECT_EQ(r.status, 302) << query;
    return QueryParam(r.Header("Location"), "error");
  };
  std::string plain = AuthorizeQuery("patient/*.rs");
  plain.replace(plain.find("S256"), 4, "plain");
  EXPECT_EQ(error_of(plain), "invalid_request");
  std::string no_challenge = AuthorizeQuery("patient/*.rs");
  no_challenge.replace(no_challenge.find(challenge_), challenge_.size(), "");
  EXPECT_EQ(error_of(no_challenge), "invalid_request");
  std::string wrong_aud = AuthorizeQuery("patient/*.rs");
  wrong_aud.replace(wrong_aud.find("aud=") + 4, UrlEncode(Fhir()).size(), UrlEncode("https://other.example/fhir"));
  EXPECT_EQ(error_of(wrong_aud), "invalid_request");
  EXPECT_EQ(error_of(AuthorizeQuery("system/*.cruds")), "invalid_scope");
  std::string token_response = AuthorizeQuery("patient/*.rs");
  token_response.replace(0, std::string("response_type=code").size(), "response_type=token");
  EXPECT_EQ(error_of(token_response), "unsupported_response_type");

  // A wrong verifier spends the code.
  const std::string query = AuthorizeQuery("launch/patient patient/*.rs");
  const std::string code = QueryParam(Approve(query, "smith", kPassword).Header("Location"), "code");
  ASSERT_FALSE(code.empty());
  EXPECT_EQ(Exchange(code, RandomToken(48)).status, 400);
  EXPECT_EQ(Exchange(code, verifier_).status, 400);
  EXPECT_EQ(Exchange("made-up", verifier_).status, 400);
}

TEST_F(SmartTest, ScopesNeverWidenAndEhrLaunchCarriesContext) {
  // The client asks for more than it is registered for and than the doctor has: it gets
  // the intersection.
  const std::string query = AuthorizeQuery("user/*.cruds user/Patient.rs launch", "&launch=");
  std::string launch_query = query;
  // An EHR launch: the EHR registers the context, the app brings the launch id.
  const std::string doctor = server_.identity()->MintTokens("dr.who", "", "")->access_token;
  auto launch = c_.Send("POST", "/auth/launch", R"({"patient":")" + patients_[1] + R"("})",
                        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + doctor}});
  ASSERT_EQ(launch.status, 200) << launch.body;
  launch_query += std::string(ParseBody(launch.body).GetString("launch"));
  auto approved = Approve(launch_query, "dr.who", kPassword);
  ASSERT_EQ(approved.status, 302) << approved.body;
  auto tokens = Exchange(QueryParam(approved.Header("Location"), "code"), verifier_);
  ASSERT_EQ(tokens.status, 200) << tokens.body;
  json::Value t = ParseBody(tokens.body);
  EXPECT_EQ(t.GetString("scope"), "launch user/Patient.rs");
  EXPECT_EQ(t.GetString("patient"), patients_[1]);
  EXPECT_EQ(t.Find("refresh_token"), nullptr);  // no offline_access asked
  const std::string access(t.GetString("access_token"));
  EXPECT_EQ(Get(access, "/fhir/Patient/" + patients_[0]), 200);
  EXPECT_EQ(c_.Send("POST", "/fhir/Patient", R"({"resourceType":"Patient"})",
                    {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + access}})
                .status,
            403);
  // A launch id nobody registered.
  auto r = c_.Get("/auth/authorize?" + query + "unknown");
  EXPECT_EQ(QueryParam(r.Header("Location"), "error"), "invalid_request");
}

class BackendTest : public SmartTest {
 protected:
  void AddService(const json::Value& jwk) {
    json::Value set = json::Value::MakeObject();
    json::Value keys = json::Value::MakeArray();
    keys.as_array().push_back(jwk);
    set.Set("keys", keys);
    security::NewClient svc;
    svc.id = "lab-feed";
    svc.jwks = json::Write(set);
    svc.scope = "system/*.rs";
    svc.roles = {"SERVICE"};
    ASSERT_TRUE(server_.smart()->AddClient(svc).ok());
  }
  json::Value Claims(int64_t exp_in = 240) {
    const int64_t now = Clock::System().Now() / 1000000;
    json::Value c = json::Value::MakeObject();
    c.Set("iss", json::Value("lab-feed"));
    c.Set("sub", json::Value("lab-feed"));
    c.Set("aud", json::Value(TokenUrl()));
    c.Set("exp", json::Value::MakeInt(now + exp_in));
    c.Set("jti", json::Value(RandomToken(12)));
    return c;
  }
  HttpResult Request(const std::string& assertion, const std::string& scope = "system/Patient.rs") {
    return c_.Send("POST", "/auth/token",
                   "grant_type=client_credentials&scope=" + UrlEncode(scope) +
                       "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                       "&client_assertion=" + assertion,
                   kForm);
  }
};

TEST_F(BackendTest, Es384ClientAssertions) {
  auto key = *security::EcKey::Generate(security::EcAlg::kES384);
  AddService(key.PublicJwk("k1"));
  const std::string good = *security::SignJwt(Claims(), key, "k1");
  auto r = Request(good);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Value t = ParseBody(r.body);
  EXPECT_EQ(t.GetString("scope"), "system/Patient.rs");
  EXPECT_EQ(t.Find("refresh_token"), nullptr);
  const std::string access(t.GetString("access_token"));
  EXPECT_EQ(Get(access, "/fhir/Patient/" + patients_[0]), 200);
  EXPECT_EQ(Get(access, "/fhir/Observation?code=x"), 403);  // scope: Patient only

  EXPECT_EQ(Request(good).status, 401);  // the same jti again
  EXPECT_EQ(Request(*security::SignJwt(Claims(600), key, "k1")).status, 401);  // exp too far ahead
  EXPECT_EQ(Request(*security::SignJwt(Claims(-10), key, "k1")).status, 401);  // expired
  json::Value wrong_aud = Claims();
  wrong_aud.Set("aud", json::Value("https://elsewhere.example/token"));
  EXPECT_EQ(Request(*security::SignJwt(wrong_aud, key, "k1")).status, 401);
  json::Value other_sub = Claims();
  other_sub.Set("sub", json::Value("someone-else"));
  EXPECT_EQ(Request(*security::SignJwt(other_sub, key, "k1")).status, 401);
  auto stranger = *security::EcKey::Generate(security::EcAlg::kES384);
  EXPECT_EQ(Request(*security::SignJwt(Claims(), stranger, "k1")).status, 401);
  // A jku header pointing at the attacker's keys is refused outright.
  const std::string input = Base64UrlEncode(R"({"alg":"ES384","kid":"k1","jku":"https://evil.example/jwks"})") + "." +
                            Base64UrlEncode(json::Write(Claims()));
  EXPECT_EQ(Request(input + "." + Base64UrlEncode(*key.Sign(input))).status, 401);
  auto scope_error = Request(*security::SignJwt(Claims(), key, "k1"), "system/Patient.cruds user/*.cruds");
  ASSERT_EQ(scope_error.status, 200);  // narrowed to what the client may have
  EXPECT_EQ(ParseBody(scope_error.body).GetString("scope"), "system/Patient.rs");
  EXPECT_EQ(Request(*security::SignJwt(Claims(), key, "k1"), "user/*.cruds").status, 400);
}

TEST_F(BackendTest, Rs384ClientAssertions) {
  const RsaKey rsa;
  AddService(rsa.Jwk("r1"));
  auto sign = [&](const std::string& alg) { return rsa.Sign(Claims(), "r1", alg); };
  EXPECT_EQ(Request(sign("RS384")).status, 200);
  EXPECT_EQ(Request(sign("RS256")).status, 200);
  std::string tampered = sign("RS384");
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Request(tampered).status, 401);
}

TEST_F(SmartTest, IntrospectionAndRevocation) {
  security::NewClient rs;
  rs.id = "resource-server";
  rs.redirect_uris = {"https://rs.example/cb"};
  rs.scope = "user/*.rs";
  rs.confidential = true;
  auto secret = server_.smart()->AddClient(rs);
  ASSERT_TRUE(secret.ok() && !secret->empty());
  const Headers basic = {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Authorization", "Basic " + Base64Encode("resource-server:" + *secret)}};
  const Headers wrong = {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Authorization", "Basic " + Base64Encode("resource-server:guess")}};
  auto t = *server_.identity()->MintTokens("dr.who", "", "");
  EXPECT_EQ(c_.Send("POST", "/auth/introspect", "token=" + t.access_token, wrong).status, 401);
  EXPECT_EQ(c_.Send("POST", "/auth/introspect", "token=" + t.access_token, kForm).status, 401);
  auto active = ParseBody(c_.Send("POST", "/auth/introspect", "token=" + t.access_token, basic).body);
  EXPECT_TRUE(active.Find("active")->as_bool());
  EXPECT_EQ(active.GetString("username"), "dr.who");
  EXPECT_EQ(c_.Send("POST", "/auth/revoke", "token=" + t.access_token, basic).status, 200);
  auto inactive = ParseBody(c_.Send("POST", "/auth/introspect", "token=" + t.access_token, basic).body);
  EXPECT_FALSE(inactive.Find("active")->as_bool());
  // Revoking a refresh token ends its session.
  auto u = *server_.identity()->MintTokens("dr.who", "", "");
  EXPECT_EQ(c_.Send("POST", "/auth/revoke", "token=" + u.refresh_token, basic).status, 200);
  EXPECT_EQ(Get(u.access_token, "/fhir/Patient/" + patients_[0]), 401);
}

}  // namespace
}  // namespace ehr::testing
