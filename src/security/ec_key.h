// Elliptic-curve keys for JSON Web Signatures: ES256 (P-256, SHA-256) signs the server's
// own tokens; ES384 (P-384, SHA-384) verifies SMART backend-service client assertions.
// Signatures are the JWS form (r || s, fixed width), not DER.
// An EcKey is immutable after construction and safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "fhir/json/value.h"

struct evp_pkey_st;

namespace ehr::security {

enum class EcAlg { kES256, kES384 };

// "ES256" / "ES384".
std::string_view EcAlgName(EcAlg alg);

class EcKey {
 public:
  // A new private key.
  static Result<EcKey> Generate(EcAlg alg = EcAlg::kES256);
  // A private key from PKCS#8 or SEC1 PEM, as PrivatePem() writes it.
  static Result<EcKey> FromPrivatePem(std::string_view pem);
  // A public key from a JWK ({"kty":"EC","crv":"P-256","x":...,"y":...}); kInvalid when the
  // JWK is malformed or its point is not on the curve.
  static Result<EcKey> FromPublicJwk(const json::Value& jwk);

  EcAlg alg() const { return alg_; }
  bool has_private() const { return has_private_; }
  std::string PrivatePem() const;
  // The public JWK with "kid", "alg" and "use":"sig".
  json::Value PublicJwk(std::string_view kid) const;

  // The JWS signature of `data`; needs a private key.
  Result<std::string> Sign(std::string_view data) const;
  bool Verify(std::string_view data, std::string_view signature) const;

 private:
  EcKey(std::shared_ptr<evp_pkey_st> key, EcAlg alg, bool has_private)
      : key_(std::move(key)), alg_(alg), has_private_(has_private) {}

  std::shared_ptr<evp_pkey_st> key_;
  EcAlg alg_;
  bool has_private_;
};

}  // namespace ehr::security
