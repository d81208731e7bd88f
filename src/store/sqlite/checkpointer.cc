#include "store/sqlite/checkpointer.h"

#include "core/log.h"

namespace ehr::store::sqlite {

Checkpointer::Checkpointer(sqlite3* writer, std::unique_ptr<Connection> checkpoint_conn, int threshold_pages,
                           int restart_pages)
    : writer_(writer),
      conn_(std::move(checkpoint_conn)),
      threshold_pages_(threshold_pages),
      restart_pages_(restart_pages) {
  sqlite3_wal_hook(writer_, &Checkpointer::OnCommit, this);
  thread_ = std::thread([this] { Loop(); });
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int Checkpointer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

int Checkpointer::restarts() const { return restarts_.load(); }

int Checkpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (wal_pages >= c->restart_pages_) {
    // On the writer, between its transactions (as SQLite's own auto-checkpoint runs). BUSY
    // (a background checkpoint is running, or a reader kept an old snapshot past the busy
    // timeout) leaves it to the next commit.
    const int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      c->restarts_.fetch_add(1);
      return SQLITE_OK;
    }
    if (rc != SQLITE_BUSY) log::Warn("store.checkpoint_failed", {{"code", rc}});
  }
  if (wal_pages >= c->threshold_pages_) {
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->pending_ = true;
    }
    c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return pending_ || stop_; });
    if (stop_) return;  // closing the last connection checkpoints what is left
    pending_ = false;
    lock.unlock();
    int log_frames = 0;
    int rc = sqlite3_wal_checkpoint_v2(conn_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, nullptr);
    // -1 frames: this connection does not see the database in WAL mode (a set-up bug).
    if (log_frames < 0) rc = SQLITE_MISUSE;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) log::Warn("store.checkpoint_failed", {{"code", rc}});
    lock.lock();
    ++completed_;
  }
}

}  // namespace ehr::store::sqlite
