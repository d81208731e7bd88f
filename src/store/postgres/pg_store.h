// The PostgreSQL backend of store::Store (issue 8): one writer connection that
// group-commits concurrent Write() calls (store/group_commit.h), each in its own savepoint
// of one transaction, and a pool of reader connections. Every statement runs with the
// tenant set in the session (readers) or the transaction (writer), so PostgreSQL's
// row-level security (schema.h) admits that tenant's rows and no other, whatever the SQL.
//
// Envelope encryption as on SQLite (store/body_cipher.h): bodies, idempotency responses and
// audit details sealed under each tenant's data keys, wrapped by the key-encryption key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "keys/kek.h"
#include "store/store.h"

namespace ehr::store {

struct PostgresOptions {
  // libpq connection string of the server's role, which may be neither a superuser nor one
  // that bypasses row-level security (refused: kInvalid).
  std::string conninfo;
  // The database owner's: the schema is brought up to date with it first. Empty: the
  // schema must be current already.
  std::string migrate_conninfo;
  int readers = 8;         // reader connections (concurrent reads beyond this wait for one)
  Clock* clock = nullptr;  // transaction timestamps; nullptr: Clock::System(). Not owned.
  int max_batch = 256;     // most Write() calls committed together in one transaction
  // Envelope encryption (store/body_cipher.h). `kek` null: bodies are stored as given (tests
  // and tools only). Else bodies holding sensitive identifiers are always sealed, and every
  // body when `encrypt_bodies`. Not owned; must outlive the store.
  keys::KeyEncryptionKeys* kek = nullptr;
  bool encrypt_bodies = false;
  // Streaming replicas of the database (the same role on each): reads by id, history,
  // searches and counts go to one that has replayed every write this store acknowledged,
  // else to the primary (postgres/replicas.h).
  std::vector<std::string> replicas;
};

// Reads a replica served (0 for another backend). For tests and metrics.
int64_t ReplicaReadsOf(Store& store);

// kUnavailable when the server cannot be reached; kInvalid for a role or schema it must
// not run with.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

}  // namespace ehr::store
