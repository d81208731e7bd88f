// Key-encryption keys (KEK): the keys that wrap the data keys (README.md). They live apart
// from the data: in a keyring file (the development default) or in a PKCS#11 token, where
// they never leave the token. A KEK has versions; new wraps use the newest (looked for
// again at each wrap, so a server wraps under the version another process rotated to), old
// versions still unwrap, so a rotation never makes stored data unreadable, until a version
// nothing is wrapped under any more is retired.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace ehr::keys {

struct Wrapped {
  std::string kek_id;  // the version that wrapped it ("file:2", "pkcs11:ehr-kek-3")
  std::string bytes;   // what to store: nonce || ciphertext || tag (AES-256-GCM)
};

// Safe to call from several threads at once.
class KeyEncryptionKeys {
 public:
  virtual ~KeyEncryptionKeys() = default;

  // The id of the version that new wraps use.
  virtual std::string CurrentId() const = 0;

  // `key` (a data key or secret, at most 64 bytes) encrypted with AES-256-GCM under the
  // current version; `aad` binds it to its use (tenant and key version), so a wrapped key
  // copied to another row does not unwrap.
  virtual Result<Wrapped> Wrap(std::string_view key, std::string_view aad) = 0;

  // The key wrapped by version `kek_id`; kNotFound when that version is unknown here,
  // kInternal when the bytes or `aad` do not authenticate.
  virtual Result<std::string> Unwrap(std::string_view kek_id, std::string_view wrapped, std::string_view aad) = 0;

  // Makes a new version current and returns its id; old versions still unwrap.
  virtual Result<std::string> Rotate() = 0;

  // Every version's id, oldest first (as the keyring file or token holds them now).
  virtual Result<std::vector<std::string>> Ids() = 0;

  // Destroys version `kek_id` for good (`ehr keys retire`, once nothing is wrapped under it):
  // removed from the keyring file, or destroyed on the token. kInvalid for the current
  // version, kNotFound for one that is not here.
  virtual Status Retire(std::string_view kek_id) = 0;
};

}  // namespace ehr::keys
