// ehr audit verify --data DIR [--public-key BASE64]: recomputes the audit log offline
// (audit/log.h, VerifyLog) and names the first entry that was altered, removed or
// reordered; exit 0 when the log is whole, 1 when it is not, 2 on bad usage.
// ehr audit erase --data DIR --patient ID [--tenant T]: GDPR erasure of a patient's
// personal part of the log (the entries and the tree stay verifiable).
#include <cstdio>
#include <filesystem>

#include "audit/log.h"
#include "audit/tree_head.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/base64.h"
#include "core/secrets.h"
#include "store/sqlite/sqlite_store.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr audit verify --data DIR [--public-key BASE64]\n"
               "       ehr audit erase --data DIR --patient ID [--tenant T]\n%s%s",
               why.c_str(), why.empty() ? "" : "\n");
  return 2;
}

Result<std::unique_ptr<store::Store>> OpenData(const std::string& data) {
  if (!std::filesystem::exists(data + "/ehr.db")) return Status::NotFound("no database at " + data + "/ehr.db");
  store::SqliteOptions options;
  options.path = data + "/ehr.db";
  options.readers = 2;
  return store::OpenSqliteStore(options);
}

// The public key to check heads with: given, or that of the signing key beside the data.
Result<std::string> PublicKey(const Args& args, const std::string& data) {
  if (args.Has("public-key")) {
    auto key = Base64Decode(args.Get("public-key"));
    if (!key || key->size() != 32) return Status::Invalid("--public-key must be 32 bytes in base64");
    return *key;
  }
  const std::string path = data + "/audit-signing.key";
  if (!std::filesystem::exists(path)) return std::string();
  EHR_ASSIGN_OR_RETURN(std::string seed, LoadOrCreateSecretFile(path, 32));
  EHR_ASSIGN_OR_RETURN(audit::TreeSigner signer, audit::TreeSigner::FromSeed(seed));
  return signer.public_key();
}

}  // namespace

int Audit(int argc, char** argv) {
  if (argc < 3) return Usage("");
  const std::string sub = argv[2];
  Result<Args> args = ParseArgs(argc, argv, 3, {"data", "public-key", "patient", "tenant"});
  if (!args.ok()) return Usage(args.status().message());
  const std::string data = args->Get("data", "data");
  if (sub == "verify") {
    auto key = PublicKey(*args, data);
    if (!key.ok()) return Usage(key.status().message());
    auto store = OpenData(data);
    if (!store.ok()) {
      std::fprintf(stderr, "ehr audit verify: %s\n", store.status().message().c_str());
      return 2;
    }
    auto report = audit::VerifyLog(**store, *key);
    if (!report.ok()) {
      std::fprintf(stderr, "ehr audit verify: %s\n", report.status().message().c_str());
      return 2;
    }
    std::printf("%llu entries, %llu signed tree heads%s, %llu erased on request\n",
                static_cast<unsigned long long>(report->entries), static_cast<unsigned long long>(report->heads),
                key->empty() ? " (no public key: signatures not checked)" : "",
                static_cast<unsigned long long>(report->erased));
    if (report->ok()) {
      std::printf("OK: every entry, subtree and signed head recomputes\n");
      return 0;
    }
    for (const std::string& p : report->problems) std::printf("TAMPERED: %s\n", p.c_str());
    return 1;
  }
  if (sub == "erase") {
    if (!args->Has("patient")) return Usage("--patient is required");
    auto store = OpenData(data);
    if (!store.ok()) {
      std::fprintf(stderr, "ehr audit erase: %s\n", store.status().message().c_str());
      return 2;
    }
    auto erased = (*store)->EraseAuditDetail(args->Get("tenant", "default"), args->Get("patient"));
    if (!erased.ok()) {
      std::fprintf(stderr, "ehr audit erase: %s\n", erased.status().message().c_str());
      return 1;
    }
    std::printf("erased the personal part of %lld entries\n", static_cast<long long>(*erased));
    return 0;
  }
  return Usage("unknown audit command '" + sub + "'");
}

}  // namespace ehr::cli
