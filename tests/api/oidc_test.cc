// Tokens from an external OpenID Connect issuer (security/oidc.h) over a real socket: RS256
// and ES256 tokens signed with the issuer's keys are accepted and their claims mapped to a
// username, roles, a tenant and a FHIR record; every forgery or misfit is refused; ADMIN
// needs a second factor at the issuer; keys come from a file (reloaded when an unknown key
// appears, at most once a minute) or an allowed URL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/base64.h"
#include "net/fetch.h"
#include "security/ec_key.h"
#include "security/jwt.h"
#include "support/rsa_key.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kIssuer[] = "https://sso.example.org/realms/hospital";
constexpr char kPassword[] = "Tulip-Harbour-42";

class OidcTest : public ::testing::Test {
 protected:
  OidcTest() : clock_(Clock::System().Now()), ec_(*security::EcKey::Generate(security::EcAlg::kES256)) {}

  void WriteJwks(const std::vector<json::Value>& keys) {
    json::Value jwks = json::Value::MakeObject();
    json::Value list = json::Value::MakeArray();
    for (const auto& k : keys) list.as_array().push_back(k);
    jwks.Set("keys", std::move(list));
    std::ofstream(jwks_file_) << json::Write(jwks);
  }
  std::string Config(const std::string& keys_from, const std::string& extra_issuers = "") const {
    return R"({"jwks_allow":["http://127.0.0.1:"],"issuers":[{"issuer":")" + std::string(kIssuer) +
           R"(","audience":"ehr",)" + keys_from +
           R"(,"roles_claim":"realm_access.roles","roles":{"ehr-doctor":"DOCTOR","ehr-clerk":"CLERK","ehr-admin":"ADMIN"},"tenant":"default"})" +
           extra_issuers + "]}";
  }
  void Start(const std::string& config) {
    TestServerOptions o;
    o.auth = true;
    o.clock = &clock_;
    o.oidc_config = config;
    server_ = std::make_unique<TestServer>(o);
  }
  json::Value Claims(std::vector<std::string> roles = {"ehr-doctor"}) const {
    const int64_t now = clock_.Now() / 1000000;
    json::Value c = json::Value::MakeObject();
    c.Set("iss", json::Value(kIssuer));
    c.Set("sub", json::Value("f81d4fae-7dec"));
    c.Set("aud", json::Value("ehr"));
    c.Set("iat", json::Value::MakeInt(now));
    c.Set("exp", json::Value::MakeInt(now + 300));
    c.Set("preferred_username", json::Value("gregory.house"));
    c.Set("fhirUser", json::Value("Practitioner/gp"));
    json::Value access = json::Value::MakeObject();
    json::Value list = json::Value::MakeArray();
    for (auto& r : roles) list.as_array().push_back(json::Value(r));
    access.Set("roles", std::move(list));
    c.Set("realm_access", std::move(access));
    return c;
  }
  int Get(const std::string& token, const std::string& path) {
    return server_->Client().Send("GET", path, "", {{"Authorization", "Bearer " + token}}).status;
  }
  HttpResult GetResult(const std::string& token, const std::string& path) {
    return server_->Client().Send("GET", path, "", {{"Authorization", "Bearer " + token}});
  }

  TempDir dir_;
  std::string jwks_file_ = dir_.path() + "/sso-jwks.json";
  ManualClock clock_;
  RsaKey rsa_;
  security::EcKey ec_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(OidcTest, SignedTokensAreAcceptedAndTheirClaimsMapped) {
  WriteJwks({rsa_.Jwk("r1"), ec_.PublicJwk("e1")});
  Start(Config(R"("jwks_file":")" + jwks_file_ + "\""));
  // A local service account writes a patient whose GP is the practitioner the token names.
  ASSERT_TRUE(server_->identity()->AddUser({"seed", kPassword, {"SERVICE"}, {}, ""}).ok());
  const std::string service = server_->identity()->MintTokens("seed", "", "")->access_token;
  auto put = [&](const std::string& path, const std::string& body) {
    return server_->Client().Send("PUT", path, body, {{"Content-Type", "application/fhir+json"}, {"Authorization", "Bearer " + service}}).status;
  };
  ASSERT_EQ(put("/fhir/Practitioner/gp", R"({"resourceType":"Practitioner","id":"gp"})"), 201);
  ASSERT_EQ(put("/fhir/Patient/mine", R"({"resourceType":"Patient","id":"mine","generalPractitioner":[{"reference":"Practitioner/gp"}]})"), 201);
  ASSERT_EQ(put("/fhir/Patient/other", R"({"resourceType":"Patient","id":"other"})"), 201);

  const std::string doctor = rsa_.Sign(Claims(), "r1");
  EXPECT_EQ(Get(doctor, "/fhir/Patient/mine"), 200) << "a DOCTOR whose fhirUser is the patient's GP";
  EXPECT_EQ(Get(doctor, "/fhir/Patient/other"), 403) << "and only theirs";
  EXPECT_EQ(Get(doctor, "/fhir/Observation"), 200);
  EXPECT_EQ(Get(*security::SignJwt(Claims(), ec_, "e1"), "/fhir/Patient/mine"), 200) << "ES256 too";
  EXPECT_EQ(Get(rsa_.Sign(Claims(), "r1", "RS384"), "/fhir/Patient/mine"), 200) << "RS384 too";
  EXPECT_EQ(Get(rsa_.Sign(Claims({"ehr-clerk"}), "r1"), "/fhir/Observation"), 403) << "a CLERK reads no clinical data";
  EXPECT_EQ(Get(rsa_.Sign(Claims({"ehr-clerk"}), "r1"), "/fhir/Patient/other"), 200);
  EXPECT_EQ(Get(rsa_.Sign(Claims({"wiki-editors"}), "r1"), "/fhir/Patient/other"), 403) << "unmapped: no role";
  // ADMIN only with a second factor at the issuer (RFC 8176 "amr").
  EXPECT_EQ(Get(rsa_.Sign(Claims({"ehr-admin"}), "r1"), "/auth/users"), 403);
  json::Value with_otp = Claims({"ehr-admin"});
  with_otp.Set("amr", json::Value(json::Array{json::Value("pwd"), json::Value("otp")}));
  EXPECT_EQ(Get(rsa_.Sign(with_otp, "r1"), "/auth/users"), 200);
  // Local accounts still sign in as before.
  EXPECT_EQ(Get(service, "/fhir/Patient/other"), 200);
}

TEST_F(OidcTest, ForgeriesAndMisfitsAreRefused) {
  WriteJwks({rsa_.Jwk("r1")});
  Start(Config(R"("jwks_file":")" + jwks_file_ + "\"",
               R"(,{"issuer":"https://sso.example.org/realms/other","audience":"ehr","jwks_file":")" + jwks_file_ +
                   R"(","roles":{"ehr-doctor":"DOCTOR"},"roles_claim":"realm_access.roles","tenant_claim":"org","tenants":{"H1":"default"}})"));
  auto claims_with = [&](const std::string& key, json::Value v) {
    json::Value c = Claims();
    c.Set(key, std::move(v));
    return c;
  };
  const int64_t now = clock_.Now() / 1000000;
  EXPECT_EQ(Get(rsa_.Sign(Claims(), "r1"), "/fhir/Observation"), 200);
  EXPECT_EQ(Get(rsa_.Sign(claims_with("aud", json::Value("another-app")), "r1"), "/fhir/Observation"), 401);
  EXPECT_EQ(Get(rsa_.Sign(claims_with("exp", json::Value::MakeInt(now - 120)), "r1"), "/fhir/Observation"), 401);
  EXPECT_EQ(Get(rsa_.Sign(claims_with("exp", json::Value::MakeInt(now + 7200)), "r1"), "/fhir/Observation"), 401)
      << "longer than max_lifetime_seconds";
  EXPECT_EQ(Get(rsa_.Sign(claims_with("nbf", json::Value::MakeInt(now + 600)), "r1"), "/fhir/Observation"), 401);
  EXPECT_EQ(Get(rsa_.Sign(claims_with("iss", json::Value("https://evil.example.org")), "r1"), "/fhir/Observation"), 401);
  json::Value no_sub = Claims();
  no_sub.Remove("sub");
  EXPECT_EQ(Get(rsa_.Sign(no_sub, "r1"), "/fhir/Observation"), 401);
  EXPECT_EQ(Get(rsa_.Sign(Claims(), "r9"), "/fhir/Observation"), 401) << "an unknown key";
  const RsaKey stranger;
  EXPECT_EQ(Get(stranger.Sign(Claims(), "r1"), "/fhir/Observation"), 401) << "another key under a known kid";
  std::string tampered = rsa_.Sign(Claims(), "r1");
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Get(tampered, "/fhir/Observation"), 401);
  // alg confusion: none, and HS256 keyed with the public key.
  const std::string payload = Base64UrlEncode(json::Write(Claims()));
  EXPECT_EQ(Get(Base64UrlEncode(R"({"alg":"none","kid":"r1"})") + "." + payload + ".", "/fhir/Observation"), 401);
  EXPECT_EQ(Get(rsa_.SignWithHeader(R"({"alg":"HS256","kid":"r1"})", Claims(), "RS256"), "/fhir/Observation"), 401);
  EXPECT_EQ(Get(rsa_.SignWithHeader(R"({"alg":"RS256","kid":"r1","crit":["exp"]})", Claims(), "RS256"), "/fhir/Observation"),
            401);
  // The tenant from a claim: a value that maps, or nothing.
  json::Value other = claims_with("iss", json::Value("https://sso.example.org/realms/other"));
  other.Set("org", json::Value("H1"));
  EXPECT_EQ(Get(rsa_.Sign(other, "r1"), "/fhir/Observation"), 200);
  other.Set("org", json::Value("H2"));
  auto refused = GetResult(rsa_.Sign(other, "r1"), "/fhir/Observation");
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("no tenant"), std::string::npos) << refused.body;
}

TEST_F(OidcTest, RotatedKeysAreReloadedAtMostOnceAMinute) {
  WriteJwks({rsa_.Jwk("r1")});
  Start(Config(R"("jwks_file":")" + jwks_file_ + "\""));
  const RsaKey next;
  WriteJwks({rsa_.Jwk("r1"), next.Jwk("r2")});
  EXPECT_EQ(Get(next.Sign(Claims(), "r2"), "/fhir/Observation"), 401) << "loaded less than a minute ago";
  clock_.Advance(61LL * 1000000);
  EXPECT_EQ(Get(next.Sign(Claims(), "r2"), "/fhir/Observation"), 200);
  EXPECT_EQ(Get(rsa_.Sign(Claims(), "r1"), "/fhir/Observation"), 200);
}

TEST_F(OidcTest, KeysFromAnAllowedUrl) {
  WriteJwks({rsa_.Jwk("r1")});
  const std::string jwks = ReadFile(jwks_file_);
  net::ServerOptions so;
  so.io_threads = 1;
  so.worker_threads = 1;
  so.access_log = false;
  net::HttpServer idp(so, [&](net::Request& req) {
    net::Response r;
    r.status = req.target == "/realms/hospital/certs" ? 200 : 404;
    r.body = r.status == 200 ? jwks : "";
    r.headers.push_back({"Content-Type", "application/json"});
    return r;
  });
  ASSERT_TRUE(idp.Start().ok());
  std::thread t([&] { idp.Run(); });
  const std::string base = "http://127.0.0.1:" + std::to_string(idp.port());
  EXPECT_TRUE(net::HttpGet(base + "/realms/hospital/certs").ok());
  EXPECT_EQ(net::HttpGet(base + "/nothing").status().code(), Code::kUnavailable);
  EXPECT_EQ(net::HttpGet("http://sso.example.org/certs").status().code(), Code::kInvalid) << "plain http off loopback";
  EXPECT_EQ(security::ParseOidcConfig(Config(R"("jwks_url":"https://elsewhere.example/certs")")).status().code(),
            Code::kInvalid)
      << "a URL off the allow-list";
  Start(Config(R"("jwks_url":")" + base + "/realms/hospital/certs\""));
  EXPECT_EQ(Get(rsa_.Sign(Claims(), "r1"), "/fhir/Observation"), 200);
  idp.Stop();
  t.join();
}

}  // namespace
}  // namespace ehr::testing
