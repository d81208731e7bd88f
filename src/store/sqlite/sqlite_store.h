// The SQLite backend of store::Store: one database file in WAL mode, one writer thread
// that group-commits concurrent Write() calls, and a pool of reader connections.
//
// Thread safety: the returned Store may be used from any number of threads. Destroying it
// finishes every queued write (their Write() calls return normally), then closes the
// database; no read may be in progress and no call may start during destruction.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "keys/kek.h"
#include "store/store.h"

namespace ehr::store {

struct SqliteOptions {
  std::string path;  // database file; created when missing
  int readers = 8;   // reader connections (concurrent reads beyond this wait for one)
  // true: a Write() returns only once the WAL holding it is synced, so an acknowledged
  // write survives power loss (sqlite/wal_sync.h). false: it survives a process crash, but
  // the last commits may be lost on power loss.
  bool durable = true;
  Clock* clock = nullptr;  // transaction timestamps; nullptr: Clock::System(). Not owned.
  int max_batch = 256;     // most Write() calls committed together in one transaction
  int busy_timeout_ms = 5000;  // wait for a lock held by another process before kUnavailable
  // WAL pages (of 4 KB) after which a background checkpoint starts, and after which the
  // writer itself checkpoints and restarts the WAL (see sqlite/checkpointer.h).
  int checkpoint_pages = 2000;
  int wal_restart_pages = 65536;
  // Envelope encryption (sqlite/body_cipher.h). `kek` null: bodies are stored as given
  // (tests and tools only). Else bodies holding sensitive identifiers are always sealed,
  // and every body when `encrypt_bodies`. Not owned; must outlive the store.
  keys::KeyEncryptionKeys* kek = nullptr;
  bool encrypt_bodies = false;
  // The audit log's entries by patient are indexed behind the log, in cycles (audit_log.h):
  // one begins once this many entries wait, or this long after the last began; each batch
  // moves `audit_index_slice` of its entries.
  uint64_t audit_index_backlog = 16384;
  Micros audit_index_every = 2'000'000;
  int64_t audit_index_slice = 1024;
  // At most this many entries a cycle (its first step sorts them all: after a large import
  // the backlog is taken in several cycles rather than in one long step).
  uint64_t audit_index_max_cycle = 65536;
};

// Batches of writes the store committed, and how many of them are known to be on disk
// (durable stores only; a Write() returns after its batch is). For tests and metrics.
struct SqliteDurability {
  int64_t commits = 0;
  int64_t synced = 0;
};
// Zeros for a store not opened by OpenSqliteStore.
SqliteDurability DurabilityOf(Store& store);

// Opens (creating or migrating) the database. Fails with kInternal for a file that is not
// an ehr database or has a newer schema than this build, kUnavailable when it cannot be
// opened.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace ehr::store
