// Throughput of the SQLite store: durable single-resource Write() calls from 1, 8 and 64
// threads (2 KB bodies), and ReadCurrent() from 1 and 8 threads, each against a baseline
// measured in the same run on the same disk with raw SQLite (one INSERT per durable
// transaction; one primary-key SELECT on one connection).
//
//   store_bench [--dir DIR] [--seconds S]
//
// DIR (default: $TMPDIR or /tmp) must be on the disk to measure: fsync cost is the point.
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using Clock = std::chrono::steady_clock;
using ehr::Status;
using ehr::store::NewVersion;
using ehr::store::Store;
using ehr::store::WriteTxn;

const std::string kBody = [] {
  std::string body = R"({"resourceType":"Observation","status":"final","note":")";
  while (body.size() < 2046) body += 'x';
  return body + "\"}";
}();

struct Outcome {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// Runs `op(thread, n)` in `threads` threads for `seconds`; returns operations per second
// and latency percentiles. `op` returns false to report a failure.
template <typename Op>
Outcome Run(int threads, double seconds, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(threads);
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int64_t n = 0; !stop.load(std::memory_order_relaxed); ++n) {
        const auto before = Clock::now();
        if (!op(t, n)) {
          failed = true;
          return;
        }
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) {
    std::fprintf(stderr, "benchmark operation failed\n");
    std::exit(1);
  }
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Outcome o;
  o.per_second = static_cast<double>(all.size()) / elapsed;
  if (!all.empty()) {
    o.p50_us = all[all.size() / 2];
    o.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return o;
}

void Print(const char* name, int threads, const Outcome& o, double baseline) {
  std::printf("%-34s %3d thr %10.0f /s  x%6.2f baseline  p50 %8.0f us  p99 %8.0f us\n", name, threads,
              o.per_second, o.per_second / baseline, o.p50_us, o.p99_us);
}

sqlite3* OpenRaw(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db,
                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                   "CREATE TABLE IF NOT EXISTS r (id INTEGER PRIMARY KEY, body BLOB)",
                   nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "baseline: cannot open %s\n", path.c_str());
    std::exit(1);
  }
  return db;
}

// One INSERT per durable transaction on one connection: the cost of one fsynced commit.
Outcome BaselineWrites(const std::string& path, double seconds) {
  sqlite3* db = OpenRaw(path);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO r (body) VALUES (?1)", -1, &insert, nullptr);
  Outcome o = Run(1, seconds, [&](int, int64_t) {
    sqlite3_bind_blob(insert, 1, kBody.data(), static_cast<int>(kBody.size()), SQLITE_STATIC);
    bool ok = sqlite3_step(insert) == SQLITE_DONE;  // autocommit: one transaction
    sqlite3_reset(insert);
    return ok;
  });
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return o;
}

Outcome BaselineReads(const std::string& path, double seconds) {
  sqlite3* db = OpenRaw(path);
  sqlite3_stmt* rows = nullptr;
  sqlite3_prepare_v2(db, "SELECT max(id) FROM r", -1, &rows, nullptr);
  sqlite3_step(rows);
  const int64_t count = std::max<int64_t>(sqlite3_column_int64(rows, 0), 1);
  sqlite3_finalize(rows);
  sqlite3_stmt* select = nullptr;
  sqlite3_prepare_v2(db, "SELECT body FROM r WHERE id = ?1", -1, &select, nullptr);
  std::mt19937_64 rng(1);
  Outcome o = Run(1, seconds, [&](int, int64_t) {
    sqlite3_bind_int64(select, 1, static_cast<int64_t>(rng() % count) + 1);
    bool ok = sqlite3_step(select) == SQLITE_ROW && sqlite3_column_bytes(select, 0) > 0;
    sqlite3_reset(select);
    return ok;
  });
  sqlite3_finalize(select);
  sqlite3_close(db);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
  double seconds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") base = argv[i + 1];
    if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
  }
  std::string dir = base + "/ehr_store_bench_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a directory under %s\n", base.c_str());
    return 1;
  }
  ehr::log::SetMinLevel(ehr::log::Level::kWarn);
  std::printf("SQLite %s, bodies %zu bytes, %.1f s per run, directory %s\n", sqlite3_libversion(), kBody.size(),
              seconds, dir.c_str());

  const Outcome raw_writes = BaselineWrites(dir + "/baseline.db", seconds);
  Print("baseline: raw INSERT+COMMIT (FULL)", 1, raw_writes, raw_writes.per_second);

  // Writes from `threads` threads, each Write() one new resource with two token rows.
  std::atomic<int64_t> next_id{0};
  auto write_one = [&](Store& store) {
    return [&](int, int64_t) {
      NewVersion v;
      v.tenant = "bench";
      v.type = "Observation";
      v.id = std::to_string(next_id.fetch_add(1));
      v.method = "POST";
      v.body = kBody;
      v.index.tokens = {{"status", "http://hl7.org/fhir/observation-status", "final"}, {"code", "http://loinc.org", "8867-4"}};
      return store
          .Write([&](WriteTxn& txn) {
            v.last_updated = txn.Now();
            return txn.Put(v);
          })
          .ok();
    };
  };
  auto open = [&](bool durable) {
    ehr::store::SqliteOptions options;
    options.path = dir + "/store.db";
    options.durable = durable;
    auto opened = ehr::store::OpenSqliteStore(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "open: %s\n", opened.status().message().c_str());
      std::exit(1);
    }
    return std::move(opened).value();
  };

  std::unique_ptr<Store> store = open(/*durable=*/true);
  for (int threads : {1, 8, 64}) {
    Print("store Write() durable, 1 resource", threads, Run(threads, seconds, write_one(*store)),
          raw_writes.per_second);
  }
  store = nullptr;
  // Without the per-commit fsync: shows how much of the cost is CPU rather than the disk.
  store = open(/*durable=*/false);
  for (int threads : {1, 64}) {
    Print("store Write() NOT durable (NORMAL)", threads, Run(threads, seconds, write_one(*store)),
          raw_writes.per_second);
  }

  const int64_t written = std::max<int64_t>(next_id.load(), 1);
  const Outcome raw_reads = BaselineReads(dir + "/baseline.db", seconds);
  Print("baseline: raw SELECT by rowid", 1, raw_reads, raw_reads.per_second);
  for (int threads : {1, 8}) {
    std::vector<std::mt19937_64> rngs;
    for (int t = 0; t < threads; ++t) rngs.emplace_back(t + 1);
    Outcome o = Run(threads, seconds, [&](int t, int64_t) {
      auto rec = store->ReadCurrent("bench", "Observation", std::to_string(rngs[t]() % written));
      return rec.ok() && rec->has_value();
    });
    Print("store ReadCurrent()", threads, o, raw_reads.per_second);
  }
  store.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
