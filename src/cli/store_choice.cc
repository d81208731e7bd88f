#include "cli/store_choice.h"

#include <string_view>

#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::cli {

std::set<std::string> WithStoreFlags(std::set<std::string> known) {
  known.insert({"store", "store-migrate", "store-replicas", "accounts"});
  return known;
}

Result<StoreChoice> ParseStoreChoice(const Args& args) {
  StoreChoice choice;
  const std::string store = args.Get("store", "sqlite");
  const std::string accounts = args.Get("accounts", "file");
  if (accounts != "file" && accounts != "postgres") return Status::Invalid("--accounts must be file or postgres");
  choice.accounts_in_postgres = accounts == "postgres";
  if (store == "sqlite") {
    if (choice.accounts_in_postgres) return Status::Invalid("--accounts postgres goes with --store postgres://...");
    if (args.Has("store-migrate") || args.Has("store-replicas")) {
      return Status::Invalid("--store-migrate and --store-replicas go with --store postgres://...");
    }
    return choice;
  }
  if (!store.starts_with("postgres://") && !store.starts_with("postgresql://")) {
    return Status::Invalid("--store must be sqlite or a postgres:// URL");
  }
  choice.postgres = store;
  choice.migrate = args.Get("store-migrate");
  for (std::string_view rest = args.Get("store-replicas"); !rest.empty();) {
    const size_t comma = rest.find(',');
    const std::string_view one = rest.substr(0, comma);
    if (!one.empty()) choice.replicas.emplace_back(one);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return choice;
}

Result<std::unique_ptr<store::AccountStore>> OpenAccountStore(const StoreChoice& choice, const std::string& data,
                                                             keys::KeyEncryptionKeys* kek) {
  if (!choice.accounts_in_postgres) return store::OpenSqliteAccountStore(data + "/accounts.db", kek);
  if (!choice.migrate.empty()) {
    // The account tables come with the store's schema: brought up to date by opening it.
    store::PostgresOptions po;
    po.conninfo = choice.postgres;
    po.migrate_conninfo = choice.migrate;
    po.readers = 1;
    EHR_RETURN_IF_ERROR(store::OpenPostgresStore(po).status());
  }
  return store::OpenPostgresAccountStore(choice.postgres, kek);
}

Result<std::unique_ptr<store::Store>> OpenStore(const StoreChoice& choice, const std::string& data,
                                                const KeyStore& keys, const StoreTuning& tuning) {
  if (choice.postgres.empty()) {
    store::SqliteOptions so;
    so.path = data + "/ehr.db";
    so.readers = tuning.readers;
    so.durable = tuning.durable;
    keys.Configure(so);
    return store::OpenSqliteStore(so);
  }
  store::PostgresOptions po;
  po.conninfo = choice.postgres;
  po.migrate_conninfo = choice.migrate;
  po.replicas = choice.replicas;
  po.readers = tuning.readers;
  po.kek = keys.kek.get();
  po.encrypt_bodies = keys.encrypt_bodies;
  return store::OpenPostgresStore(po);
}

}  // namespace ehr::cli
