#include "audit/tree_head.h"

#include <sodium.h>

#include "audit/merkle.h"

namespace ehr::audit {
namespace {

void PutUint64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

std::string TreeHeadInput(uint64_t size, std::string_view root, uint64_t timestamp_ms) {
  std::string out;
  out.push_back('\x00');  // Version v1
  out.push_back('\x01');  // SignatureType tree_hash
  PutUint64(out, timestamp_ms);
  PutUint64(out, size);
  out.append(root);
  return out;
}

Result<TreeSigner> TreeSigner::Generate() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to start");
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  return FromSeed(seed);
}

Result<TreeSigner> TreeSigner::FromSeed(std::string_view seed) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to start");
  if (seed.size() != crypto_sign_SEEDBYTES) return Status::Invalid("an Ed25519 seed is 32 bytes");
  TreeSigner s;
  s.seed_ = std::string(seed);
  s.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  s.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(s.public_key_.data()),
                           reinterpret_cast<unsigned char*>(s.secret_key_.data()), Bytes(seed));
  return s;
}

std::string TreeSigner::SignMessage(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr, Bytes(message), message.size(),
                       Bytes(secret_key_));
  return signature;
}

TreeHead TreeSigner::Sign(uint64_t size, std::string_view root, uint64_t timestamp_ms) const {
  return TreeHead{size, std::string(root), timestamp_ms, SignMessage(TreeHeadInput(size, root, timestamp_ms))};
}

Status VerifyTreeHead(const TreeHead& head, std::string_view public_key) {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to start");
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || head.signature.size() != crypto_sign_BYTES ||
      head.root.size() != kHashBytes) {
    return Status::Invalid("tree head: a key, root or signature of the wrong length");
  }
  const std::string input = TreeHeadInput(head.size, head.root, head.timestamp_ms);
  if (crypto_sign_verify_detached(Bytes(head.signature), Bytes(input), input.size(), Bytes(public_key)) != 0) {
    return Status::Invalid("tree head: the signature does not verify");
  }
  return Status::Ok();
}

}  // namespace ehr::audit
