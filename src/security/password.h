// Passwords: Argon2id hashes (libsodium's encoded form, parameters inside, so they can be
// raised without invalidating stored hashes) and the password policy.
// Hashing is deliberately slow and memory-hungry; callers run it on worker threads, and
// PasswordHasher bounds how many hashes run at once so a login flood cannot exhaust memory.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ehr::security {

struct PasswordCost {
  // Argon2id iterations and memory. The default is OWASP's 2023 minimum for Argon2id
  // (t=2, m=19 MiB); tests use a lower cost (never below libsodium's minimum).
  unsigned long long ops = 2;
  size_t mem_bytes = 19 * 1024 * 1024;
};

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordCost cost = {}, int max_parallel = 2) : cost_(cost), free_(max_parallel) {}

  Result<std::string> Hash(std::string_view password);
  bool Verify(std::string_view encoded, std::string_view password);
  // True when `encoded` was made with other parameters than this hasher's (rehash at login).
  bool NeedsRehash(std::string_view encoded) const;

 private:
  class Slot;
  PasswordCost cost_;
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;  // GUARDED_BY(mu_)
};

// The policy: at least 12 characters (at most 128) with an upper-case letter, a lower-case
// letter, a digit and a symbol; not the username; not a common password even after undoing
// the usual substitutions and decorations ("P@ssw0rd2024!" is "password").
// kInvalid with a message saying which rule failed (never echoing the password).
Status CheckPasswordPolicy(std::string_view password, std::string_view username);

}  // namespace ehr::security
