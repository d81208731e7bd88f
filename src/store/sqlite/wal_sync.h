// WalSync: makes the commits already written to the WAL durable, off the writer thread.
//
// With synchronous=FULL, SQLite fsyncs the WAL inside every COMMIT, and the single writer
// thread waits for the disk (7 ms per fsync on the development VM) before it can start the
// next batch. In durable mode the store instead commits with synchronous=NORMAL (the WAL is
// written, not synced) and hands the batch's Write() calls to a syncer thread, which
// fdatasyncs the WAL file and only then lets them return; the writer runs the next batch
// meanwhile. An acknowledged write has therefore been synced, as with FULL. SQLite's NORMAL
// mode keeps the database consistent across power loss on its own (it syncs the WAL before
// each checkpoint and when it starts reusing it); what it may lose, the last unsynced
// commits, were never acknowledged.
//
// One difference from FULL: a reader can see a commit in the few milliseconds before its
// sync, and a power loss in that window would take it back (its writer got no answer, and
// retries; Idempotency-Key makes the retry safe).
//
// Thread-compatible: used by the syncer thread only.
#pragma once

#include <string>

#include "core/status.h"

namespace ehr::store::sqlite {

class WalSync {
 public:
  explicit WalSync(std::string database_path) : wal_path_(std::move(database_path) + "-wal") {}
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // fdatasync of the WAL file: every frame written before the call is durable once it
  // returns Ok. The file is opened on first use (its directory is synced then too, so that
  // the file itself survives a power loss); SQLite keeps the same file while any
  // connection is open, truncating it rather than deleting it.
  Status Sync();

 private:
  std::string wal_path_;
  int fd_ = -1;
};

}  // namespace ehr::store::sqlite
