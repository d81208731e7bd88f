// The store on SQLite and on PostgreSQL in one run (issue 8): the same workloads against
// each backend, durable (SQLite syncs its WAL before acknowledging; PostgreSQL runs with
// fsync and synchronous_commit on), each figure absolute and as the ratio PostgreSQL / SQLite.
//
//   store_backend_bench [--dir DIR] [--seconds S] [--only sqlite|postgres]
//
//   create      Write() of one new Observation with its index rows (16 rows), 1 / 8 / 64 threads
//   import      Write() of a batch of 100 such Observations, 2 threads (resources/s)
//   read by id  ReadCurrent() of a random stored Observation, 1 / 8 threads
//
// The PostgreSQL server is a throwaway cluster in DIR (support/postgres_server.h), on the
// same disk as the SQLite file.
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
#include "store/postgres/pg.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/postgres_server.h"

namespace {

using SteadyClock = std::chrono::steady_clock;
using ehr::Status;
using ehr::store::NewVersion;
using ehr::store::Store;
using ehr::store::WriteTxn;

struct Outcome {
  double per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
};

// Runs `op(thread)` in `threads` threads for `seconds`; op returns how many items it did
// (0: a failure).
template <typename Op>
Outcome Run(int threads, double seconds, Op op) {
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<int64_t> items{0};
  std::vector<std::vector<double>> latencies(threads);
  std::vector<std::thread> pool;
  const auto start = SteadyClock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (!stop.load(std::memory_order_relaxed)) {
        const auto before = SteadyClock::now();
        const int done = op(t);
        if (done == 0) {
          failed = true;
          return;
        }
        items += done;
        latencies[t].push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - before).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  if (failed) {
    std::fprintf(stderr, "benchmark operation failed\n");
    std::exit(1);
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Outcome o;
  o.per_second = static_cast<double>(items.load()) / elapsed;
  if (!all.empty()) {
    o.p50_us = all[all.size() / 2];
    o.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return o;
}

NewVersion Observation(int64_t n) {
  NewVersion v;
  v.tenant = "bench";
  v.type = "Observation";
  v.id = "o" + std::to_string(n);
  v.method = "POST";
  v.body = R"({"resourceType":"Observation","id":")" + v.id +
           R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},)"
           R"("subject":{"reference":"Patient/p)" + std::to_string(n % 1000) +
           R"("},"effectiveDateTime":"2024-03-01T10:00:00Z","valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}})";
  auto& ix = v.index;
  ix.tokens = {{"status", "http://hl7.org/fhir/observation-status", "final", ""},
               {"code", "http://loinc.org", "8867-4", "heart rate"},
               {"category", "http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", ""},
               {"_id", "", v.id, ""}};
  ix.references = {{"subject", "Patient", "p" + std::to_string(n % 1000), ""},
                   {"patient", "Patient", "p" + std::to_string(n % 1000), ""}};
  ix.dates = {{"date", 1709287200000000, 1709287200000000}, {"_lastUpdated", 1709287200000000, 1709287200000000}};
  ix.quantities = {{"value-quantity", 72, "http://unitsofmeasure.org", "/min", "/min", 1.2, "s-1"}};
  ix.strings = {{"code:text", "heart rate", "Heart rate"}};
  ix.uris = {{"_profile", "http://hl7.org/fhir/StructureDefinition/heartrate"}};
  ix.numbers = {{"value", 72}};
  ix.content = "final heart rate 8867-4 vital-signs";
  return v;
}

struct Figures {
  std::vector<std::pair<std::string, Outcome>> rows;
};

Figures Measure(Store& store, double seconds) {
  Figures f;
  std::atomic<int64_t> next{0};
  auto create = [&](int) {
    NewVersion v = Observation(next.fetch_add(1));
    return store.Write([&](WriteTxn& txn) {
             v.last_updated = txn.Now();
             return txn.Put(v);
           }).ok()
               ? 1
               : 0;
  };
  for (int threads : {1, 8, 64}) f.rows.emplace_back("create, " + std::to_string(threads) + " thr", Run(threads, seconds, create));
  auto import = [&](int) {
    std::vector<NewVersion> batch;
    for (int i = 0; i < 100; ++i) batch.push_back(Observation(next.fetch_add(1)));
    return store.Write([&](WriteTxn& txn) -> Status {
             for (NewVersion& v : batch) {
               v.last_updated = txn.Now();
               EHR_RETURN_IF_ERROR(txn.Put(v));
             }
             return Status::Ok();
           }).ok()
               ? 100
               : 0;
  };
  f.rows.emplace_back("import, 100 a batch, 2 thr", Run(2, seconds, import));
  const int64_t written = std::max<int64_t>(next.load(), 1);
  for (int threads : {1, 8}) {
    std::vector<std::mt19937_64> rngs;
    for (int t = 0; t < threads; ++t) rngs.emplace_back(t + 1);
    f.rows.emplace_back("read by id, " + std::to_string(threads) + " thr", Run(threads, seconds, [&](int t) {
                          auto rec = store.ReadCurrent("bench", "Observation", "o" + std::to_string(rngs[t]() % written));
                          return rec.ok() && rec->has_value() ? 1 : 0;
                        }));
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::string base = getenv("TMPDIR") != nullptr ? getenv("TMPDIR") : "/tmp";
  double seconds = 3;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir") base = argv[i + 1];
    if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    if (flag == "--only") only = argv[i + 1];
  }
  std::string dir = base + "/ehr_backend_bench_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a directory under %s\n", base.c_str());
    return 1;
  }
  ehr::log::SetMinLevel(ehr::log::Level::kWarn);

  Figures sqlite;
  if (only != "postgres") {
    ehr::store::SqliteOptions options;
    options.path = dir + "/ehr.db";
    auto store = ehr::store::OpenSqliteStore(options);
    if (!store.ok()) {
      std::fprintf(stderr, "sqlite: %s\n", store.status().message().c_str());
      return 1;
    }
    sqlite = Measure(**store, seconds);
  }
  Figures postgres;
  if (only != "sqlite") {
    ehr::testing::PostgresServer server(/*durable=*/true);
    auto admin = ehr::store::pg::Connection::Open(server.ConnectionString());
    if (!admin.ok() || !(*admin)->Exec("CREATE ROLE ehr_app LOGIN PASSWORD 'bench-1'").ok() ||
        !(*admin)->Exec("CREATE DATABASE ehr").ok()) {
      std::fprintf(stderr, "postgres: cannot set up the database\n");
      return 1;
    }
    ehr::store::PostgresOptions options;
    options.conninfo = server.ConnectionString("ehr_app", "ehr", "bench-1");
    options.migrate_conninfo = server.ConnectionString("postgres", "ehr");
    if (getenv("EHR_BENCH_MAX_BATCH") != nullptr) options.max_batch = std::atoi(getenv("EHR_BENCH_MAX_BATCH"));
    auto store = ehr::store::OpenPostgresStore(options);
    if (!store.ok()) {
      std::fprintf(stderr, "postgres: %s\n", store.status().message().c_str());
      return 1;
    }
    postgres = Measure(**store, seconds);
  }
  std::printf("%-28s %12s %12s %8s %10s %10s %10s %10s\n", "workload", "sqlite /s", "postgres /s", "pg/sqlite",
              "sq p50 us", "pg p50 us", "sq p99 us", "pg p99 us");
  const Figures& names = sqlite.rows.empty() ? postgres : sqlite;
  for (size_t i = 0; i < names.rows.size(); ++i) {
    const Outcome s = sqlite.rows.empty() ? Outcome{} : sqlite.rows[i].second;
    const Outcome p = postgres.rows.empty() ? Outcome{} : postgres.rows[i].second;
    std::printf("%-28s %12.0f %12.0f %8.2f %10.0f %10.0f %10.0f %10.0f\n", names.rows[i].first.c_str(), s.per_second,
                p.per_second, p.per_second / s.per_second, s.p50_us, p.p50_us, s.p99_us, p.p99_us);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
