// The account store's contract (store/accounts.h) on both backends: the SQLite account
// database and PostgreSQL's account_* tables (issue 8: the same behaviour, or it is a bug).
// Identity's own tests (security/identity_test.cc) run over both as well; these cover what
// they do not reach: clients, the break-glass log's filters, conflicts and absences, and the
// token signing keys kept wrapped by the key-encryption key.
#include <gtest/gtest.h>

#include "keys/keyring.h"
#include "store/accounts.h"
#include "store/sqlite/test_util.h"
#include "support/store_backends.h"

namespace ehr::store {
namespace {

constexpr char kPem[] = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n";

class AccountContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = ehr::testing::MakeStoreBackend(GetParam());
    auto ring = keys::Keyring::OpenOrCreate(dir_.File("keyring"));
    ASSERT_TRUE(ring.ok());
    ring_ = std::move(*ring);
  }
  std::string RawPem(const std::string& kid) {
    auto rows = backend_->RawAccountsColumn("SELECT private_pem FROM account_signing_key WHERE kid = '" + kid + "'");
    return rows.ok() && rows->size() == 1 ? rows->front() : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<keys::Keyring> ring_;
  std::unique_ptr<ehr::testing::StoreBackend> backend_;
};

TEST_P(AccountContractTest, UsersClientsAndTheirConflicts) {
  auto accounts = backend_->OpenAccounts(nullptr);
  ASSERT_NE(accounts, nullptr);
  UserRecord u;
  u.id = "u-1";
  u.username = "zoe";
  u.password_hash = "$argon2id$x";
  u.roles = {"DOCTOR", "ADMIN"};
  u.tenants = {"uk", "de"};
  u.totp_secret = std::string("\x00\x01\xff secret", 10);  // bytes, NUL included
  u.recovery_code_hashes = {"aa", "bb"};
  u.created = 5;
  ASSERT_TRUE(accounts->InsertUser(u).ok());
  UserRecord other = u;
  other.id = "u-2";
  EXPECT_EQ(accounts->InsertUser(other).code(), Code::kConflict) << "the username is taken";
  other.username = "adam";
  ASSERT_TRUE(accounts->InsertUser(other).ok());
  auto users = accounts->Users();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ(users->front().username, "adam") << "by username";
  auto zoe = accounts->UserByName("zoe");
  ASSERT_TRUE(zoe.ok() && *zoe);
  EXPECT_EQ((*zoe)->totp_secret, u.totp_secret);
  EXPECT_EQ((*zoe)->roles, u.roles);
  EXPECT_EQ((*zoe)->tenants, u.tenants);
  EXPECT_EQ((*zoe)->recovery_code_hashes, u.recovery_code_hashes);
  u.disabled = true;
  u.failed_logins = 3;
  ASSERT_TRUE(accounts->UpdateUser(u).ok());
  EXPECT_TRUE((*accounts->UserById("u-1"))->disabled);
  UserRecord ghost = u;
  ghost.id = "u-9";
  ghost.username = "ghost";
  EXPECT_EQ(accounts->UpdateUser(ghost).code(), Code::kNotFound);
  EXPECT_FALSE(*accounts->UserById("u-9"));

  ClientRecord c{"app", "An app", {"https://app.example/cb?a=1,2", "https://app.example/other"}, "hash", "", "patient/*.read",
                 {"SERVICE"}, "uk", false, 7};
  ASSERT_TRUE(accounts->InsertClient(c).ok());
  EXPECT_EQ(accounts->InsertClient(c).code(), Code::kConflict);
  auto found = accounts->Client("app");
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->redirect_uris, c.redirect_uris) << "a comma inside a URI survives";
  EXPECT_EQ((*found)->roles, c.roles);
  EXPECT_FALSE(*accounts->Client("nobody"));
  EXPECT_EQ(accounts->Clients()->size(), 1u);
}

TEST_P(AccountContractTest, SessionsTouchOnlyForwardAndBreakGlassFilters) {
  auto accounts = backend_->OpenAccounts(nullptr);
  ASSERT_NE(accounts, nullptr);
  SessionRecord s{"s-1", "u-1", "uk", "openid", 10, 20, 1000, false, "app", "p-1", ""};
  ASSERT_TRUE(accounts->InsertSession(s, "h1").ok());
  ASSERT_TRUE(accounts->TouchSession("s-1", 15).ok());
  EXPECT_EQ((*accounts->Session("s-1"))->last_seen, 20) << "never back in time";
  ASSERT_TRUE(accounts->TouchSession("s-1", 30).ok());
  EXPECT_EQ((*accounts->Session("s-1"))->last_seen, 30);
  EXPECT_EQ((*accounts->Session("s-1"))->patient, "p-1");
  auto rotated = accounts->RotateRefresh("h1", "h2");
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->outcome, RefreshOutcome::kRotated);
  EXPECT_EQ(accounts->RotateRefresh("h1", "h3")->outcome, RefreshOutcome::kReused);
  EXPECT_TRUE((*accounts->Session("s-1"))->revoked);
  EXPECT_EQ(accounts->RotateRefresh("never", "h4")->outcome, RefreshOutcome::kUnknown);

  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(accounts
                    ->InsertBreakGlass({"bg-" + std::to_string(i), i % 2 ? "de" : "uk", "u-1", "zoe",
                                        i < 2 ? "s-1" : "s-2", "reason", 100 + i, 200 + i})
                    .ok());
  }
  auto uk = accounts->BreakGlassSince("uk", 0, 10);
  ASSERT_TRUE(uk.ok());
  ASSERT_EQ(uk->size(), 2u);
  EXPECT_EQ(uk->front().id, "bg-2") << "newest first";
  EXPECT_EQ(accounts->BreakGlassSince("", 101, 10)->size(), 3u);
  EXPECT_EQ(accounts->BreakGlassSince("", 0, 1)->size(), 1u);
  EXPECT_EQ(accounts->ActiveBreakGlass("s-1", 200)->size(), 1u) << "bg-0 ended at 200";
  EXPECT_EQ(accounts->ActiveBreakGlass("s-2", 150)->size(), 2u);
}

TEST_P(AccountContractTest, SigningKeysWrappedAtRestAndPlainOnesWrappedOnOpen) {
  {
    auto plain = backend_->OpenAccounts(nullptr);  // as an earlier version kept it
    ASSERT_NE(plain, nullptr);
    ASSERT_TRUE(plain->InsertSigningKey({"old", kPem, 1, 0}).ok());
  }
  EXPECT_EQ(RawPem("old"), kPem);
  {
    auto wrapped = backend_->OpenAccounts(ring_.get());
    ASSERT_NE(wrapped, nullptr);
    ASSERT_TRUE(wrapped->InsertSigningKey({"new", kPem, 2, 0}).ok());
    auto keys = wrapped->SigningKeys();
    ASSERT_TRUE(keys.ok()) << keys.status().message();
    ASSERT_EQ(keys->size(), 2u);
    for (const SigningKeyRecord& k : *keys) EXPECT_EQ(k.private_pem, kPem) << k.kid;
    ASSERT_TRUE(wrapped->RetireSigningKey("old", 50).ok());
    ASSERT_TRUE(wrapped->RetireSigningKey("old", 60).ok());
    EXPECT_EQ(wrapped->SigningKeys()->front().retired, 50) << "retired once";
  }
  for (const char* kid : {"old", "new"}) {
    const std::string raw = RawPem(kid);
    EXPECT_TRUE(raw.starts_with("ehr-wrapped:file:1:")) << raw;
    EXPECT_EQ(raw.find("PRIVATE KEY"), std::string::npos);
  }
  // Without the key store the keys do not open; a key moved to another kid does not either.
  auto keyless = backend_->OpenAccounts(nullptr);
  ASSERT_NE(keyless, nullptr);
  EXPECT_FALSE(keyless->SigningKeys().ok());
  keyless.reset();
  ASSERT_TRUE(backend_
                  ->RawAccountsColumn("UPDATE account_signing_key SET private_pem = (SELECT private_pem FROM "
                                      "account_signing_key WHERE kid = 'old') WHERE kid = 'new'")
                  .ok());
  auto moved = backend_->OpenAccounts(ring_.get());
  ASSERT_NE(moved, nullptr);
  EXPECT_FALSE(moved->SigningKeys().ok());
  ASSERT_TRUE(moved->DeleteSigningKey("new").ok());
  EXPECT_EQ(moved->SigningKeys()->size(), 1u);
}

// After a rotation of the key-encryption key, opening the account store wraps its signing
// keys again under the new version, so that the old one can be retired.
TEST_P(AccountContractTest, WrappedAgainUnderTheCurrentVersionOnOpen) {
  {
    auto accounts = backend_->OpenAccounts(ring_.get());
    ASSERT_NE(accounts, nullptr);
    ASSERT_TRUE(accounts->InsertSigningKey({"k1", kPem, 1, 0}).ok());
    EXPECT_EQ(*accounts->KekIdsInUse(), std::vector<std::string>{"file:1"});
  }
  ASSERT_TRUE(ring_->Rotate().ok());
  auto accounts = backend_->OpenAccounts(ring_.get());
  ASSERT_NE(accounts, nullptr);
  EXPECT_TRUE(RawPem("k1").starts_with("ehr-wrapped:file:2:")) << RawPem("k1");
  EXPECT_EQ(*accounts->KekIdsInUse(), std::vector<std::string>{"file:2"});
  ASSERT_TRUE(ring_->Retire("file:1").ok());
  auto keys = accounts->SigningKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->front().private_pem, kPem);
}

INSTANTIATE_TEST_SUITE_P(Backends, AccountContractTest, ::testing::ValuesIn(ehr::testing::StoreBackendNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace ehr::store
