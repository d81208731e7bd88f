// AES-256-GCM, the one cipher of envelope encryption (README.md). A sealed value is
// nonce (12 random bytes) || ciphertext || tag (16 bytes). Random nonces bound a key to
// about 2^32 seals (NIST SP 800-38D, 8.3); rotation keeps each data key far below that.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ehr::keys {

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kSealOverhead = kNonceBytes + kTagBytes;

// `plaintext` encrypted under `key` (32 bytes), authenticated with `aad`.
std::string Seal(std::string_view key, std::string_view plaintext, std::string_view aad);
// Appends to `out` instead (no copy of the header a caller already wrote there).
void SealTo(std::string_view key, std::string_view plaintext, std::string_view aad, std::string& out);

// The plaintext of `sealed`; kInternal when the key, the bytes or `aad` do not match
// (never which of them: a caller learns nothing about the plaintext).
Result<std::string> Open(std::string_view key, std::string_view sealed, std::string_view aad);

}  // namespace ehr::keys
