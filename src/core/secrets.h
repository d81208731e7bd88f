// Random bytes and secret files: the server's keys that live beside the data (cursor key,
// token signing keys until the key-management issue wraps them).
#pragma once

#include <string>

#include "core/status.h"

namespace ehr {

// Cryptographically secure random bytes (OpenSSL's DRBG); aborts if it fails, since no
// secret may ever be made from anything weaker.
std::string RandomBytes(size_t n);
// `n` random bytes as base64url text, for ids and opaque tokens.
std::string RandomToken(size_t n);

// Bytes of a secret file `path`: read when it exists (exactly `size` bytes), else created
// with `size` random bytes, mode 0600, synced. Safe against a concurrent creator.
Result<std::string> LoadOrCreateSecretFile(const std::string& path, size_t size);

// SHA-256 of `data` (32 bytes), and bytes as lower-case hex.
std::string Sha256(std::string_view data);
std::string HexEncode(std::string_view bytes);

// Comparison whose time depends only on the lengths, for secrets and their hashes.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ehr
