#include "api/cursor_seal.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace ehr::api {
namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxSealedBytes = 64 * 1024;
constexpr std::string_view kContext = "ehr search cursor v1";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string Aad(std::string_view tenant) {
  std::string aad(kContext);
  aad.push_back('\0');
  aad.append(tenant);
  return aad;
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(std::string_view bytes) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  return out;
}

bool FromBase64Url(std::string_view text, std::string& out) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = std::strchr(kB64, c);
    if (c == '\0' || p == nullptr) return false;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
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
  return Base64Url(out);
}

Result<std::string> CursorSeal::Open(std::string_view tenant, std::string_view sealed) const {
  const Status bad = Status::Invalid("the paging cursor is invalid or belongs to another search");
  std::string bytes;
  if (sealed.size() > kMaxSealedBytes || !FromBase64Url(sealed, bytes) || bytes.size() < kNonceBytes + kTagBytes) {
    return bad;
  }
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
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    const std::string key = RandomBytes(CursorSeal::kKeyBytes);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!written) return Status::Internal("cannot write the cursor key " + path);
      return key;
    }
    if (errno != EEXIST) return Status::Internal("cannot create the cursor key " + path + ": " + std::strerror(errno));
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // another process created it first
  }
  if (fd < 0) return Status::Internal("cannot read the cursor key " + path + ": " + std::strerror(errno));
  std::string key(CursorSeal::kKeyBytes + 1, '\0');
  const ssize_t got = ::read(fd, key.data(), key.size());
  ::close(fd);
  if (got != static_cast<ssize_t>(CursorSeal::kKeyBytes)) {
    return Status::Internal("the cursor key " + path + " is not " + std::to_string(CursorSeal::kKeyBytes) + " bytes");
  }
  key.resize(CursorSeal::kKeyBytes);
  return key;
}

}  // namespace ehr::api
