#include "store/postgres/replicas.h"

#include <charconv>

namespace ehr::store::pg {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint64_t ParseLsn(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return 0;
  uint64_t high = 0, low = 0;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + slash, high, 16);
  auto [p2, e2] = std::from_chars(text.data() + slash + 1, text.data() + text.size(), low, 16);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + slash || p2 != text.data() + text.size()) return 0;
  return (high << 32) | low;
}

Status Replicas::Add(const std::string& conninfo, int readers) {
  auto replica = std::make_unique<Replica>();
  for (int i = 0; i < std::max(readers, 1); ++i) {
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::Open(conninfo));
    auto reader = std::make_unique<Reader>(Reader{std::move(conn), {}});
    replica->members.push_back(reader.get());
    replica->pool.Add(std::move(reader));
  }
  replicas_.push_back(std::move(replica));
  return Status::Ok();
}

void Replicas::Wrote(std::optional<uint64_t> lsn) {
  if (!lsn) {
    unknown_ = true;
    return;
  }
  uint64_t seen = needed_.load();
  while (*lsn > seen && !needed_.compare_exchange_weak(seen, *lsn)) {
  }
  unknown_ = false;
}

std::optional<Replicas::Pool::Lease> Replicas::CaughtUp() {
  if (replicas_.empty() || unknown_.load()) return std::nullopt;
  const uint64_t needed = needed_.load();
  const int64_t now = NowMs();
  const size_t first = next_.fetch_add(1);
  for (size_t i = 0; i < replicas_.size(); ++i) {
    Replica& r = *replicas_[(first + i) % replicas_.size()];
    if (r.down_until_ms.load() > now) continue;
    Pool::Lease lease = r.pool.Acquire();
    if (r.replayed.load() < needed) {
      // Ask the replica how far it has replayed.
      auto c = lease->Shared();
      if (!c.ok()) {
        r.down_until_ms = now + 1000;
        continue;
      }
      auto rows = (*c)->Run("SELECT pg_last_wal_replay_lsn()::text");
      if (!rows.ok() || rows->size() != 1 || rows->IsNull(0, 0)) {
        r.down_until_ms = now + 1000;
        continue;
      }
      const uint64_t replayed = ParseLsn(rows->Text(0, 0));
      uint64_t seen = r.replayed.load();
      while (replayed > seen && !r.replayed.compare_exchange_weak(seen, replayed)) {
      }
      if (replayed < needed) continue;
    }
    return lease;
  }
  return std::nullopt;
}

void Replicas::Failed(const Pool::Lease& lease) {
  for (auto& r : replicas_) {
    for (const Reader* member : r->members) {
      if (member == &*lease) r->down_until_ms = NowMs() + 1000;
    }
  }
}

}  // namespace ehr::store::pg
