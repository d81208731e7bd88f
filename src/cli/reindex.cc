// ehr reindex --data DIR [key store flags] [--store postgres://... [--store-migrate CONNINFO]]:
// recomputes the search index rows of every current resource from the R4 search parameters
// of this build (after an upgrade that changes them, or for a database written before the
// search tables existed), in the node's store: SQLite in DIR (default) or PostgreSQL
// (cli/store_choice.h; its keys still in DIR). Safe while the server runs: each batch is
// one short write transaction, and a resource written meanwhile is indexed by its own
// write. Sensitive identifiers are blinded as a write blinds them (api::IndexRowsOf).
#include <chrono>
#include <cstdio>

#include "api/criteria.h"
#include "cli/admin_audit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"
#include "fhir/json/value.h"
#include "search/sensitive_ids.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr reindex --data DIR [--key-store file|pkcs11 ...] [--store sqlite|postgres://...]\n"
               "                   [--store-migrate CONNINFO]\n%s%s",
               why.c_str(), why.empty() ? "" : "\n");
  return 2;
}

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
  Result<Args> args = ParseArgs(argc, argv, 2, WithStoreFlags(WithKeyStoreFlags({"data"})));
  if (!args.ok()) return Usage(args.status().message());
  if (!args->positional.empty()) return Usage("unexpected argument " + args->positional.front());
  Result<StoreChoice> choice = ParseStoreChoice(*args);
  if (!choice.ok()) return Usage(choice.status().message());
  Result<DataStore> opened = OpenDataStore(*args, args->Get("data", "data"), *choice, 2);
  if (!opened.ok()) {
    std::fprintf(stderr, "ehr reindex: %s\n", opened.status().message().c_str());
    return 1;
  }
  store::Store& store = *opened->store;
  Result<std::string> blind_key = KeyStoreSecret(store, kBlindIndexSecret, search::IdentifierBlinder::kKeyBytes, "");
  if (!blind_key.ok()) {
    std::fprintf(stderr, "ehr reindex: cannot read the blind index key: %s\n", blind_key.status().message().c_str());
    return 1;
  }
  const auto blinder = std::make_unique<search::IdentifierBlinder>(std::move(*blind_key));
  const auto start = std::chrono::steady_clock::now();
  ReindexCounts counts;
  if (Status st = ReindexStore(store, *blinder, counts); !st.ok()) {
    std::fprintf(stderr, "ehr reindex: %s\n", st.message().c_str());
    return 1;
  }
  const int64_t done = counts.done;
  if (Status st = RecordAdministration(store, {"reindex", "default", "", {},
                                               "reindexed " + std::to_string(done) + " resources, " +
                                                   std::to_string(counts.unreadable) + " unreadable"});
      !st.ok()) {
    std::fprintf(stderr, "ehr reindex: recording it in the audit log: %s\n", st.message().c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("reindexed %lld resources in %.1f s (%.0f resources/s)%s\n", static_cast<long long>(done), seconds,
              seconds > 0 ? done / seconds : 0.0,
              counts.unreadable ? (", " + std::to_string(counts.unreadable) + " unreadable bodies skipped").c_str() : "");
  return counts.unreadable ? 1 : 0;
}

}  // namespace ehr::cli
