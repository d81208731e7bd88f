// `ehr backup --data DIR --out DEST [--include-keyring yes] [key store flags]`
// `ehr restore --from DEST --data DIR [key store flags]`
// (backup/snapshot.h). The server may run during a backup.
#include <cstdio>

#include "backup/snapshot.h"
#include "cli/admin_audit.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/key_store.h"
#include "core/clock.h"

namespace ehr::cli {
namespace {

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "usage: ehr backup --data DIR --out NEW_DIR [--include-keyring yes] [--keyring FILE]\n"
               "       ehr restore --from BACKUP_DIR --data NEW_DIR [--keyring FILE]\n%s%s",
               why.c_str(), why.empty() ? "" : "\n");
  return 2;
}

}  // namespace

int Backup(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv, 2, WithKeyStoreFlags({"data", "out", "include-keyring"}));
  if (!args.ok()) return Usage(args.status().message());
  const std::string data = args->Get("data", "data");
  const std::string out = args->Get("out");
  if (out.empty()) return Usage("--out is required");
  const std::string include = args->Get("include-keyring", "no");
  if (include != "yes" && include != "no") return Usage("--include-keyring must be yes or no");
  backup::BackupOptions options;
  if (include == "yes") {
    if (args->Get("key-store", "file") != "file") return Usage("--include-keyring: the keys are in a PKCS#11 token, not a file");
    options.keyrings = true;
    options.keyring_file = args->Get("keyring");
  }
  Result<backup::Manifest> made = backup::Backup(data, out, options, FormatInstant(Clock::System().Now()));
  if (!made.ok()) {
    std::fprintf(stderr, "ehr backup: %s\n", made.status().message().c_str());
    return 1;
  }
  // A copy of every record is an administrative action of its own (recorded once it is
  // made: the log holds no backup that was not taken).
  if (Status st = RecordInNodeLogs(*args, {"backup", "default", "", {},
                                          std::string("backup") + (made->keyring ? " with the keyring" : "")});
      !st.ok()) {
    std::fprintf(stderr, "ehr backup: recording it in the audit log: %s\n", st.message().c_str());
    return 1;
  }
  uint64_t bytes = 0;
  for (const backup::FileEntry& f : made->files) bytes += f.bytes;
  std::printf("backed up %zu files (%.1f MB) to %s\n", made->files.size(), bytes / 1e6, out.c_str());
  if (!made->keyring) {
    std::printf("the keyring is not in the backup: keep a copy of it apart (without it the backup cannot be read)\n");
  }
  return 0;
}

int Restore(int argc, char** argv) {
  Result<Args> args = ParseArgs(argc, argv, 2, WithKeyStoreFlags({"from", "data"}));
  if (!args.ok()) return Usage(args.status().message());
  const std::string from = args->Get("from");
  const std::string data = args->Get("data");
  if (from.empty() || data.empty()) return Usage("--from and --data are required");
  Result<backup::Manifest> restored = backup::Restore(from, data);
  if (!restored.ok()) {
    std::fprintf(stderr, "ehr restore: %s\n", restored.status().message().c_str());
    return 1;
  }
  std::printf("restored %zu files of the backup of %s into %s%s; check it with: ehr audit verify --data %s\n",
              restored->files.size(), restored->created.c_str(), data.c_str(),
              restored->keyring ? "" : " (put the keyring back beside them, or give --keyring)", data.c_str());
  // The restore in each restored node's log: now where its keys are here, else when it
  // next starts (admin_audit.h).
  const std::vector<std::string> nodes = NodeDirectories(data);
  for (const std::string& node : nodes) {
    if (Status st = MarkRestore(node, restored->created, restored->files.size()); !st.ok()) {
      std::fprintf(stderr, "ehr restore: %s\n", st.message().c_str());
      return 1;
    }
  }
  for (const std::string& node : nodes) {
    Result<bool> recorded = RecordRestoreNow(*args, data, node);
    if (!recorded.ok()) {
      std::fprintf(stderr, "ehr restore: recording it in %s's audit log: %s\n", node.c_str(),
                   recorded.status().message().c_str());
      return 1;
    }
    if (!*recorded) std::printf("%s records the restore in its audit log when it next starts with its keyring\n", node.c_str());
  }
  return 0;
}

}  // namespace ehr::cli
