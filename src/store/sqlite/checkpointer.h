// Checkpointer: copies the WAL back into the database on its own thread and connection.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on the
// writer thread; with group commit that stalls every queued write (and it was a large part
// of the writer's time during bulk imports). Here the writer's WAL hook only signals, and
// PASSIVE checkpoints (never blocking readers or the writer) run beside it. Thread-safe;
// destroy it before the writer connection.
#pragma once

#include <sqlite3.h>

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
  Checkpointer(sqlite3* writer, std::unique_ptr<Connection> checkpoint_conn, int threshold_pages);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints completed so far (for tests).
  int completed() const;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Loop();

  sqlite3* writer_;
  std::unique_ptr<Connection> conn_;
  const int threshold_pages_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool pending_ = false;  // GUARDED_BY(mu_)
  bool stop_ = false;     // GUARDED_BY(mu_)
  int completed_ = 0;     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ehr::store::sqlite
