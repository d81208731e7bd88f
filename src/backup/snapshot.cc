#include "backup/snapshot.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/files.h"
#include "core/secrets.h"

namespace ehr::backup {
namespace fs = std::filesystem;
namespace {

constexpr const char* kDatabases[] = {"ehr.db", "accounts.db", "mpi.db"};
constexpr char kArchive[] = "audit-archive";
constexpr char kManifest[] = "MANIFEST.json";
constexpr char kKeyring[] = "keyring";

Result<std::string> ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Invalid("cannot read " + path.string());
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Writes `bytes` to the new file `path` (mode 0600) and syncs it.
Status WriteFile(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Invalid("cannot create " + path.string());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == bytes.size() && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Status::Invalid("cannot write " + path.string());
}

Status MakeEmptyDirectory(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) return Status::Invalid(dir.string() + " exists and is not empty");
  fs::create_directories(dir, ec);
  if (ec) return Status::Invalid("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  return Status::Ok();
}

Result<FileEntry> Entry(const fs::path& root, const std::string& relative) {
  EHR_ASSIGN_OR_RETURN(std::string bytes, ReadAll(root / relative));
  return FileEntry{relative, bytes.size(), HexEncode(Sha256(bytes))};
}

}  // namespace

Status CopyDatabase(const fs::path& from, const fs::path& to) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto close = [&] {
    sqlite3_close_v2(src);
    sqlite3_close_v2(dst);
  };
  if (sqlite3_open_v2(from.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_open_v2(to.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE, nullptr) !=
          SQLITE_OK) {
    close();
    return Status::Invalid("cannot open " + from.string() + " or " + to.string());
  }
  sqlite3_busy_timeout(src, 10000);
  sqlite3_backup* copy = sqlite3_backup_init(dst, "main", src, "main");
  if (copy == nullptr) {
    const std::string why = sqlite3_errmsg(dst);
    close();
    return Status::Invalid("cannot back up " + from.string() + ": " + why);
  }
  int rc = SQLITE_OK;
  // All pages in one step: one read snapshot of the source (a WAL reader blocks no writer).
  for (int attempt = 0; attempt < 100; ++attempt) {
    rc = sqlite3_backup_step(copy, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sqlite3_backup_finish(copy);
  const std::string why = sqlite3_errmsg(dst);
  close();
  if (rc != SQLITE_DONE) return Status::Invalid("backing up " + from.string() + " failed: " + why);
  const int fd = ::open(to.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  ::chmod(to.c_str(), 0600);
  return Status::Ok();
}

namespace {

bool HoldsDatabase(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "ehr.db", ec) || fs::exists(dir / "mpi.db", ec);
}

// One node's directory (`prefix` "" for a lone server, "vault-uk/" in one of a federation in
// one process) into `out`, its files added to `manifest`.
Status BackupNode(const fs::path& data, const fs::path& out, const std::string& prefix, const fs::path& keyring,
                  Manifest& manifest) {
  std::error_code ec;
  const fs::path from = data / prefix, to = out / prefix;
  if (!prefix.empty()) {
    fs::create_directories(to, ec);
    fs::permissions(to, fs::perms::owner_all, ec);
  }
  for (const char* db : kDatabases) {
    if (!fs::exists(from / db, ec)) continue;
    EHR_RETURN_IF_ERROR(CopyDatabase(from / db, to / db));
    EHR_ASSIGN_OR_RETURN(FileEntry e, Entry(out, prefix + db));
    manifest.files.push_back(std::move(e));
  }
  if (fs::is_directory(from / kArchive, ec)) {
    fs::create_directories(to / kArchive, ec);
    fs::permissions(to / kArchive, fs::perms::owner_all, ec);
    for (const auto& f : fs::directory_iterator(from / kArchive)) {
      const std::string name = f.path().filename().string();
      // Segments being written are temporary files (audit/segment_file.cc); only finished ones count.
      if (!f.is_regular_file() || !IsSafePath(name) || name.find(".tmp") != std::string::npos) continue;
      EHR_ASSIGN_OR_RETURN(std::string bytes, ReadAll(f.path()));
      EHR_RETURN_IF_ERROR(WriteFile(to / kArchive / name, bytes));
      manifest.files.push_back({prefix + kArchive + "/" + name, bytes.size(), HexEncode(Sha256(bytes))});
    }
    EHR_RETURN_IF_ERROR(SyncDirectory(to / kArchive));
  }
  if (!keyring.empty()) {
    EHR_ASSIGN_OR_RETURN(std::string bytes, ReadAll(keyring));
    EHR_RETURN_IF_ERROR(WriteFile(to / kKeyring, bytes));
    manifest.files.push_back({prefix + kKeyring, bytes.size(), HexEncode(Sha256(bytes))});
    manifest.keyring = true;
  }
  if (!prefix.empty()) EHR_RETURN_IF_ERROR(SyncDirectory(to));
  return Status::Ok();
}

}  // namespace

Result<Manifest> Backup(const fs::path& data, const fs::path& out, const BackupOptions& options,
                        const std::string& created) {
  // A lone server's directory, or one holding a node per subdirectory (`ehr serve` without
  // --role: vault-uk, vault-de, vault-fr, mpi, gateway).
  std::vector<std::string> nodes;
  std::error_code ec;
  if (HoldsDatabase(data)) {
    nodes.push_back("");
  } else if (fs::is_directory(data, ec)) {
    for (const auto& d : fs::directory_iterator(data)) {
      const std::string name = d.path().filename().string();
      if (d.is_directory() && IsSafePath(name) && HoldsDatabase(d.path())) nodes.push_back(name + "/");
    }
    std::sort(nodes.begin(), nodes.end());
  }
  if (nodes.empty()) return Status::Invalid(data.string() + " holds no ehr database");
  EHR_RETURN_IF_ERROR(MakeEmptyDirectory(out));
  Manifest manifest;
  manifest.created = created;
  for (const std::string& node : nodes) {
    fs::path keyring;
    if (options.keyrings) keyring = node.empty() && !options.keyring_file.empty() ? options.keyring_file : data / node / kKeyring;
    EHR_RETURN_IF_ERROR(BackupNode(data, out, node, keyring, manifest));
  }
  // Last: a backup with a manifest is complete.
  EHR_RETURN_IF_ERROR(WriteFile(out / kManifest, WriteManifest(manifest)));
  EHR_RETURN_IF_ERROR(SyncDirectory(out));
  return manifest;
}

Result<Manifest> Restore(const fs::path& from, const fs::path& data) {
  EHR_ASSIGN_OR_RETURN(std::string text, ReadAll(from / kManifest));
  Result<Manifest> manifest = ParseManifest(text);
  if (!manifest.ok()) return Status::Invalid(std::string(kManifest) + ": " + manifest.status().message());
  // Every file first: as listed, and nothing else.
  std::set<std::string> listed;
  std::error_code ec;
  for (const FileEntry& f : manifest->files) {
    // Files as they are in the backup: a link could name anything on this machine.
    if (fs::is_symlink(fs::symlink_status(from / f.path, ec))) return Status::Invalid("the backup's " + f.path + " is a link");
    Result<FileEntry> found = Entry(from, f.path);
    if (!found.ok()) return Status::Invalid("the backup lacks " + f.path);
    if (found->bytes != f.bytes || found->sha256 != f.sha256) {
      return Status::Invalid("the backup's " + f.path + " is not the file its manifest lists (damaged or altered)");
    }
    listed.insert(f.path);
  }
  for (auto it = fs::recursive_directory_iterator(from, ec); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    const std::string relative = fs::relative(it->path(), from).generic_string();
    if (relative != kManifest && !listed.count(relative)) {
      return Status::Invalid("the backup holds " + relative + ", which its manifest does not list");
    }
  }
  EHR_RETURN_IF_ERROR(MakeEmptyDirectory(data));
  for (const FileEntry& f : manifest->files) {
    EHR_ASSIGN_OR_RETURN(std::string bytes, ReadAll(from / f.path));
    const fs::path target = data / f.path;
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    EHR_RETURN_IF_ERROR(WriteFile(target, bytes));
  }
  if (fs::is_directory(data / kArchive, ec)) EHR_RETURN_IF_ERROR(SyncDirectory(data / kArchive));
  EHR_RETURN_IF_ERROR(SyncDirectory(data));
  return manifest;
}

}  // namespace ehr::backup
