#include "security/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "core/base64.h"
#include "security/openssl_ptr.h"

namespace ehr::security {
namespace {

using namespace ossl;

Result<std::shared_ptr<EVP_PKEY>> RsaFromJwk(const json::Value& jwk) {
  auto n = Base64UrlDecode(jwk.GetString("n"));
  auto e = Base64UrlDecode(jwk.GetString("e"));
  if (!n || !e || n->empty() || e->empty() || e->size() > 8) return Status::Invalid("the RSA JWK's n or e is malformed");
  Bn bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  Bn bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return Status::Internal("out of memory");
  if (BN_num_bits(bn_n.get()) < 2048) return Status::Invalid("RSA keys need at least 2048 bits");
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Status::Internal("cannot build RSA key parameters");
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Status::Invalid("the RSA JWK is not a valid key");
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

}  // namespace

Result<PublicJwk> PublicJwk::Parse(const json::Value& jwk) {
  if (!jwk.is_object()) return Status::Invalid("a JWK is an object");
  PublicJwk out;
  out.kid_ = std::string(jwk.GetString("kid"));
  out.alg_ = std::string(jwk.GetString("alg"));
  if (jwk.GetString("kty") == "EC") {
    EHR_ASSIGN_OR_RETURN(EcKey key, EcKey::FromPublicJwk(jwk));
    out.ec_ = std::make_shared<EcKey>(std::move(key));
  } else if (jwk.GetString("kty") == "RSA") {
    EHR_ASSIGN_OR_RETURN(out.rsa_, RsaFromJwk(jwk));
  } else {
    return Status::Invalid("only EC and RSA keys are supported");
  }
  return out;
}

bool PublicJwk::Verify(std::string_view alg, std::string_view data, std::string_view signature) const {
  if (!alg_.empty() && alg_ != alg) return false;  // the key names its algorithm: only that one
  if (ec_) return EcAlgName(ec_->alg()) == alg && ec_->Verify(data, signature);
  if (!rsa_) return false;
  const EVP_MD* md = alg == "RS256" ? EVP_sha256() : alg == "RS384" ? EVP_sha384() : nullptr;
  if (md == nullptr) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  return ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, rsa_.get()) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

Result<std::vector<PublicJwk>> ParseJwks(std::string_view text) {
  json::ParseOptions options;
  options.max_depth = 8;
  auto set = json::Parse(text, options);
  if (!set.ok() || !set->is_object()) return Status::Invalid("a JWKS is a JSON object");
  const json::Value* keys = set->Find("keys");
  if (keys == nullptr || !keys->is_array()) return Status::Invalid("a JWKS has a \"keys\" array");
  std::vector<PublicJwk> out;
  for (const json::Value& k : keys->as_array()) {
    if (auto key = PublicJwk::Parse(k); key.ok()) out.push_back(std::move(*key));
  }
  return out;
}

}  // namespace ehr::security
