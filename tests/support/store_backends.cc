#include "support/store_backends.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "store/postgres/pg.h"
#include "store/postgres/pg_store.h"
#include "store/postgres/schema.h"
#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"
#include "support/postgres_server.h"

namespace ehr::testing {
namespace {

std::unique_ptr<store::Store> OrFail(Result<std::unique_ptr<store::Store>> opened) {
  if (!opened.ok()) {
    ADD_FAILURE() << "opening the store: " << opened.status().message();
    return nullptr;
  }
  return std::move(opened).value();
}

std::unique_ptr<store::AccountStore> AccountsOrFail(Result<std::unique_ptr<store::AccountStore>> opened) {
  if (!opened.ok()) {
    ADD_FAILURE() << "opening the account store: " << opened.status().message();
    return nullptr;
  }
  return std::move(opened).value();
}

class SqliteBackend final : public StoreBackend {
 public:
  SqliteBackend() {
    std::string pattern = ::testing::TempDir() + "ehr_backend_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~SqliteBackend() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  std::unique_ptr<store::Store> Open(Clock* clock, int readers) override {
    store::SqliteOptions options;
    options.path = dir_ + "/ehr.db";
    options.clock = clock;
    options.readers = readers;
    return OrFail(store::OpenSqliteStore(options));
  }
  std::unique_ptr<store::Store> OpenWithKeys(keys::KeyEncryptionKeys* kek, bool encrypt_bodies, int readers) override {
    store::SqliteOptions options;
    options.path = dir_ + "/ehr.db";
    options.readers = readers;
    options.durable = false;
    options.kek = kek;
    options.encrypt_bodies = encrypt_bodies;
    return OrFail(store::OpenSqliteStore(options));
  }
  Result<std::vector<std::string>> RawColumn(const std::string& sql) override {
    EHR_ASSIGN_OR_RETURN(auto db, store::sqlite::Connection::Open(dir_ + "/ehr.db", store::sqlite::OpenMode::kReadWrite));
    EHR_ASSIGN_OR_RETURN(store::sqlite::Stmt stmt, db->Prepare(sql, "test query"));
    std::vector<std::string> out;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return out;
      out.push_back(stmt.ColumnBlob(0));
    }
  }
  Status RawExec(const std::string& sql) override { return Exec(sql); }
  Status Exec(const std::string& sql) override {
    EHR_ASSIGN_OR_RETURN(auto db, store::sqlite::Connection::Open(dir_ + "/ehr.db", store::sqlite::OpenMode::kReadWrite));
    return db->ExecScript(sql, "test statement");
  }
  std::unique_ptr<store::AccountStore> OpenAccounts(keys::KeyEncryptionKeys* kek) override {
    return AccountsOrFail(store::OpenSqliteAccountStore(dir_ + "/accounts.db", kek));
  }
  Result<std::vector<std::string>> RawAccountsColumn(const std::string& sql) override {
    std::string local = sql;
    for (size_t at; (at = local.find("account_signing_key")) != std::string::npos;) local.replace(at, 19, "signing_key");
    EHR_ASSIGN_OR_RETURN(auto db, store::sqlite::Connection::Open(dir_ + "/accounts.db", store::sqlite::OpenMode::kReadWrite));
    EHR_ASSIGN_OR_RETURN(store::sqlite::Stmt s, db->Prepare(local, "raw accounts query"));
    std::vector<std::string> out;
    while (true) {
      EHR_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return out;
      out.push_back(s.ColumnText(0));
    }
  }
  std::string name() const override { return "sqlite"; }

 private:
  std::string dir_;
};

// One server for the whole test binary, started at first use; stopped at exit.
PostgresServer& Server() {
  static PostgresServer* server = [] {
    auto* s = new PostgresServer();
    std::atexit([] { delete &Server(); });
    return s;
  }();
  return *server;
}

class PostgresBackend final : public StoreBackend {
 public:
  PostgresBackend() {
    static std::atomic<int> count{0};
    db_ = "backend" + std::to_string(::getpid()) + "_" + std::to_string(++count);
    auto admin = store::pg::Connection::Open(Server().ConnectionString());
    if (!admin.ok()) {
      ADD_FAILURE() << admin.status().message();
      return;
    }
    // The application role exists once per server; each test gets a database of its own.
    (void)(*admin)->Exec("CREATE ROLE ehr_app LOGIN PASSWORD 'app-secret-1'");
    Status made = (*admin)->Exec("CREATE DATABASE " + db_);
    if (!made.ok()) ADD_FAILURE() << made.message();
  }
  ~PostgresBackend() override {
    auto admin = store::pg::Connection::Open(Server().ConnectionString());
    if (admin.ok()) (void)(*admin)->Exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }
  std::unique_ptr<store::Store> OpenWithKeys(keys::KeyEncryptionKeys* kek, bool encrypt_bodies, int readers) override {
    store::PostgresOptions options = Options(nullptr, readers);
    options.kek = kek;
    options.encrypt_bodies = encrypt_bodies;
    return OrFail(store::OpenPostgresStore(options));
  }
  Result<std::vector<std::string>> RawColumn(const std::string& sql) override {
    EHR_ASSIGN_OR_RETURN(auto db, store::pg::Connection::Open(Server().ConnectionString("postgres", db_)));
    EHR_ASSIGN_OR_RETURN(store::pg::Rows rows, db->Run(sql));
    std::vector<std::string> out;
    for (int i = 0; i < rows.size(); ++i) out.push_back(rows.String(i, 0));
    return out;
  }
  Status RawExec(const std::string& sql) override {
    EHR_ASSIGN_OR_RETURN(auto db, store::pg::Connection::Open(Server().ConnectionString("postgres", db_)));
    return db->Exec(sql);
  }
  store::PostgresOptions Options(Clock* clock, int readers) {
    store::PostgresOptions options;
    options.conninfo = Server().ConnectionString("ehr_app", db_, "app-secret-1");
    options.migrate_conninfo = Server().ConnectionString("postgres", db_);
    options.clock = clock;
    options.readers = readers;
    return options;
  }
  std::unique_ptr<store::Store> Open(Clock* clock, int readers) override {
    store::PostgresOptions options;
    options.conninfo = Server().ConnectionString("ehr_app", db_, "app-secret-1");
    options.migrate_conninfo = Server().ConnectionString("postgres", db_);
    options.clock = clock;
    options.readers = readers;
    return OrFail(store::OpenPostgresStore(options));
  }
  Status Exec(const std::string& sql) override {
    EHR_ASSIGN_OR_RETURN(auto db, store::pg::Connection::Open(Server().ConnectionString("ehr_app", db_, "app-secret-1")));
    return db->Exec(sql);
  }
  std::unique_ptr<store::AccountStore> OpenAccounts(keys::KeyEncryptionKeys* kek) override {
    auto owner = store::pg::Connection::Open(Server().ConnectionString("postgres", db_));
    if (!owner.ok()) return AccountsOrFail(owner.status());
    if (auto migrated = store::pg::Migrate(**owner, "ehr_app"); !migrated.ok()) return AccountsOrFail(migrated.status());
    return AccountsOrFail(store::OpenPostgresAccountStore(Server().ConnectionString("ehr_app", db_, "app-secret-1"), kek));
  }
  Result<std::vector<std::string>> RawAccountsColumn(const std::string& sql) override { return RawColumn(sql); }
  std::string name() const override { return "postgres"; }

 private:
  std::string db_;
};

}  // namespace

std::unique_ptr<StoreBackend> MakeStoreBackend(const std::string& name) {
  if (name == "postgres") return std::make_unique<PostgresBackend>();
  return std::make_unique<SqliteBackend>();
}

}  // namespace ehr::testing
