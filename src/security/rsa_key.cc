#include "security/rsa_key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/base64.h"
#include "security/jwt.h"
#include "security/openssl_ptr.h"

namespace ehr::security {
namespace {

using namespace ossl;

std::string Param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) return {};
  Bn bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

Result<RsaSigningKey> RsaSigningKey::Generate() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) return Status::Internal("RSA key generation failed");
  return RsaSigningKey(std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free));
}

Result<RsaSigningKey> RsaSigningKey::FromPrivatePem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return Status::Invalid("not a PEM private key");
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048) {
    return Status::Invalid("the key is not an RSA key of 2048 bits or more");
  }
  return RsaSigningKey(std::move(owned));
}

std::string RsaSigningKey::PrivatePem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

json::Value RsaSigningKey::PublicJwk(std::string_view kid) const {
  json::Value jwk = json::Value::MakeObject();
  jwk.Set("kty", json::Value("RSA"));
  jwk.Set("n", json::Value(Base64UrlEncode(Param(key_.get(), OSSL_PKEY_PARAM_RSA_N))));
  jwk.Set("e", json::Value(Base64UrlEncode(Param(key_.get(), OSSL_PKEY_PARAM_RSA_E))));
  jwk.Set("kid", json::Value(std::string(kid)));
  jwk.Set("alg", json::Value("RS256"));
  jwk.Set("use", json::Value("sig"));
  return jwk;
}

Result<std::string> RsaSigningKey::Sign(std::string_view data) const {
  MdCtx md(EVP_MD_CTX_new());
  size_t len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("RS256 signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("RS256 signing failed");
  }
  sig.resize(len);
  return sig;
}

Result<std::string> SignJwtRs256(const json::Value& claims, const RsaSigningKey& key, std::string_view kid,
                                 std::string_view typ) {
  return SignJwtWith(claims, "RS256", kid, typ, [&key](std::string_view input) { return key.Sign(input); });
}

}  // namespace ehr::security
