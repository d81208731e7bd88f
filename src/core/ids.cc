#include "core/ids.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <random>
#include <stdexcept>

namespace ehr {
namespace {
void RandomBytes(unsigned char* buf, int n) {
  if (RAND_bytes(buf, n) != 1) {
    // The CSPRNG failing is not a recoverable condition for an id generator.
    throw std::runtime_error("RAND_bytes failed");
  }
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  RandomBytes(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

std::string NewRequestId() {
  // Request ids need to be unique, not secret: a per-thread generator seeded once from the
  // CSPRNG keeps OpenSSL out of every request (it was 4% of a read's CPU).
  thread_local std::mt19937_64 generator = [] {
    uint64_t seed = 0;
    RandomBytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
    return std::mt19937_64(seed);
  }();
  uint64_t v = generator();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[v & 15];
    v >>= 4;
  }
  return out;
}

bool IsValidFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace ehr
