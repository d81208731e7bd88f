// `ehr keys rotate|status|reencrypt --data DIR [key store flags] [--store postgres://...
// [--store-migrate CONNINFO]]` (cli/key_store.h, cli/store_choice.h): the keys of the
// node's store, SQLite in DIR or PostgreSQL (whose keyring is still in DIR).
//
// rotate: a new version of the key-encryption key, a new data key version for every tenant,
// every data key and secret rewrapped under the new key-encryption key. New writes use the
// new versions at once (a running server rereads them within seconds); old bodies stay
// readable, and the server's re-encryption job moves them over (or `ehr keys reencrypt`
// when no server runs). Safe while the server runs: one short write transaction.
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/key_store.h"
#include "cli/store_choice.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr keys rotate --data DIR [--key-store file|pkcs11 ...] [--store ...]\n"
               "       ehr keys status --data DIR [--key-store file|pkcs11 ...] [--store ...]\n"
               "       ehr keys reencrypt --data DIR [--key-store file|pkcs11 ...] [--store ...]\n"
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
  std::printf("%-24s %8s %12s\n", "tenant", "key", "bodies");
  for (const store::KeyUse& u : *usage) {
    const std::string key = u.key_version == 0 ? "plain" : "v" + std::to_string(u.key_version);
    std::printf("%-24s %8s %12lld\n", u.tenant.c_str(), key.c_str(), static_cast<long long>(u.bodies));
  }
  return 0;
}

}  // namespace

int Keys(int argc, char** argv) {
  if (argc < 3) return Usage("");
  const std::string verb = argv[2];
  Result<Args> args = ParseArgs(argc, argv, 3, WithStoreFlags(WithKeyStoreFlags({"data"})));
  if (!args.ok()) return Usage(args.status().message());
  if (!args->positional.empty()) return Usage("unexpected argument " + args->positional.front());
  if (verb != "rotate" && verb != "status" && verb != "reencrypt") return Usage("unknown command " + verb);
  Result<StoreChoice> choice = ParseStoreChoice(*args);
  if (!choice.ok()) return Usage(choice.status().message());
  auto opened = OpenDataStore(*args, args->Get("data", "data"), *choice, 2);
  if (!opened.ok()) return Fail(opened.status().message());
  const KeyStore& keys = opened->keys;
  store::Store& store = *opened->store;

  if (verb == "status") return Status_(store, keys);
  if (verb == "rotate") {
    auto kek = keys.kek->Rotate();
    if (!kek.ok()) return Fail(kek.status().message());
    auto tenants = store.RotateDataKeys();
    if (!tenants.ok()) return Fail(tenants.status().message());
    std::printf("key-encryption key %s; new data keys for %d tenant(s); a running server re-encrypts older "
                "bodies in the background (else: ehr keys reencrypt)\n",
                kek->c_str(), *tenants);
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
  return Status_(store, keys);
}

}  // namespace ehr::cli
