#include "support/rsa_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <stdexcept>

#include "core/base64.h"

namespace ehr::testing {

RsaKey::RsaKey() : key_(EVP_RSA_gen(2048), EVP_PKEY_free) {
  if (!key_) throw std::runtime_error("RSA key generation failed");
}

RsaKey::~RsaKey() = default;

json::Value RsaKey::Jwk(const std::string& kid) const {
  auto bn = [&](const char* name) {
    BIGNUM* v = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), name, &v);
    std::string out(static_cast<size_t>(BN_num_bytes(v)), '\0');
    BN_bn2bin(v, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(v);
    return Base64UrlEncode(out);
  };
  json::Value jwk = json::Value::MakeObject();
  jwk.Set("kty", json::Value("RSA"));
  jwk.Set("kid", json::Value(kid));
  jwk.Set("n", json::Value(bn(OSSL_PKEY_PARAM_RSA_N)));
  jwk.Set("e", json::Value(bn(OSSL_PKEY_PARAM_RSA_E)));
  return jwk;
}

std::string RsaKey::Sign(const json::Value& claims, const std::string& kid, const std::string& alg) const {
  return SignWithHeader(R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"JWT"})", claims, alg);
}

std::string RsaKey::SignWithHeader(const std::string& header, const json::Value& claims, const std::string& alg) const {
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(json::Write(claims));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  EVP_DigestSignInit(md.get(), nullptr, alg == "RS384" ? EVP_sha384() : EVP_sha256(), nullptr, key_.get());
  EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  return input + "." + Base64UrlEncode(sig);
}

}  // namespace ehr::testing
