// `ehr serve --auth on` as a real process: with --base-url its tokens and discovery name
// that URL as their issuer; --oidc accepts a hospital issuer's tokens; a bad --oidc file
// stops the start with a message.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "security/jwt.h"
#include "support/ehr_process.h"
#include "support/rsa_key.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kBase[] = "https://ehr.example.org/fhir";
constexpr char kAdminPassword[] = "Serve-Test-Keeper-7!x";

TEST(ServeAuth, IssuerIsTheBaseUrlAndExternalIssuersAreAccepted) {
  TempDir dir;
  const RsaKey idp;
  {
    json::Value jwks = json::Value::MakeObject();
    jwks.Set("keys", json::Value(json::Array{idp.Jwk("k1")}));
    std::ofstream(dir.path() + "/idp.json") << json::Write(jwks);
    std::ofstream(dir.path() + "/oidc.json")
        << R"({"issuers":[{"issuer":"https://sso.example.org","audience":"ehr","jwks_file":")" << dir.path()
        << R"(/idp.json","roles":{"doctors":"DOCTOR"},"tenant":"default"}]})";
  }
  EhrProcess server = EhrProcess::Serve(
      {"--data", dir.path() + "/data", "--auth", "on", "--base-url", kBase, "--oidc", dir.path() + "/oidc.json",
       "--access-log", "off"},
      {{"EHR_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_NE(server.port, 0) << server.output;
  HttpClient c("127.0.0.1", server.port);

  auto discovery = c.Get("/.well-known/openid-configuration");
  ASSERT_EQ(discovery.status, 200) << discovery.body;
  EXPECT_EQ(ParseBody(discovery.body).GetString("issuer"), kBase);
  auto login = c.Send("POST", "/auth/login", std::string(R"({"username":"admin","password":")") + kAdminPassword + "\"}",
                      {{"Content-Type", "application/json"}});
  ASSERT_EQ(login.status, 200) << login.body;
  auto token = security::DecodeJwt(ParseBody(login.body).GetString("access_token"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->claims.GetString("iss"), kBase);

  json::Value claims = json::Value::MakeObject();
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  claims.Set("iss", json::Value("https://sso.example.org"));
  claims.Set("sub", json::Value("u1"));
  claims.Set("aud", json::Value("ehr"));
  claims.Set("exp", json::Value::MakeInt(now + 300));
  claims.Set("roles", json::Value(json::Array{json::Value("doctors")}));
  auto read = c.Send("GET", "/fhir/Observation", "", {{"Authorization", "Bearer " + idp.Sign(claims, "k1")}});
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

// The account commands run beside a server are in its audit log, as the operating-system
// account that ran them, for an ADMIN to read; before a node's first start there is no log
// and the command says it was not recorded.
TEST(ServeAuth, AccountCommandsAreInTheAuditLog) {
  TempDir dir;
  const std::string fresh = dir.path() + "/fresh";
  std::filesystem::create_directories(fresh);
  auto [early, early_out] = RunCommand("EHR_USER_PASSWORD='Correct-Horse-Battery-9' " + std::string(std::getenv("EHR_BINARY")) +
                                       " user add --data " + fresh + " --user early --roles NURSE 2>&1");
  EXPECT_EQ(early, 0) << early_out;
  EXPECT_NE(early_out.find("not recorded in the audit log"), std::string::npos) << early_out;

  const std::string data = dir.path() + "/data";
  EhrProcess server = EhrProcess::Serve({"--data", data, "--auth", "on", "--access-log", "off"},
                                        {{"EHR_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_NE(server.port, 0) << server.output;
  auto [added, added_out] = RunCommand("EHR_USER_PASSWORD='Correct-Horse-Battery-9' " + std::string(std::getenv("EHR_BINARY")) +
                                       " user add --data " + data + " --user nurse1 --roles NURSE 2>&1");
  ASSERT_EQ(added, 0) << added_out;
  EXPECT_EQ(added_out.find("not recorded"), std::string::npos) << added_out;
  auto [minted, token] = RunEhr("token --data " + data + " --user nurse1");
  ASSERT_EQ(minted, 0) << token;
  // An auditor reads the log.
  auto [auditor, auditor_out] = RunCommand("EHR_USER_PASSWORD='Correct-Horse-Battery-9' " + std::string(std::getenv("EHR_BINARY")) +
                                           " user add --data " + data + " --user aud1 --roles AUDITOR 2>&1");
  ASSERT_EQ(auditor, 0) << auditor_out;
  auto [minted_aud, aud_token] = RunEhr("token --data " + data + " --user aud1 2>/dev/null");
  ASSERT_EQ(minted_aud, 0) << aud_token;
  aud_token.erase(aud_token.find_last_not_of("\n") + 1);
  aud_token = aud_token.substr(aud_token.rfind('\n') + 1);

  HttpClient c("127.0.0.1", server.port);
  const std::string bearer = "Bearer " + aud_token;
  auto events = c.Send("GET", "/fhir/AuditEvent?_count=200", "", {{"Authorization", bearer}});
  ASSERT_EQ(events.status, 200) << events.body.substr(0, 500);
  auto [who, whoami] = RunCommand("id -un");
  whoami.erase(whoami.find_last_not_of("\n") + 1);
  for (const char* subtype : {"\"user-add\"", "\"token-issue\""}) {
    EXPECT_NE(events.body.find(subtype), std::string::npos) << subtype << " in " << events.body.substr(0, 3000);
  }
  EXPECT_NE(events.body.find("cli:" + whoami), std::string::npos) << events.body.substr(0, 3000);
  EXPECT_NE(events.body.find("user/nurse1"), std::string::npos) << "the account acted on, in the entry's detail";
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

TEST(ServeAuth, ABadOidcFileStopsTheStart) {
  TempDir dir;
  std::ofstream(dir.path() + "/oidc.json") << R"({"issuers":[{"issuer":"https://sso.example.org","audience":"ehr",)"
                                              R"("jwks_url":"https://elsewhere.example/certs","tenant":"default"}]})";
  EhrProcess server = EhrProcess::Serve({"--data", dir.path() + "/data", "--auth", "on", "--oidc", dir.path() + "/oidc.json"},
                                        {{"EHR_ADMIN_PASSWORD", kAdminPassword}});
  ASSERT_EQ(server.port, 0) << "it must not start";
  EXPECT_NE(server.Wait(), 0);
  EXPECT_NE(server.output.find("jwks_allow"), std::string::npos) << server.output;
}

}  // namespace
}  // namespace ehr::testing
