#include "keys/aead.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/secrets.h"

namespace ehr::keys {
namespace {

// One context per thread, reset for every call: creating one costs more than the
// encryption of a small body.
EVP_CIPHER_CTX* ThreadContext() {
  struct Free {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_CIPHER_CTX, Free> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) {
    std::fprintf(stderr, "ehr: cannot allocate a cipher context\n");
    std::abort();
  }
  return ctx.get();
}

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

[[noreturn]] void CipherFailed() {
  std::fprintf(stderr, "ehr: AES-256-GCM failed\n");
  std::abort();
}

}  // namespace

void SealTo(std::string_view key, std::string_view plaintext, std::string_view aad, std::string& out) {
  if (key.size() != kKeyBytes) CipherFailed();
  const std::string nonce = RandomBytes(kNonceBytes);
  const size_t start = out.size();
  out.resize(start + kNonceBytes + plaintext.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out.data() + start);
  std::copy(nonce.begin(), nonce.end(), dst);
  EVP_CIPHER_CTX* ctx = ThreadContext();
  int len = 0;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1) CipherFailed();
  if (!aad.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    CipherFailed();
  }
  unsigned char* body = dst + kNonceBytes;
  if (!plaintext.empty() &&
      EVP_EncryptUpdate(ctx, body, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1) {
    CipherFailed();
  }
  if (EVP_EncryptFinal_ex(ctx, body + plaintext.size(), &len) != 1) CipherFailed();
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plaintext.size()) != 1) CipherFailed();
}

std::string Seal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  std::string out;
  SealTo(key, plaintext, aad, out);
  return out;
}

Result<std::string> Open(std::string_view key, std::string_view sealed, std::string_view aad) {
  const Status refused = Status::Internal("encryption: the value does not authenticate");
  if (key.size() != kKeyBytes || sealed.size() < kSealOverhead) return refused;
  const std::string_view nonce = sealed.substr(0, kNonceBytes);
  const std::string_view body = sealed.substr(kNonceBytes, sealed.size() - kSealOverhead);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  EVP_CIPHER_CTX* ctx = ThreadContext();
  std::string out(body.size(), '\0');
  int len = 0;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1) return refused;
  if (!aad.empty() && EVP_DecryptUpdate(ctx, nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return refused;
  }
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (!body.empty() && EVP_DecryptUpdate(ctx, dst, &len, Bytes(body), static_cast<int>(body.size())) != 1) {
    return refused;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) return refused;
  if (EVP_DecryptFinal_ex(ctx, dst + body.size(), &len) != 1) return refused;
  return out;
}

}  // namespace ehr::keys
