#include "security/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/secrets.h"
#include "net/http.h"

namespace ehr::security {
namespace {

std::string UriEscape(std::string_view text) { return net::PercentEncode(text); }

}  // namespace

std::string Hotp(std::string_view secret, uint64_t counter, int digits, std::string_view hash) {
  unsigned char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  const EVP_MD* md = hash == "SHA256" ? EVP_sha256() : hash == "SHA512" ? EVP_sha512() : EVP_sha1();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()), message, sizeof message, mac, &mac_len);
  const int offset = mac[mac_len - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) | (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::optional<int64_t> CheckTotp(std::string_view secret, std::string_view code, Micros now, int64_t last_used_step) {
  if (code.size() != 6) return std::nullopt;
  const int64_t step = now / 1000000 / kTotpStepSeconds;
  for (int64_t s : {step, step - 1, step + 1}) {
    if (s <= last_used_step || s < 0) continue;
    if (ConstantTimeEquals(Hotp(secret, static_cast<uint64_t>(s)), code)) return s;
  }
  return std::nullopt;
}

std::string Base32Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(acc >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (5 - bits)) & 31]);
  return out;
}

std::string TotpUri(std::string_view secret, std::string_view issuer, std::string_view account) {
  return "otpauth://totp/" + UriEscape(issuer) + ":" + UriEscape(account) + "?secret=" + Base32Encode(secret) +
         "&issuer=" + UriEscape(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace ehr::security
