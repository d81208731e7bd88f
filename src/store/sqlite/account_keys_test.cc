// Token signing keys in the account database are kept wrapped by the key-encryption key.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "keys/keyring.h"
#include "store/accounts.h"
#include "store/sqlite/test_util.h"

namespace ehr::store {
namespace {

constexpr char kPem[] = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n";

std::string RawPem(const std::string& path, const std::string& kid) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT private_pem FROM signing_key WHERE kid = ?1", -1, &s, nullptr);
  sqlite3_bind_text(s, 1, kid.c_str(), -1, SQLITE_TRANSIENT);
  std::string out;
  if (sqlite3_step(s) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST(AccountSigningKeys, WrappedAtRestAndPlainOnesWrappedOnOpen) {
  testing::TempDir dir;
  const std::string path = dir.File("accounts.db");
  auto ring = keys::Keyring::OpenOrCreate(dir.File("keyring"));
  ASSERT_TRUE(ring.ok());
  {
    auto plain = OpenSqliteAccountStore(path);  // as an earlier version kept it
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE((*plain)->InsertSigningKey({"old", kPem, 1, 0}).ok());
  }
  EXPECT_EQ(RawPem(path, "old"), kPem);
  {
    auto wrapped = OpenSqliteAccountStore(path, ring->get());
    ASSERT_TRUE(wrapped.ok()) << wrapped.status().message();
    ASSERT_TRUE((*wrapped)->InsertSigningKey({"new", kPem, 2, 0}).ok());
    auto keys = (*wrapped)->SigningKeys();
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys->size(), 2u);
    for (const SigningKeyRecord& k : *keys) EXPECT_EQ(k.private_pem, kPem) << k.kid;
  }
  for (const char* kid : {"old", "new"}) {
    const std::string raw = RawPem(path, kid);
    EXPECT_TRUE(raw.starts_with("ehr-wrapped:file:1:")) << raw;
    EXPECT_EQ(raw.find("PRIVATE KEY"), std::string::npos);
  }
  // Without the key store the keys do not open; a key moved to another kid does not either.
  auto keyless = OpenSqliteAccountStore(path);
  ASSERT_TRUE(keyless.ok());
  EXPECT_FALSE((*keyless)->SigningKeys().ok());
  keyless->reset();
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "UPDATE signing_key SET private_pem = (SELECT private_pem FROM signing_key WHERE kid = 'old') "
               "WHERE kid = 'new'", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto moved = OpenSqliteAccountStore(path, ring->get());
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE((*moved)->SigningKeys().ok());
}

// After a rotation of the key-encryption key, opening the account database wraps its
// signing keys again under the new version, so that the old one can be retired.
TEST(AccountSigningKeys, WrappedAgainUnderTheCurrentVersionOnOpen) {
  testing::TempDir dir;
  const std::string path = dir.File("accounts.db");
  auto ring = keys::Keyring::OpenOrCreate(dir.File("keyring"));
  ASSERT_TRUE(ring.ok());
  {
    auto store = OpenSqliteAccountStore(path, ring->get());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->InsertSigningKey({"k1", kPem, 1, 0}).ok());
    EXPECT_EQ(*(*store)->KekIdsInUse(), std::vector<std::string>{"file:1"});
  }
  ASSERT_TRUE((*ring)->Rotate().ok());
  auto store = OpenSqliteAccountStore(path, ring->get());
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_TRUE(RawPem(path, "k1").starts_with("ehr-wrapped:file:2:")) << RawPem(path, "k1");
  EXPECT_EQ(*(*store)->KekIdsInUse(), std::vector<std::string>{"file:2"});
  ASSERT_TRUE((*ring)->Retire("file:1").ok());
  auto keys = (*store)->SigningKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->front().private_pem, kPem);
}

}  // namespace
}  // namespace ehr::store
