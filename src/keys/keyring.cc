#include "keys/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/base64.h"
#include "core/files.h"
#include "core/secrets.h"
#include "keys/aead.h"

namespace ehr::keys {
namespace {

constexpr std::string_view kHeader = "# ehr keyring: key-encryption keys. Back it up apart from the database.\n";
constexpr std::string_view kPrefix = "file:";

std::string IdOf(int version) { return std::string(kPrefix) + std::to_string(version); }

Status Parse(const std::string& text, const std::string& path, std::map<int, std::string>& keys) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos) return Status::Internal("the keyring " + path + " has a malformed line");
    int version = 0;
    try {
      version = std::stoi(line.substr(0, space));
    } catch (...) {
      return Status::Internal("the keyring " + path + " has a malformed version");
    }
    auto key = Base64Decode(line.substr(space + 1));
    if (version <= 0 || !key || key->size() != kKeyBytes || keys.count(version)) {
      return Status::Internal("the keyring " + path + " has a malformed key");
    }
    keys.emplace(version, std::move(*key));
  }
  if (keys.empty()) return Status::Internal("the keyring " + path + " holds no key");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Keyring>> Keyring::OpenOrCreate(const std::string& path) {
  std::unique_ptr<Keyring> ring(new Keyring(path));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::Internal("cannot read the keyring " + path + ": " + std::strerror(errno));
    ring->keys_.emplace(1, RandomBytes(kKeyBytes));
    EHR_RETURN_IF_ERROR(ring->Save());
    return ring;
  }
  if ((st.st_mode & 077) != 0) {
    return Status::Internal("the keyring " + path + " is readable by others: chmod 600 it");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::Internal("cannot read the keyring " + path);
  EHR_RETURN_IF_ERROR(Parse(text.str(), path, ring->keys_));
  return ring;
}

Status Keyring::Save() const {
  std::string text(kHeader);
  for (const auto& [version, key] : keys_) text += std::to_string(version) + " " + Base64Encode(key) + "\n";
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot write the keyring " + tmp + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write the keyring " + path_);
  }
  // The rename is durable once the directory is synced.
  return SyncDirectory(std::filesystem::path(path_).parent_path());
}

std::string Keyring::CurrentId() const {
  std::lock_guard lock(mu_);
  return IdOf(keys_.rbegin()->first);
}

Status Keyring::ReloadLocked(bool merge) {
  std::ifstream in(path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Status::Internal("cannot read the keyring " + path_);
  std::map<int, std::string> reread;
  EHR_RETURN_IF_ERROR(Parse(text.str(), path_, reread));
  if (merge) {
    keys_.merge(reread);
  } else {
    keys_ = std::move(reread);
  }
  return Status::Ok();
}

int Keyring::VersionOf(std::string_view kek_id) {
  if (kek_id.substr(0, kPrefix.size()) != kPrefix) return 0;
  try {
    return std::max(std::stoi(std::string(kek_id.substr(kPrefix.size()))), 0);
  } catch (...) {
    return 0;
  }
}

Result<Wrapped> Keyring::Wrap(std::string_view key, std::string_view aad) {
  std::lock_guard lock(mu_);
  // Another process may have rotated (`ehr keys rotate` beside a running server): wrap under
  // the newest version, which a later `ehr keys retire` keeps. Wraps are rare (a tenant's
  // first data key, a secret, a signing key), so the file is read each time.
  (void)ReloadLocked(true);
  const auto& [version, kek] = *keys_.rbegin();
  return Wrapped{IdOf(version), Seal(kek, key, aad)};
}

Result<std::string> Keyring::Unwrap(std::string_view kek_id, std::string_view wrapped, std::string_view aad) {
  std::string kek;
  {
    std::lock_guard lock(mu_);
    const int version = VersionOf(kek_id);
    auto it = keys_.find(version);
    if (it == keys_.end() && version > 0) {
      // Another process (`ehr keys rotate`) may have added it since this one opened the file.
      (void)ReloadLocked(true);
      it = keys_.find(version);
    }
    if (it == keys_.end()) {
      return Status::NotFound("the key-encryption key " + std::string(kek_id) + " is not in the keyring " + path_);
    }
    kek = it->second;
  }
  return Open(kek, wrapped, aad);
}

Result<std::string> Keyring::Rotate() {
  std::lock_guard lock(mu_);
  // The file as it is now: a version another process retired is not written back.
  EHR_RETURN_IF_ERROR(ReloadLocked(false));
  const int next = keys_.rbegin()->first + 1;
  keys_.emplace(next, RandomBytes(kKeyBytes));
  Status saved = Save();
  if (!saved.ok()) {
    keys_.erase(next);
    return saved;
  }
  return IdOf(next);
}

Result<std::vector<std::string>> Keyring::Ids() {
  std::lock_guard lock(mu_);
  EHR_RETURN_IF_ERROR(ReloadLocked(false));
  std::vector<std::string> ids;
  for (const auto& [version, key] : keys_) ids.push_back(IdOf(version));
  return ids;
}

Status Keyring::Retire(std::string_view kek_id) {
  std::lock_guard lock(mu_);
  EHR_RETURN_IF_ERROR(ReloadLocked(false));
  const int version = VersionOf(kek_id);
  auto it = keys_.find(version);
  if (it == keys_.end()) return Status::NotFound("the key-encryption key " + std::string(kek_id) + " is not in the keyring " + path_);
  if (version == keys_.rbegin()->first) return Status::Invalid("the key-encryption key " + std::string(kek_id) + " is the current one");
  std::string removed = std::move(it->second);
  keys_.erase(it);
  Status saved = Save();
  if (!saved.ok()) {
    keys_.emplace(version, std::move(removed));
    return saved;
  }
  std::fill(removed.begin(), removed.end(), '\0');
  return Status::Ok();
}

}  // namespace ehr::keys
