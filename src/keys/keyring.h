// The keyring file: key-encryption keys kept in a file beside (and to be backed up apart
// from) the database, the development default. Mode 0600, owned by the server's user; a
// file readable by others is refused. One line per version, "<n> <base64 key>", the newest
// last; ids are "file:<n>". Rotation rewrites the file atomically (temporary file, fsync,
// rename), so a crash leaves the old or the new keyring, never half of one.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "keys/kek.h"

namespace ehr::keys {

class Keyring final : public KeyEncryptionKeys {
 public:
  // Opens `path`, creating it with one fresh key when it does not exist.
  static Result<std::unique_ptr<Keyring>> OpenOrCreate(const std::string& path);

  std::string CurrentId() const override;
  Result<Wrapped> Wrap(std::string_view key, std::string_view aad) override;
  Result<std::string> Unwrap(std::string_view kek_id, std::string_view wrapped, std::string_view aad) override;
  Result<std::string> Rotate() override;
  Result<std::vector<std::string>> Ids() override;
  Status Retire(std::string_view kek_id) override;

 private:
  explicit Keyring(std::string path) : path_(std::move(path)) {}
  Status Save() const;
  // Reads the file again (another process may have rotated or retired): its versions
  // replace keys_, or with `merge` are added to them. A file that does not read leaves keys_.
  Status ReloadLocked(bool merge);
  // The version number of id "file:<n>", 0 when it is not one.
  static int VersionOf(std::string_view kek_id);

  const std::string path_;
  mutable std::mutex mu_;
  std::map<int, std::string> keys_;  // version -> 32 bytes
};

}  // namespace ehr::keys
