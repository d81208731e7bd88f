// `--accounts postgres` (issue 8): with the clinical store on PostgreSQL the accounts live
// there too (store/accounts.h, the account_* tables), so that no credential stays in a
// server's data directory and two servers on one database share their users, sessions and
// token signing keys: a user added with the CLI logs in at either, a token from one is
// accepted by the other, and everything is there after a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "fhir/json/value.h"
#include "support/ehr_process.h"
#include "support/http_client.h"
#include "support/postgres_server.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kAdminPassword[] = "Keeper-Of-Keys-2026!";
constexpr char kDoctorPassword[] = "Correct-Horse-Battery-9";

std::string AccessToken(const HttpResult& login) {
  auto v = json::Parse(login.body);
  return v.ok() ? std::string(v->GetString("access_token")) : "";
}

HttpResult Login(uint16_t port, const std::string& user, const std::string& password) {
  HttpClient c("127.0.0.1", port);
  return c.Send("POST", "/auth/login", R"({"username":")" + user + R"(","password":")" + password + "\"}",
                {{"Content-Type", "application/json"}});
}

TEST(AccountsPostgres, TwoServersOnOneDatabaseShareTheirAccounts) {
  PostgresServer pg;
  pg.CreateAppDatabase("ehr");
  TempDir dir;
  const std::string a_data = dir.path() + "/a", b_data = dir.path() + "/b";
  const std::string url = pg.AppUrl("ehr");
  const std::vector<std::pair<std::string, std::string>> env = {{"EHR_ADMIN_PASSWORD", kAdminPassword},
                                                                 {"EHR_PASSWORD_COST", "low"}};
  auto serve = [&](const std::string& data, std::vector<std::string> more) {
    std::vector<std::string> args = {"--data", data, "--auth", "on", "--access-log", "off", "--store", url,
                                     "--accounts", "postgres"};
    args.insert(args.end(), more.begin(), more.end());
    return EhrProcess::Serve(args, env);
  };
  EhrProcess a = serve(a_data, {"--store-migrate", pg.ConnectionString("postgres", "ehr")});
  ASSERT_NE(a.port, 0) << a.output;
  // A doctor added with the CLI, into PostgreSQL.
  auto [added, added_out] = RunCommand("EHR_PASSWORD_COST=low EHR_USER_PASSWORD='" + std::string(kDoctorPassword) + "' " +
                                       std::getenv("EHR_BINARY") + " user add --data " + a_data + " --store '" + url +
                                       "' --accounts postgres --user dr.pg --roles DOCTOR 2>&1");
  ASSERT_EQ(added, 0) << added_out;
  // A second server with another data directory (the same key-encryption key: the signing
  // keys are wrapped by it) and the same database.
  EhrProcess b = serve(b_data, {"--keyring", a_data + "/keyring"});
  ASSERT_NE(b.port, 0) << b.output;
  EXPECT_EQ(b.output.find("created the administrator"), std::string::npos) << "B found A's administrator";

  HttpResult at_b = Login(b.port, "dr.pg", kDoctorPassword);
  ASSERT_EQ(at_b.status, 200) << at_b.body;
  HttpResult admin_at_b = Login(b.port, "admin", kAdminPassword);
  EXPECT_EQ(admin_at_b.status, 200) << admin_at_b.body;
  EXPECT_EQ(Login(b.port, "dr.pg", "wrong-password-1").status, 401);
  // B's token is good at A (one set of signing keys), and A's at B.
  const std::vector<std::pair<std::string, std::string>> from_b = {{"Authorization", "Bearer " + AccessToken(at_b)}};
  HttpClient to_a("127.0.0.1", a.port);
  EXPECT_EQ(to_a.Send("GET", "/fhir/Observation", "", from_b).status, 200);
  HttpResult at_a = Login(a.port, "dr.pg", kDoctorPassword);
  ASSERT_EQ(at_a.status, 200) << at_a.body;
  HttpClient to_b("127.0.0.1", b.port);
  EXPECT_EQ(to_b.Send("GET", "/fhir/Observation", "", {{"Authorization", "Bearer " + AccessToken(at_a)}}).status, 200);
  // No credentials in either directory.
  EXPECT_FALSE(fs::exists(a_data + "/accounts.db"));
  EXPECT_FALSE(fs::exists(b_data + "/accounts.db"));
  EXPECT_EQ(b.Stop(SIGTERM), 0);
  EXPECT_EQ(a.Stop(SIGTERM), 0);

  // A rotation of the key-encryption key, then the retirement of the old version: the
  // signing keys in PostgreSQL are wrapped again first (else they would be lost with it).
  const std::string flags = " --data " + a_data + " --store '" + url + "' --accounts postgres";
  auto [rotated, rotate_out] = RunEhr("keys rotate" + flags);
  ASSERT_EQ(rotated, 0) << rotate_out;
  auto [retired, retire_out] = RunEhr("keys retire --min-age-hours 0" + flags);
  ASSERT_EQ(retired, 0) << retire_out;
  EXPECT_NE(retire_out.find("key-encryption key file:1: retired"), std::string::npos) << retire_out;

  // After a restart the account, its token and its password are all there.
  EhrProcess again = serve(a_data, {});
  ASSERT_NE(again.port, 0) << again.output;
  HttpClient c("127.0.0.1", again.port);
  EXPECT_EQ(c.Send("GET", "/fhir/Observation", "", from_b).status, 200);
  EXPECT_EQ(Login(again.port, "dr.pg", kDoctorPassword).status, 200);
  EXPECT_EQ(again.Stop(SIGTERM), 0);

  // Accounts in PostgreSQL need the store there.
  auto [refused, refused_out] = RunEhr("user list --data " + dir.path() + "/c --accounts postgres");
  EXPECT_NE(refused, 0);
  EXPECT_NE(refused_out.find("--accounts postgres goes with --store postgres://"), std::string::npos) << refused_out;
}

}  // namespace
}  // namespace ehr::testing
