// The maintenance commands on PostgreSQL (issue 8): `ehr keys`, `ehr audit`, `ehr reindex`
// and `ehr federation reconcile` take `--store postgres://... [--store-migrate CONNINFO]`
// as `ehr serve` and `ehr import` do, and work on the database a real PostgreSQL server
// holds (the keyring stays in the data directory). What each did is checked in the
// database itself, as its superuser: data key versions, index rows, audit rows.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "store/postgres/pg.h"
#include "support/ehr_process.h"
#include "support/postgres_server.h"
#include "support/test_server.h"

namespace ehr::testing {
namespace {

constexpr char kPassword[] = "app-secret-7";

// The tables of search index rows (schema.cc), every row of which `ehr reindex` remakes.
constexpr const char* kIndexTables[] = {"string_index",   "token_index",     "date_index", "number_index",
                                        "quantity_index", "reference_index", "uri_index",  "text_index"};

// A line of `ehr keys status`: `bodies` bodies under data key version `version`.
std::string KeyRow(int version, int64_t bodies) {
  const std::string count = std::to_string(bodies);
  return " v" + std::to_string(version) + " " + std::string(12 - count.size(), ' ') + count + " ";
}

class StoreCommandsPostgres : public ::testing::Test {
 protected:
  void SetUp() override {
    auto admin = store::pg::Connection::Open(pg_.ConnectionString());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    ASSERT_TRUE((*admin)->Exec(std::string("CREATE ROLE ehr_app LOGIN PASSWORD '") + kPassword + "'").ok());
    ASSERT_TRUE((*admin)->Exec("CREATE DATABASE ehr").ok());
    auto owner = store::pg::Connection::Open(pg_.ConnectionString("postgres", "ehr"));
    ASSERT_TRUE(owner.ok()) << owner.status().message();
    owner_ = std::move(*owner);
  }

  // `ehr ARGS --data DATA --store URL`: its exit code and output, which must never hold
  // the password of the connection string.
  std::pair<int, std::string> Run(const std::string& args) {
    auto result = RunEhr(args + " --data '" + data_ + "' --store '" + url_ + "'");
    EXPECT_EQ(result.second.find(kPassword), std::string::npos) << "the password is printed: " << result.second;
    return result;
  }

  // One value of a query run as the superuser (who is not bound by row-level security).
  std::string Value(const std::string& sql) {
    auto rows = owner_->ExecRows(sql);
    EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status().message();
    if (!rows.ok() || rows->size() != 1) return "<no row>";
    return rows->String(0, 0);
  }
  int64_t Count(const std::string& sql) { return std::stoll(Value(sql)); }

  // Every index row, table by table: a count and a digest of the rows in order.
  std::string DumpIndex() {
    std::string dump;
    for (const char* table : kIndexTables) {
      const std::string rows = std::string("SELECT count(*) || ' ' || ") +
                               "coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), '') FROM " + table + " x";
      dump += std::string(table) + " " + Value(rows) + "\n";
    }
    return dump;
  }

  PostgresServer pg_;
  std::unique_ptr<store::pg::Connection> owner_;
  TempDir dir_;
  const std::string data_ = dir_.path() + "/data";
  const std::string url_ =
      "postgresql://ehr_app:" + std::string(kPassword) + "@127.0.0.1:" + std::to_string(pg_.port()) + "/ehr";
};

TEST_F(StoreCommandsPostgres, KeysAuditAndReindexWorkOnThePostgresDatabase) {
  const std::string synthea = SharedData() + "/synthea/";
  auto [imported, import_out] = Run("import --store-migrate '" + pg_.ConnectionString("postgres", "ehr") + "' '" +
                                    synthea + "0-hospitalInformation1625911868739.json.bz2' '" + synthea +
                                    "0-practitionerInformation1625911868739.json.bz2' '" + synthea +
                                    "057aa36e-b892-9964-75b9-ffb46b097e34.json.bz2'");
  ASSERT_EQ(imported, 0) << import_out;
  const int64_t bodies = Count("SELECT count(*) FROM resource_version WHERE body IS NOT NULL");
  const int64_t current = Count("SELECT count(*) FROM resource_version WHERE is_current AND NOT deleted");
  ASSERT_GT(bodies, 1000) << "the Synthea record is in PostgreSQL";

  // keys status: the tenant's bodies under data key v1 of key-encryption key file:1.
  auto [status_code, status_out] = Run("keys status");
  ASSERT_EQ(status_code, 0) << status_out;
  EXPECT_NE(status_out.find("key-encryption key: file:1 (file " + data_ + "/keyring)"), std::string::npos)
      << status_out;
  EXPECT_NE(status_out.find("default"), std::string::npos) << status_out;
  EXPECT_NE(status_out.find(KeyRow(1, bodies)), std::string::npos) << bodies << " bodies under v1: " << status_out;

  // keys rotate: a new data key version in the database; the bodies stay on v1 until
  // keys reencrypt moves every one of them.
  auto [rotated, rotate_out] = Run("keys rotate");
  ASSERT_EQ(rotated, 0) << rotate_out;
  EXPECT_NE(rotate_out.find("key-encryption key file:2; new data keys for 1 tenant(s)"), std::string::npos)
      << rotate_out;
  EXPECT_EQ(Value("SELECT max(version) || ' ' || min(kek) FROM data_key WHERE tenant = 'default'"), "2 file:2")
      << "the data keys were rewrapped under the new key-encryption key";
  EXPECT_NE(Run("keys status").second.find(KeyRow(1, bodies)), std::string::npos) << "not moved yet";
  auto [reencrypted, reencrypt_out] = Run("keys reencrypt");
  ASSERT_EQ(reencrypted, 0) << reencrypt_out;
  EXPECT_NE(reencrypt_out.find("re-encrypted " + std::to_string(bodies) + " bodies"), std::string::npos)
      << reencrypt_out;
  const std::string moved = Run("keys status").second;
  EXPECT_NE(moved.find("key-encryption key: file:2"), std::string::npos) << moved;
  EXPECT_NE(moved.find(KeyRow(1, 0)), std::string::npos) << "only the audit details stay on v1: " << moved;
  EXPECT_NE(moved.find(KeyRow(2, bodies)), std::string::npos) << moved;
  // keys retire: the first key-encryption key wraps nothing now and goes; the first data key
  // still seals the audit details of the import and stays.
  auto [retired, retire_out] = Run("keys retire --min-age-hours 0");
  ASSERT_EQ(retired, 0) << retire_out;
  EXPECT_NE(retire_out.find("key-encryption key file:1: retired"), std::string::npos) << retire_out;
  EXPECT_NE(retire_out.find("data key default v1: kept, it seals 0 bodies, 0 idempotency responses, " +
                            std::to_string(bodies) + " audit details"),
            std::string::npos)
      << retire_out;

  // reindex: the rows of every current resource, lost, are made again exactly as the
  // writes made them.
  const std::string written = DumpIndex();
  const int64_t tokens = Count("SELECT count(*) FROM token_index");
  ASSERT_GT(tokens, 1000);
  for (const char* table : kIndexTables) ASSERT_TRUE(owner_->Exec(std::string("DELETE FROM ") + table).ok()) << table;
  ASSERT_NE(DumpIndex(), written);
  auto [reindexed, reindex_out] = Run("reindex");
  ASSERT_EQ(reindexed, 0) << reindex_out;
  EXPECT_NE(reindex_out.find("reindexed " + std::to_string(current) + " resources"), std::string::npos) << reindex_out;
  EXPECT_EQ(Count("SELECT count(*) FROM token_index"), tokens);
  EXPECT_EQ(DumpIndex(), written);

  // audit verify: every entry the import recorded recomputes.
  const int64_t entries = Count("SELECT count(*) FROM audit_entry");
  ASSERT_GT(entries, 1000);
  auto [verified, verify_out] = Run("audit verify");
  EXPECT_EQ(verified, 0) << verify_out;
  EXPECT_NE(verify_out.find(std::to_string(entries) + " entries"), std::string::npos) << verify_out;
  EXPECT_NE(verify_out.find("OK: every entry"), std::string::npos) << verify_out;

  // audit archive, years later: old entries move from PostgreSQL into signed segment files
  // in DATA/audit-archive (the signing key a secret of the store), and still verify.
  const std::string patient = Value("SELECT id FROM resource_version WHERE type = 'Patient' AND is_current");
  const int64_t of_patient = Count("SELECT count(*) FROM audit_entry WHERE patient = '" + patient + "'");
  ASSERT_GT(of_patient, 100);
  auto [archived, archive_out] = Run("audit archive --min-segment 1024 --now 2100-01-01T00:00:00Z");
  ASSERT_EQ(archived, 0) << archive_out;
  const int64_t segments = Count("SELECT count(*) FROM audit_archive");
  const int64_t in_segments = Count("SELECT coalesce(sum(count), 0) FROM audit_archive");
  ASSERT_GT(segments, 0) << archive_out;
  EXPECT_NE(
      archive_out.find(std::to_string(in_segments) + " entries archived in " + std::to_string(segments) + " segments"),
      std::string::npos)
      << archive_out;
  EXPECT_EQ(Count("SELECT count(*) FROM audit_entry"), entries - in_segments);
  int64_t files = 0;  // segment files (beside them, the directory's lock)
  for (const auto& f : std::filesystem::directory_iterator(data_ + "/audit-archive")) files += f.path().extension() == ".seg";
  EXPECT_EQ(files, segments);
  auto [verified_archive, verify_archive_out] = Run("audit verify");
  EXPECT_EQ(verified_archive, 0) << verify_archive_out;
  const int64_t first_segment = Count("SELECT count FROM audit_archive WHERE first = 0");
  EXPECT_NE(verify_archive_out.find("(entries 0 to " + std::to_string(first_segment - 1) + "): OK"), std::string::npos)
      << verify_archive_out;

  // audit erase: the patient's personal part goes, in PostgreSQL and in the segments; the
  // log still verifies.
  const int64_t live_of_patient = Count("SELECT count(*) FROM audit_entry WHERE patient = '" + patient + "'");
  ASSERT_GT(live_of_patient, 0);
  ASSERT_LT(live_of_patient, of_patient);
  auto [erased, erase_out] = Run("audit erase --patient " + patient);
  ASSERT_EQ(erased, 0) << erase_out;
  EXPECT_NE(erase_out.find("erased the personal part of " + std::to_string(live_of_patient) + " entries"),
            std::string::npos)
      << erase_out;
  EXPECT_NE(erase_out.find("erased the personal part of " + std::to_string(of_patient - live_of_patient) +
                           " archived entries"),
            std::string::npos)
      << erase_out;
  EXPECT_EQ(Count("SELECT count(*) FROM audit_entry WHERE patient = '" + patient + "'"), 0);
  auto [still, still_out] = Run("audit verify");
  EXPECT_EQ(still, 0) << still_out;
  EXPECT_NE(still_out.find(std::to_string(of_patient) + " erased on request"), std::string::npos) << still_out;

  // The newest entry (never archived) altered by hand, its guard trigger disabled as the
  // superuser could: named.
  const int64_t newest = Count("SELECT max(seq) FROM audit_entry");
  ASSERT_TRUE(owner_->Exec("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_guard").ok());
  auto altered = owner_->ExecRows(
      "UPDATE audit_entry SET core = convert_to(replace(convert_from(core, 'UTF8'), '\"outcome\":0', "
      "'\"outcome\":4'), 'UTF8') WHERE seq = " +
      std::to_string(newest) + " AND position('\"outcome\":0' in convert_from(core, 'UTF8')) > 0 RETURNING seq");
  ASSERT_TRUE(altered.ok()) << altered.status().message();
  ASSERT_EQ(altered->size(), 1) << "the newest entry was changed";
  auto [tampered, tampered_out] = Run("audit verify");
  EXPECT_EQ(tampered, 1) << tampered_out;
  EXPECT_NE(tampered_out.find("TAMPERED: entry " + std::to_string(newest - 1) + " was altered"), std::string::npos)
      << tampered_out;

  // The node's key for the federation file is kept in PostgreSQL: the same on each call.
  auto node_key = [&] {  // the last line (the log goes to the same output)
    auto [code, out] = Run("federation node-key");
    EXPECT_EQ(code, 0) << out;
    const size_t end = out.find_last_not_of('\n');
    const size_t start = out.rfind('\n', end);
    return end == std::string::npos ? out : out.substr(start == std::string::npos ? 0 : start + 1, end - start);
  };
  const std::string key = node_key();
  EXPECT_EQ(key.size(), 44u) << key;  // 32 bytes in base64
  EXPECT_EQ(node_key(), key);

  EXPECT_FALSE(std::filesystem::exists(data_ + "/ehr.db")) << "no command opened SQLite instead";
}

// A bad --store is a usage error naming the flag, for every command; a PostgreSQL store
// without the keyring it was served with (the wrong --data) is refused before a new
// keyring is made there.
TEST_F(StoreCommandsPostgres, RefusesABadStoreAndADirectoryWithoutTheKeyring) {
  for (const std::string command :
       {"keys status", "keys rotate", "audit verify", "audit erase --patient p", "audit archive", "reindex",
        "federation reconcile --federation f --node n --federation-pepper-file p"}) {
    auto [code, out] = RunEhr(command + " --data '" + data_ + "' --store notaurl");
    EXPECT_EQ(code, 2) << command << ": " << out;
    EXPECT_NE(out.find("--store must be sqlite or a postgres:// URL"), std::string::npos) << command << ": " << out;
    auto [migrate_code, migrate_out] = RunEhr(command + " --data '" + data_ + "' --store-migrate 'host=x'");
    EXPECT_EQ(migrate_code, 2) << command << ": " << migrate_out;
    EXPECT_NE(migrate_out.find("--store-migrate and --store-replicas go with --store postgres://"), std::string::npos)
        << command << ": " << migrate_out;
  }
  std::filesystem::create_directories(data_);
  for (const std::string command : {"keys status", "audit verify", "reindex"}) {
    auto [code, out] = Run(command);
    EXPECT_NE(code, 0) << command << ": " << out;
    EXPECT_NE(out.find("no keyring at " + data_ + "/keyring"), std::string::npos) << command << ": " << out;
  }
  EXPECT_FALSE(std::filesystem::exists(data_ + "/keyring"));
  EXPECT_FALSE(std::filesystem::exists(data_ + "/ehr.db"));
}

}  // namespace
}  // namespace ehr::testing
