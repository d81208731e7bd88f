// Checkpointer: copies the WAL back into the database on its own thread and connection.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on the
// writer thread; with group commit that stalls every queued write (and it was a large part
// of the writer's time during bulk imports). Here the writer's WAL hook only signals, and
// PASSIVE checkpoints (never blocking readers or the writer) run beside it.
//
// A passive checkpoint never catches up with a writer that commits without pause (a bulk
// import): new frames arrive while it copies, so the WAL is never wholly copied, never
// restarts from its beginning, and grows without bound (11 GB after 300,000 imported
// resources). Past `restart_pages` the writer itself runs a RESTART checkpoint after its
// commit: a pause of a fraction of a second every few hundred MB, after which the next
// write reuses the WAL from its start (and journal_size_limit truncates the file).
// Thread-safe; destroy it before the writer connection.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "store/sqlite/db.h"

namespace ehr::store::sqlite {

class Checkpointer {
 public:
  // Installs the WAL hook on `writer` (replacing SQLite's auto-checkpoint) and starts the
  // thread. `checkpoint_conn` is a connection to the same database, owned from now on.
  Checkpointer(sqlite3* writer, std::unique_ptr<Connection> checkpoint_conn, int threshold_pages,
               int restart_pages);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Background checkpoints completed, and restarts by the writer, so far (for tests).
  int completed() const;
  int restarts() const;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Loop();

  sqlite3* writer_;
  std::unique_ptr<Connection> conn_;
  const int threshold_pages_;
  const int restart_pages_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool pending_ = false;  // GUARDED_BY(mu_)
  bool stop_ = false;     // GUARDED_BY(mu_)
  int completed_ = 0;     // GUARDED_BY(mu_)
  std::atomic<int> restarts_{0};
  std::thread thread_;
};

}  // namespace ehr::store::sqlite
