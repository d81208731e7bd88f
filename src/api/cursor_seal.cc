#include "api/cursor_seal.h"

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <stdexcept>

#include "core/base64.h"
#include "core/secrets.h"

namespace ehr::api {
namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxSealedBytes = 64 * 1024;
constexpr std::string_view kContext = "ehr search cursor v1";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string Aad(std::string_view tenant) {
  std::string aad(kContext);
  aad.push_back('\0');
  aad.append(tenant);
  return aad;
}

}  // namespace

CursorSeal::CursorSeal(std::string key) : key_(key.empty() ? RandomBytes(kKeyBytes) : std::move(key)) {
  if (key_.size() != kKeyBytes) throw std::invalid_argument("a cursor key has 32 bytes");
}

std::string CursorSeal::Seal(std::string_view tenant, std::string_view cursor) const {
  const std::string nonce = RandomBytes(kNonceBytes);
  const std::string aad = Aad(tenant);
  std::string out = nonce;
  out.resize(kNonceBytes + cursor.size() + kTagBytes);
  auto* cipher = reinterpret_cast<unsigned char*>(out.data() + kNonceBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                 reinterpret_cast<const unsigned char*>(key_.data()),
                                 reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &len, reinterpret_cast<const unsigned char*>(cursor.data()),
                        static_cast<int>(cursor.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), cipher + cursor.size()) != 1) {
    throw std::runtime_error("AES-GCM encryption failed");
  }
  return Base64UrlEncode(out);
}

Result<std::string> CursorSeal::Open(std::string_view tenant, std::string_view sealed) const {
  const Status bad = Status::Invalid("the paging cursor is invalid or belongs to another search");
  if (sealed.size() > kMaxSealedBytes) return bad;
  std::optional<std::string> decoded = Base64UrlDecode(sealed);
  if (!decoded || decoded->size() < kNonceBytes + kTagBytes) return bad;
  const std::string& bytes = *decoded;
  const std::string aad = Aad(tenant);
  const size_t n = bytes.size() - kNonceBytes - kTagBytes;
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::string plain(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key_.data()),
                         in) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, in + kNonceBytes,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          const_cast<unsigned char*>(in + kNonceBytes + n)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) != 1) {
    return bad;
  }
  return plain;
}

Result<std::string> LoadOrCreateCursorKey(const std::string& path) {
  return LoadOrCreateSecretFile(path, CursorSeal::kKeyBytes);
}

}  // namespace ehr::api
