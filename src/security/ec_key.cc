#include "security/ec_key.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "core/base64.h"
#include "security/openssl_ptr.h"

namespace ehr::security {
namespace {

struct Curve {
  EcAlg alg;
  const char* group;      // OpenSSL group name
  const char* jwk_crv;    // JWK "crv"
  size_t coord_bytes;     // width of x, y, r and s
  const EVP_MD* (*digest)();
};

constexpr Curve kCurves[] = {
    {EcAlg::kES256, "prime256v1", "P-256", 32, &EVP_sha256},
    {EcAlg::kES384, "secp384r1", "P-384", 48, &EVP_sha384},
};

const Curve& CurveOf(EcAlg alg) { return alg == EcAlg::kES256 ? kCurves[0] : kCurves[1]; }

using namespace ossl;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) { return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free); }

const Curve* CurveOfKey(EVP_PKEY* key) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    return nullptr;
  }
  for (const Curve& c : kCurves) {
    if (std::string_view(name) == c.group) return &c;
  }
  return nullptr;
}

std::string Coordinate(EVP_PKEY* key, const char* param, size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) return {};
  Bn bn(raw);
  std::string out(width, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(width)) < 0) return {};
  return out;
}

}  // namespace

std::string_view EcAlgName(EcAlg alg) { return alg == EcAlg::kES256 ? "ES256" : "ES384"; }

Result<EcKey> EcKey::Generate(EcAlg alg) {
  EVP_PKEY* key = EVP_EC_gen(CurveOf(alg).group);
  if (key == nullptr) return Status::Internal("cannot generate an EC key");
  return EcKey(Own(key), alg, true);
}

Result<EcKey> EcKey::FromPrivatePem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key == nullptr) return Status::Invalid("not a PEM private key");
  auto owned = Own(key);
  const Curve* curve = CurveOfKey(key);
  if (curve == nullptr) return Status::Invalid("the key is not a P-256 or P-384 EC key");
  return EcKey(owned, curve->alg, true);
}

Result<EcKey> EcKey::FromPublicJwk(const json::Value& jwk) {
  if (!jwk.is_object() || jwk.GetString("kty") != "EC") return Status::Invalid("the JWK is not an EC key");
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves) {
    if (jwk.GetString("crv") == c.jwk_crv) curve = &c;
  }
  if (curve == nullptr) return Status::Invalid("the JWK's curve is not P-256 or P-384");
  auto x = Base64UrlDecode(jwk.GetString("x"));
  auto y = Base64UrlDecode(jwk.GetString("y"));
  if (!x || !y || x->size() != curve->coord_bytes || y->size() != curve->coord_bytes) {
    return Status::Invalid("the JWK's x and y are not " + std::to_string(curve->coord_bytes) + "-byte base64url");
  }
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return Status::Internal("cannot build EC key parameters");
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Status::Invalid("the JWK's point is not on the curve");
  }
  auto owned = Own(key);
  // fromdata does not always check the point: a key off the curve must never verify.
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return Status::Invalid("the JWK's point is not on the curve");
  return EcKey(owned, curve->alg, false);
}

std::string EcKey::PrivatePem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

json::Value EcKey::PublicJwk(std::string_view kid) const {
  const Curve& c = CurveOf(alg_);
  json::Value jwk = json::Value::MakeObject();
  jwk.Set("kty", json::Value("EC"));
  jwk.Set("crv", json::Value(c.jwk_crv));
  jwk.Set("x", json::Value(Base64UrlEncode(Coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, c.coord_bytes))));
  jwk.Set("y", json::Value(Base64UrlEncode(Coordinate(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, c.coord_bytes))));
  jwk.Set("kid", json::Value(std::string(kid)));
  jwk.Set("alg", json::Value(std::string(EcAlgName(alg_))));
  jwk.Set("use", json::Value("sig"));
  return jwk;
}

Result<std::string> EcKey::Sign(std::string_view data) const {
  if (!has_private_) return Status::Internal("signing needs a private key");
  const Curve& c = CurveOf(alg_);
  MdCtx md(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, c.digest(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("cannot sign");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Internal("cannot sign");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Sig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Status::Internal("cannot decode the signature");
  std::string out(2 * c.coord_bytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, static_cast<int>(c.coord_bytes)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + c.coord_bytes, static_cast<int>(c.coord_bytes)) < 0) {
    return Status::Internal("cannot encode the signature");
  }
  return out;
}

bool EcKey::Verify(std::string_view data, std::string_view signature) const {
  const Curve& c = CurveOf(alg_);
  if (signature.size() != 2 * c.coord_bytes) return false;
  const auto* s = reinterpret_cast<const unsigned char*>(signature.data());
  Bn r(BN_bin2bn(s, static_cast<int>(c.coord_bytes), nullptr));
  Bn ss(BN_bin2bn(s + c.coord_bytes, static_cast<int>(c.coord_bytes), nullptr));
  Sig sig(ECDSA_SIG_new());
  if (!r || !ss || !sig || ECDSA_SIG_set0(sig.get(), r.get(), ss.get()) != 1) return false;
  r.release();  // owned by sig now
  ss.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(der, [](unsigned char* p) { OPENSSL_free(p); });
  MdCtx md(EVP_MD_CTX_new());
  return md && EVP_DigestVerifyInit(md.get(), nullptr, c.digest(), nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

}  // namespace ehr::security
