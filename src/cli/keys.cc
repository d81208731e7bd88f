// `ehr keys rotate|status|reencrypt --data DIR [key store flags] [--store postgres://...
// [--store-migrate CONNINFO]]` (cli/key_store.h, cli/store_choice.h): the keys of the
// node's store, SQLite in DIR or PostgreSQL (whose keyring is still in DIR).
//
// rotate: a new version of the key-encryption key, a new data key version for every tenant,
// every data key and secret rewrapped under the new key-encryption key. New writes use the
// new versions at once (a running server rereads them within seconds); old bodies stay
// readable, and the server's re-encryption job moves them over (or `ehr keys reencrypt`
// when no server runs). Safe while the server runs: one short write transaction. Also a new
// audit archive key version: archived segments are sealed again under it by the server's
// daily archiver run, or by `ehr keys reencrypt`.
//
// retire: once re-encryption has moved everything over, deletes the data key versions that
// seal nothing (and whose successor is at least --min-age-hours old, default 1: servers
// reread the versions every few seconds) and destroys the key-encryption key versions that
// wrap nothing (removed from the keyring file, or destroyed on the token). Audit details
// keep the data key they were sealed with (the log is append-only) until archived or erased.
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "audit/archive.h"
#include "cli/admin_audit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"
#include "core/clock.h"
#include "store/accounts.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr keys rotate --data DIR [--key-store file|pkcs11 ...] [--store ...]\n"
               "       ehr keys status --data DIR [--key-store file|pkcs11 ...] [--store ...]\n"
               "       ehr keys reencrypt --data DIR [--key-store file|pkcs11 ...] [--store ...]\n"
               "       ehr keys retire --data DIR [--min-age-hours N] [--key-store file|pkcs11 ...] [--store ...]\n"
               "  --store sqlite|postgres://...  the node's store (default sqlite: DIR/ehr.db)\n"
               "  --store-migrate CONNINFO       PostgreSQL: the owner's connection, to migrate the schema\n%s%s",
               why.c_str(), why.empty() ? "" : "\n");
  return 2;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "ehr keys: %s\n", what.c_str());
  return 1;
}

int Status_(store::Store& store, const KeyStore& keys) {
  auto usage = store.KeyUsage();
  if (!usage.ok()) return Fail(usage.status().message());
  std::printf("key-encryption key: %s (%s)\n", keys.kek->CurrentId().c_str(), keys.description.c_str());
  std::printf("%-24s %8s %12s %12s %14s\n", "tenant", "key", "bodies", "responses", "audit details");
  for (const store::KeyUse& u : *usage) {
    const std::string key = u.key_version == 0 ? "plain" : "v" + std::to_string(u.key_version);
    std::printf("%-24s %8s %12lld %12lld %14lld\n", u.tenant.c_str(), key.c_str(), static_cast<long long>(u.bodies),
                static_cast<long long>(u.responses), static_cast<long long>(u.audit_details));
  }
  return 0;
}

// `retire`: the data key versions nothing is sealed with any more (Store::RetireDataKeys),
// then the key-encryption key versions that wrap nothing here: not a data key or secret of
// the store, nor a signing key of the account database (opened first: it wraps its keys
// again under the current version). Each version's fate on a line; exit 0.
int Retire(store::Store& store, const KeyStore& keys, const StoreChoice& choice, const std::string& data,
           Micros min_age) {
  auto data_keys = store.RetireDataKeys(Clock::System().Now() - min_age);
  if (!data_keys.ok()) return Fail(data_keys.status().message());
  AdminRecord record{"keys-retire", "default", "", {}, ""};
  int retired_data_keys = 0;
  for (const store::DataKeyRetirement& k : *data_keys) {
    if (k.retired) ++retired_data_keys;
    std::printf("data key %s v%u: %s\n", k.tenant.c_str(), k.version,
                k.retired ? "retired" : ("kept, " + k.kept_because).c_str());
  }
  auto in_use = store.KekIdsInUse();
  if (!in_use.ok()) return Fail(in_use.status().message());
  std::set<std::string> used(in_use->begin(), in_use->end());
  if (choice.accounts_in_postgres || std::filesystem::exists(data + "/accounts.db")) {
    auto opened = OpenAccountStore(choice, data, keys.kek.get());
    if (!opened.ok()) return Fail(opened.status().message());
    auto signing = (*opened)->KekIdsInUse();
    if (!signing.ok()) return Fail(signing.status().message());
    used.insert(signing->begin(), signing->end());
  }
  auto ids = keys.kek->Ids();
  if (!ids.ok()) return Fail(ids.status().message());
  const std::string current = keys.kek->CurrentId();
  for (const std::string& id : *ids) {
    if (id == current) {
      std::printf("key-encryption key %s: kept, the current version\n", id.c_str());
    } else if (used.count(id) != 0) {
      std::printf("key-encryption key %s: kept, it still wraps keys here\n", id.c_str());
    } else if (Status st = keys.kek->Retire(id); !st.ok()) {
      return Fail("retiring " + id + ": " + st.message());
    } else {
      std::printf("key-encryption key %s: retired\n", id.c_str());
      record.entities.push_back("kek/" + id);
    }
  }
  record.outcome_text = "retired " + std::to_string(retired_data_keys) + " data key version(s) and " +
                        std::to_string(record.entities.size()) + " key-encryption key version(s)";
  if (Status st = RecordAdministration(store, record); !st.ok()) {
    return Fail("recording the retirement in the audit log: " + st.message());
  }
  return 0;
}

}  // namespace

int Keys(int argc, char** argv) {
  if (argc < 3) return Usage("");
  const std::string verb = argv[2];
  Result<Args> args = ParseArgs(argc, argv, 3, WithStoreFlags(WithKeyStoreFlags({"data", "min-age-hours"})));
  if (!args.ok()) return Usage(args.status().message());
  if (!args->positional.empty()) return Usage("unexpected argument " + args->positional.front());
  if (verb != "rotate" && verb != "status" && verb != "reencrypt" && verb != "retire") return Usage("unknown command " + verb);
  if (args->Has("min-age-hours") && verb != "retire") return Usage("--min-age-hours is for retire");
  auto min_age_hours = ParseInt("min-age-hours", args->Get("min-age-hours", "1"), 0, 24 * 365);
  if (!min_age_hours.ok()) return Usage(min_age_hours.status().message());
  Result<StoreChoice> choice = ParseStoreChoice(*args);
  if (!choice.ok()) return Usage(choice.status().message());
  auto opened = OpenDataStore(*args, args->Get("data", "data"), *choice, 2);
  if (!opened.ok()) return Fail(opened.status().message());
  const KeyStore& keys = opened->keys;
  store::Store& store = *opened->store;

  if (verb == "status") return Status_(store, keys);
  if (verb == "retire") return Retire(store, keys, *choice, args->Get("data", "data"), static_cast<Micros>(*min_age_hours) * 3'600'000'000);
  if (verb == "rotate") {
    auto kek = keys.kek->Rotate();
    if (!kek.ok()) return Fail(kek.status().message());
    auto tenants = store.RotateDataKeys();
    if (!tenants.ok()) return Fail(tenants.status().message());
    auto archive = RotateArchiveKey(store);
    if (!archive.ok()) return Fail("the audit archive key: " + archive.status().message());
    if (Status st = RecordAdministration(store, {"keys-rotate", "default", "", {"kek/" + *kek},
                                                 "new data keys for " + std::to_string(*tenants) +
                                                     " tenant(s), audit archive key version " + std::to_string(*archive)});
        !st.ok()) {
      return Fail("recording the rotation in the audit log: " + st.message());
    }
    std::printf("key-encryption key %s; new data keys for %d tenant(s); audit archive key version %u; a running "
                "server re-encrypts older bodies in the background and seals archived audit segments again daily "
                "(else: ehr keys reencrypt)\n",
                kek->c_str(), *tenants, *archive);
    return 0;
  }
  auto rewritten = ReencryptAll(store, 500, [](int64_t done, int64_t max, int64_t count) {
    std::fprintf(stderr, "\rre-encrypting: %lld of %lld versions looked at, %lld rewritten", static_cast<long long>(done),
                 static_cast<long long>(max), static_cast<long long>(count));
    return true;
  });
  std::fprintf(stderr, "\n");
  if (!rewritten.ok()) return Fail(rewritten.status().message());
  std::printf("re-encrypted %lld bodies\n", static_cast<long long>(*rewritten));
  // Archived audit segments under an older archive key are sealed again under the newest.
  const std::string data = args->Get("data", "data");
  auto archive_keys = ArchiveKeysOf(store, false);
  if (!archive_keys.ok()) return Fail("the audit archive key: " + archive_keys.status().message());
  if (!archive_keys->empty() && std::filesystem::exists(AuditArchiveDir(data))) {
    auto signer = AuditSigner(store, data);
    if (!signer.ok()) return Fail("the audit signing key: " + signer.status().message());
    auto resealed = audit::ResealArchivedSegments(store, AuditArchiveDir(data), *signer, *archive_keys);
    if (!resealed.ok()) return Fail("archived audit segments: " + resealed.status().message());
    std::printf("sealed %d archived audit segment(s) again under archive key version %u\n", *resealed,
                archive_keys->current_version());
  }
  return Status_(store, keys);
}

}  // namespace ehr::cli
