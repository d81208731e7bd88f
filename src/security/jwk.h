// Public keys from JSON Web Key Sets, for verifying signatures made by others: SMART
// backend services sign their client assertions with RS384 or ES384 (and may use RS256,
// ES256). Immutable after parsing; safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fhir/json/value.h"
#include "security/ec_key.h"

struct evp_pkey_st;

namespace ehr::security {

class PublicJwk {
 public:
  // One key ({"kty":"EC"|"RSA", ...}); kInvalid when malformed, an RSA modulus under 2048
  // bits, or an EC point off its curve.
  static Result<PublicJwk> Parse(const json::Value& jwk);

  const std::string& kid() const { return kid_; }
  // Whether `signature` (JWS form) over `data` verifies with this key under `alg`
  // (RS256, RS384, ES256, ES384); an algorithm that does not fit the key is false.
  bool Verify(std::string_view alg, std::string_view data, std::string_view signature) const;

 private:
  std::string kid_;
  std::string alg_;                          // the JWK's own "alg", empty when not given
  std::shared_ptr<EcKey> ec_;                // EC keys
  std::shared_ptr<evp_pkey_st> rsa_;         // RSA keys
};

// Every usable key of a JWKS ({"keys":[...]}); keys that do not parse are skipped.
Result<std::vector<PublicJwk>> ParseJwks(std::string_view text);

}  // namespace ehr::security
