// ehr reindex --data DIR: recomputes the search index rows of every current resource from
// the R4 search parameters of this build (after an upgrade that changes them, or for a
// database written before the search tables existed). Safe while the server runs: each
// batch is one short write transaction, and a resource written meanwhile is indexed by
// its own write.
#include <chrono>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "fhir/json/value.h"
#include "search/indexer.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::cli {
namespace {

struct Pending {
  std::string tenant;
  std::string type;
  std::string id;
  store::IndexRows rows;
};

}  // namespace

int Reindex(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv, 2, {"data"});
  if (!args.ok() || !args->positional.empty()) {
    std::fprintf(stderr, "usage: ehr reindex --data DIR\n%s\n", args.ok() ? "" : args.status().message().c_str());
    return 2;
  }
  store::SqliteOptions options;
  options.path = args->Get("data", "data") + "/ehr.db";
  Result<std::unique_ptr<store::Store>> opened = store::OpenSqliteStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "ehr reindex: %s\n", opened.status().message().c_str());
    return 1;
  }
  store::Store& store = **opened;
  const search::Indexer& indexer = search::Indexer::Default();
  const auto start = std::chrono::steady_clock::now();
  int64_t done = 0;
  int64_t unreadable = 0;
  std::vector<Pending> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    Status st = store.Write([&](store::WriteTxn& txn) -> Status {
      for (const Pending& p : batch) EHR_RETURN_IF_ERROR(txn.ReplaceIndex(p.tenant, p.type, p.id, p.rows));
      return Status::Ok();
    });
    done += static_cast<int64_t>(batch.size());
    batch.clear();
    return st;
  };
  Status st = store.ForEachCurrent([&](const std::string& tenant, store::VersionRecord&& rec) -> Status {
    Result<json::Value> resource = json::Parse(rec.body);
    if (!resource.ok()) {
      ++unreadable;  // stored bodies are canonical JSON; counted, never quoted (PHI)
      return Status::Ok();
    }
    batch.push_back({tenant, std::move(rec.type), std::move(rec.id), indexer.Index(*resource)});
    return batch.size() >= 500 ? flush() : Status::Ok();
  });
  if (st.ok()) st = flush();
  if (!st.ok()) {
    std::fprintf(stderr, "ehr reindex: %s\n", st.message().c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("reindexed %lld resources in %.1f s (%.0f resources/s)%s\n", static_cast<long long>(done), seconds,
              seconds > 0 ? done / seconds : 0.0,
              unreadable ? (", " + std::to_string(unreadable) + " unreadable bodies skipped").c_str() : "");
  return unreadable ? 1 : 0;
}

}  // namespace ehr::cli
