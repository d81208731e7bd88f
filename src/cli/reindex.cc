// ehr reindex --data DIR: recomputes the search index rows of every current resource from
// the R4 search parameters of this build (after an upgrade that changes them, or for a
// database written before the search tables existed). Safe while the server runs: each
// batch is one short write transaction, and a resource written meanwhile is indexed by
// its own write. Sensitive identifiers are blinded as a write blinds them (api::IndexRowsOf).
#include <chrono>
#include <cstdio>

#include "api/criteria.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/key_store.h"
#include "fhir/json/value.h"
#include "search/sensitive_ids.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::cli {
namespace {

struct Pending {
  std::string tenant;
  std::string type;
  std::string id;
  store::IndexRows rows;
};

struct ReindexCounts {
  int64_t done = 0;
  int64_t unreadable = 0;  // bodies that are not JSON: counted, never quoted (PHI)
};

// Replaces the index rows of every current resource with those a write computes now
// (api::IndexRowsOf: sensitive identifiers blinded with `blinder`), in batches of 500.
Status ReindexStore(store::Store& store, const search::IdentifierBlinder& blinder, ReindexCounts& counts) {
  std::vector<Pending> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::Ok();
    Status st = store.Write([&](store::WriteTxn& txn) -> Status {
      for (const Pending& p : batch) EHR_RETURN_IF_ERROR(txn.ReplaceIndex(p.tenant, p.type, p.id, p.rows));
      return Status::Ok();
    });
    counts.done += static_cast<int64_t>(batch.size());
    batch.clear();
    return st;
  };
  Status st = store.ForEachCurrent([&](const std::string& tenant, store::VersionRecord&& rec) -> Status {
    Result<json::Value> resource = json::Parse(rec.body);
    if (!resource.ok()) {
      ++counts.unreadable;
      return Status::Ok();
    }
    batch.push_back({tenant, std::move(rec.type), std::move(rec.id), api::IndexRowsOf(*resource, tenant, blinder)});
    return batch.size() >= 500 ? flush() : Status::Ok();
  });
  if (st.ok()) st = flush();
  return st;
}

}  // namespace

int Reindex(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv, 2, WithKeyStoreFlags({"data"}));
  if (!args.ok() || !args->positional.empty()) {
    std::fprintf(stderr, "usage: ehr reindex --data DIR\n%s\n", args.ok() ? "" : args.status().message().c_str());
    return 2;
  }
  const std::string data = args->Get("data", "data");
  Result<KeyStore> keys = OpenKeyStore(*args, data);
  if (!keys.ok()) {
    std::fprintf(stderr, "ehr reindex: cannot open the key store: %s\n", keys.status().message().c_str());
    return 1;
  }
  store::SqliteOptions options;
  options.path = data + "/ehr.db";
  keys->Configure(options);
  Result<std::unique_ptr<store::Store>> opened = store::OpenSqliteStore(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "ehr reindex: %s\n", opened.status().message().c_str());
    return 1;
  }
  Result<std::string> blind_key = KeyStoreSecret(**opened, kBlindIndexSecret, search::IdentifierBlinder::kKeyBytes, "");
  if (!blind_key.ok()) {
    std::fprintf(stderr, "ehr reindex: cannot read the blind index key: %s\n", blind_key.status().message().c_str());
    return 1;
  }
  const auto blinder = std::make_unique<search::IdentifierBlinder>(std::move(*blind_key));
  const auto start = std::chrono::steady_clock::now();
  ReindexCounts counts;
  if (Status st = ReindexStore(**opened, *blinder, counts); !st.ok()) {
    std::fprintf(stderr, "ehr reindex: %s\n", st.message().c_str());
    return 1;
  }
  const int64_t done = counts.done;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("reindexed %lld resources in %.1f s (%.0f resources/s)%s\n", static_cast<long long>(done), seconds,
              seconds > 0 ? done / seconds : 0.0,
              counts.unreadable ? (", " + std::to_string(counts.unreadable) + " unreadable bodies skipped").c_str() : "");
  return counts.unreadable ? 1 : 0;
}

}  // namespace ehr::cli
