// What both AccountStore backends (store/accounts.h) keep the same way: lists in one text
// column, and token signing keys' private halves wrapped by the key-encryption key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "keys/kek.h"

namespace ehr::store::accounts {

// Roles, tenants, recovery code hashes: comma-separated (none holds a comma).
std::string Join(const std::vector<std::string>& items);
std::vector<std::string> Split(const std::string& text);
// Redirect URIs may hold commas: one per line.
std::string JoinLines(const std::vector<std::string>& items);
std::vector<std::string> SplitLines(const std::string& text);

// A signing key's private PEM as kept: "ehr-wrapped:<kek id>:<base64 of the wrapped PEM>"
// (AES-256-GCM under the key-encryption key, bound to the kid), or the PEM itself when there
// is no key-encryption key (and as versions before the key store kept it).
class SigningKeyWrap {
 public:
  explicit SigningKeyWrap(keys::KeyEncryptionKeys* kek) : kek_(kek) {}
  bool enabled() const { return kek_ != nullptr; }
  const keys::KeyEncryptionKeys* kek() const { return kek_; }
  Result<std::string> Wrap(std::string_view kid, const std::string& pem) const;
  Result<std::string> Unwrap(std::string_view kid, const std::string& kept) const;
  // True when `kept` must be wrapped again: plain, or under an older version than the current.
  bool Stale(std::string_view kept) const;
  // The key-encryption key version `kept` is wrapped under; "" when plain.
  static std::string KekIdOf(std::string_view kept);

 private:
  keys::KeyEncryptionKeys* const kek_;
};

}  // namespace ehr::store::accounts
