// Signed tree heads of the audit log: the size and root of its Merkle tree at a moment,
// signed with the server's Ed25519 key (libsodium), so that anyone holding the public key
// can check later that the log they are shown extends (merkle.h, consistency proofs) what
// was signed. The signed bytes follow RFC 6962 3.5 (TreeHeadSignature: version v1,
// signature type tree_hash, timestamp in milliseconds, tree size, root hash; big-endian).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace ehr::audit {

struct TreeHead {
  uint64_t size = 0;
  std::string root;        // 32 bytes
  uint64_t timestamp_ms = 0;
  std::string signature;   // 64 bytes, Ed25519
};

// The bytes a tree head's signature covers.
std::string TreeHeadInput(uint64_t size, std::string_view root, uint64_t timestamp_ms);

class TreeSigner {
 public:
  static Result<TreeSigner> Generate();
  // From a 32-byte seed (the private key as stored).
  static Result<TreeSigner> FromSeed(std::string_view seed);

  const std::string& seed() const { return seed_; }
  const std::string& public_key() const { return public_key_; }  // 32 bytes
  // The Ed25519 signature of `message` (64 bytes).
  std::string SignMessage(std::string_view message) const;
  TreeHead Sign(uint64_t size, std::string_view root, uint64_t timestamp_ms) const;

 private:
  TreeSigner() = default;
  std::string seed_, secret_key_, public_key_;
};

// OK when `head`'s signature is the public key's over its size, root and time.
Status VerifyTreeHead(const TreeHead& head, std::string_view public_key);

}  // namespace ehr::audit
