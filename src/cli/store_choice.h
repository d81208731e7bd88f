// Where a command keeps the clinical data of a node (issue 8):
//
//   --store sqlite|postgres://...   SQLite in the data directory (default), or PostgreSQL
//                                   (a libpq URL: postgres:// or postgresql://)
//   --store-migrate CONNINFO        PostgreSQL: the owner's connection, to migrate the schema
//   --store-replicas URL,URL        PostgreSQL: streaming replicas for reads
//   --accounts file|postgres        where users, sessions, clients and token signing keys
//                                   live: DATA/accounts.db (default), or the account_* tables
//                                   of the --store PostgreSQL database (store/accounts.h)
//
// Connection strings may hold a password: never logged (better in ~/.pgpass or PGPASSFILE).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/key_store.h"
#include "core/status.h"
#include "store/accounts.h"
#include "store/store.h"

namespace ehr::cli {

struct StoreChoice {
  std::string postgres;  // empty: SQLite
  std::string migrate;
  std::vector<std::string> replicas;
  bool accounts_in_postgres = false;  // --accounts postgres
};

// The flags above, for a command's list of known flags.
std::set<std::string> WithStoreFlags(std::set<std::string> known);
// kInvalid naming the flag at fault.
Result<StoreChoice> ParseStoreChoice(const Args& args);

struct StoreTuning {
  int readers = 8;
  bool durable = true;  // SQLite: sync before acknowledging (PostgreSQL always commits durably)
};
// The node's account store: DATA/accounts.db, or PostgreSQL's account_* tables (the schema
// is migrated first when `choice.migrate` is given). `kek` wraps the token signing keys.
Result<std::unique_ptr<store::AccountStore>> OpenAccountStore(const StoreChoice& choice, const std::string& data,
                                                             keys::KeyEncryptionKeys* kek);

// Opens the node's store: SQLite at DATA/ehr.db, or PostgreSQL; with the key store's keys.
Result<std::unique_ptr<store::Store>> OpenStore(const StoreChoice& choice, const std::string& data,
                                                const KeyStore& keys, const StoreTuning& tuning);

}  // namespace ehr::cli
