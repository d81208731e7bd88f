// Streaming replicas of the PostgreSQL store (issue 8): reads (by id, history, searches,
// counts) go to a replica once it has replayed every write this store has acknowledged, so
// that whoever wrote reads their write (and everyone else's acknowledged before it); when
// no replica has caught up, or one fails, the read goes to the primary. A replica's replay
// position is cached and asked again only when a read needs a newer one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/connection_pool.h"
#include "store/postgres/reader.h"

namespace ehr::store::pg {

// "16/B374D848" as a number; 0 for anything else.
uint64_t ParseLsn(std::string_view text);

class Replicas {
 public:
  using Pool = ConnectionPool<Reader>;

  // Connects `readers` sessions to the replica. kUnavailable when it cannot be reached.
  Status Add(const std::string& conninfo, int readers);
  bool empty() const { return replicas_.empty(); }

  // The primary's WAL position after a commit (Wrote), which a replica must have replayed
  // to serve reads.
  // nullopt: a write was acknowledged whose position is unknown; no replica serves until
  // the next known one.
  void Wrote(std::optional<uint64_t> lsn);
  // A reader of a replica that has replayed every acknowledged write; nullopt: none has.
  std::optional<Pool::Lease> CaughtUp();
  // The replica of `lease` failed a read: left alone for a second.
  void Failed(const Pool::Lease& lease);

  int64_t reads() const { return reads_.load(); }
  void Counted() { ++reads_; }

 private:
  struct Replica {
    Pool pool;
    std::atomic<uint64_t> replayed{0};
    std::atomic<int64_t> down_until_ms{0};
    std::vector<const Reader*> members;  // to find the replica of a lease
  };
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::atomic<uint64_t> needed_{0};
  std::atomic<bool> unknown_{false};
  std::atomic<size_t> next_{0};
  std::atomic<int64_t> reads_{0};
};

}  // namespace ehr::store::pg
