// The storage backends a shared test runs against (issue 8: every storage test on SQLite and
// on PostgreSQL; a difference in behaviour is a bug). Each backend is a fresh, empty
// database: a SQLite file in a temporary directory, or a database of its own on a
// PostgreSQL server that the test binary starts once (support/postgres_server.h) and that
// the store reaches as an application role subject to row-level security.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "keys/kek.h"
#include "store/accounts.h"
#include "store/store.h"

namespace ehr::testing {

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens a store over this backend's database: each call the same database, so a reopened
  // store sees what the last one wrote. Fails the test and returns nullptr when it cannot.
  virtual std::unique_ptr<store::Store> Open(Clock* clock, int readers = 4) = 0;
  // The same with envelope encryption (store/body_cipher.h): `kek` not owned.
  virtual std::unique_ptr<store::Store> OpenWithKeys(keys::KeyEncryptionKeys* kek, bool encrypt_bodies,
                                                     int readers = 4) = 0;
  // As whoever holds the database itself (the SQLite file; PostgreSQL's superuser, whom
  // row-level security does not bind): the first column of every row, as stored; and a
  // statement.
  virtual Result<std::vector<std::string>> RawColumn(const std::string& sql) = 0;
  virtual Status RawExec(const std::string& sql) = 0;
  // Runs SQL on the database as the server would: the SQLite file, or PostgreSQL as the
  // server's role (for tests that tamper by hand).
  virtual Status Exec(const std::string& sql) = 0;
  // The account store (store/accounts.h) over this backend: the SQLite account database
  // beside the store's file, or the account_* tables of the PostgreSQL database (migrated
  // first). Each call the same accounts. Fails the test and returns nullptr when it cannot.
  virtual std::unique_ptr<store::AccountStore> OpenAccounts(keys::KeyEncryptionKeys* kek) = 0;
  // The first column of every row of `sql` over the account store's tables as stored (the
  // SQLite account database; PostgreSQL's superuser), with the PostgreSQL table names:
  // "account_signing_key" is SQLite's "signing_key".
  virtual Result<std::vector<std::string>> RawAccountsColumn(const std::string& sql) = 0;
  virtual std::string name() const = 0;
};

// "sqlite" or "postgres".
std::unique_ptr<StoreBackend> MakeStoreBackend(const std::string& name);
inline std::vector<std::string> StoreBackendNames() { return {"sqlite", "postgres"}; }

}  // namespace ehr::testing
