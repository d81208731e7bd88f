#include "store/sqlite/schema.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/sqlite/queries.h"
#include "store/sqlite/test_util.h"

namespace ehr::store::sqlite {
namespace {

using store::testing::OpenOrDie;
using store::testing::TempDir;

std::unique_ptr<Connection> OpenRaw(const std::string& path) {
  auto conn = Connection::Open(path, OpenMode::kReadWriteCreate);
  EXPECT_TRUE(conn.ok()) << conn.status().message();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

int VersionOf(const std::string& path) {
  auto conn = OpenRaw(path);
  auto v = SchemaVersion(*conn);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : -1;
}

void Exec(const std::string& path, const std::string& sql) {
  auto conn = OpenRaw(path);
  Status st = conn->ExecScript(sql, "test");
  ASSERT_TRUE(st.ok()) << st.message();
}

std::vector<Migration> WithExtra(std::vector<Migration> extra) {
  std::vector<Migration> all(Migrations().begin(), Migrations().end());
  all.insert(all.end(), extra.begin(), extra.end());
  return all;
}

TEST(SqliteSchema, NewDatabaseIsAtTheLatestVersion) {
  TempDir dir;
  SqliteOptions options;
  options.path = dir.File("ehr.db");
  ASSERT_NE(OpenOrDie(options), nullptr);
  EXPECT_EQ(VersionOf(options.path), static_cast<int>(Migrations().size()));
  ASSERT_NE(OpenOrDie(options), nullptr);  // reopening is a no-op
  EXPECT_EQ(VersionOf(options.path), static_cast<int>(Migrations().size()));
}

TEST(SqliteSchema, EveryDataTableHasATenantColumn) {
  TempDir dir;
  auto conn = OpenRaw(dir.File("ehr.db"));
  ASSERT_TRUE(Migrate(*conn, Migrations(), 0).ok());
  sqlite3_stmt* tables = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(conn->raw(),
                               "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                               "AND name <> 'schema_version'",
                               -1, &tables, nullptr),
            SQLITE_OK);
  std::vector<std::string> names;
  while (sqlite3_step(tables) == SQLITE_ROW) names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(tables, 0)));
  sqlite3_finalize(tables);
  // resource_version, idempotency, audit_entry, outbox, search_param, and the index tables:
  // token, string, date, number, quantity, reference, uri, whose rows carry the tenant
  // through their parameter's key in search_param, and the full-text table, whose rows
  // carry that key as their `scope` word (its FTS5 shadow tables hold nothing else).
  // token_system numbers code system URIs for every tenant alike: it holds no one's data,
  // and only index rows (each under its tenant's key) refer to it. The audit log is one
  // Merkle tree over the entries of every tenant: its subtrees and signed heads are hashes
  // of the whole log, no one's data; its archived segments are ranges of it. Named secrets
  // are the server's (cursor and signing keys), and the re-encryption mark says which key
  // versions are done; data keys are per tenant. The patient index of the audit log
  // (audit_patient) has its tenant; its mark is a number.
  std::erase_if(names, [](const std::string& n) {
    return n.starts_with("text_index_") || n == "token_system" || n == "audit_node" || n == "audit_head" ||
           n == "audit_archive" || n == "secret" || n == "reencrypt_mark" || n == "audit_patient_mark";
  });
  EXPECT_EQ(names.size(), 15u);
  for (const std::string& name : names) {
    if (name == "text_index") {
      EXPECT_EQ(*conn->QueryText("SELECT count(*) FROM pragma_table_info('text_index') WHERE name = 'scope'", "test"),
                "1");
      continue;
    }
    const bool index_rows = name.ends_with("_index");
    auto has = conn->QueryText("SELECT count(*) FROM pragma_table_info('" + name + "') WHERE name = '" +
                                   (index_rows ? "pk" : "tenant") + "' AND \"notnull\" = 1",
                               "test");
    ASSERT_TRUE(has.ok());
    EXPECT_EQ(*has, "1") << name;
  }
}

TEST(SqliteSchema, OlderDatabaseIsMigratedKeepingItsData) {
  TempDir dir;
  const std::string path = dir.File("ehr.db");
  {
    auto conn = OpenRaw(path);
    ASSERT_TRUE(Migrate(*conn, Migrations(), 0).ok());
    ASSERT_TRUE(conn->Run("BEGIN", "test").ok());
    NewVersion v;
    v.tenant = "t";
    v.type = "Patient";
    v.id = "p";
    v.method = "POST";
    v.body = "{}";
    ASSERT_TRUE(Put(*conn, v, v.body).ok());
    ASSERT_TRUE(conn->Run("COMMIT", "test").ok());
  }
  const int base = static_cast<int>(Migrations().size());
  auto later = WithExtra({{base + 1, "ALTER TABLE resource_version ADD COLUMN source TEXT;"},
                          {base + 2, "CREATE TABLE blob_store (tenant TEXT NOT NULL, id TEXT NOT NULL, data BLOB);"}});
  {
    auto conn = OpenRaw(path);
    Status st = Migrate(*conn, later, 0);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(*SchemaVersion(*conn), base + 2);
    auto kept = ReadCurrent(*conn, "t", "Patient", "p");
    ASSERT_TRUE(kept.ok() && kept->has_value());
    EXPECT_EQ((*kept)->body, "{}");
    EXPECT_TRUE(conn->ExecScript("SELECT source FROM resource_version; SELECT * FROM blob_store;", "test").ok());
    EXPECT_TRUE(Migrate(*conn, later, 0).ok()) << "migrating an up-to-date database is a no-op";
  }
  auto rows = OpenRaw(path)->QueryText("SELECT count(*) FROM schema_version", "test");
  EXPECT_EQ(*rows, std::to_string(base + 2)) << "one row per applied migration";
}

TEST(SqliteSchema, FailedMigrationLeavesTheDatabaseUnchanged) {
  TempDir dir;
  const std::string path = dir.File("ehr.db");
  auto conn = OpenRaw(path);
  ASSERT_TRUE(Migrate(*conn, Migrations(), 0).ok());
  const int base = static_cast<int>(Migrations().size());
  Status st = Migrate(*conn, WithExtra({{base + 1, "CREATE TABLE half_done (tenant TEXT);"},
                                        {base + 2, "THIS IS NOT SQL;"}}),
                      0);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(*SchemaVersion(*conn), base);
  EXPECT_EQ(*conn->QueryText("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'", "test"), "0");
  EXPECT_TRUE(conn->InAutocommit());
}

TEST(SqliteSchema, NewerDatabaseIsRefused) {
  TempDir dir;
  SqliteOptions options;
  options.path = dir.File("ehr.db");
  ASSERT_NE(OpenOrDie(options), nullptr);
  Exec(options.path, "INSERT INTO schema_version (version, applied) VALUES (99, 0)");
  auto opened = OpenSqliteStore(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kInternal);
  EXPECT_NE(opened.status().message().find("newer"), std::string::npos) << opened.status().message();
  EXPECT_EQ(VersionOf(options.path), 99);
}

TEST(SqliteSchema, ForeignDatabaseIsRefused) {
  TempDir dir;
  SqliteOptions options;
  options.path = dir.File("other.db");
  Exec(options.path, "CREATE TABLE something_else (x INTEGER)");
  auto opened = OpenSqliteStore(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("not an ehr database"), std::string::npos);
  EXPECT_EQ(VersionOf(options.path), 0);
}

TEST(SqliteSchema, MigrationsAreNumberedWithoutGaps) {
  auto all = Migrations();
  ASSERT_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i) + 1);
  TempDir dir;
  auto conn = OpenRaw(dir.File("ehr.db"));
  EXPECT_FALSE(Migrate(*conn, std::vector<Migration>{{2, "SELECT 1;"}}, 0).ok());
}

}  // namespace
}  // namespace ehr::store::sqlite
