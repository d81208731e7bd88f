// An RSA signing key (2048 bits, RS256) for OpenID Connect ID tokens, which relying parties
// expect in RS256 (OpenID Connect Core 15.1: RS256 must be supported). The server's access
// tokens stay ES256 (ec_key.h). Immutable after construction; safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "fhir/json/value.h"

struct evp_pkey_st;

namespace ehr::security {

class RsaSigningKey {
 public:
  static Result<RsaSigningKey> Generate();
  // A private key from PEM, as PrivatePem() writes it; kInvalid for anything but RSA of
  // 2048 bits or more.
  static Result<RsaSigningKey> FromPrivatePem(std::string_view pem);

  std::string PrivatePem() const;
  // {"kty":"RSA","n","e","kid","alg":"RS256","use":"sig"}.
  json::Value PublicJwk(std::string_view kid) const;
  // The RS256 signature of `data`.
  Result<std::string> Sign(std::string_view data) const;

 private:
  explicit RsaSigningKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
};

// A compact JWS of `claims` signed RS256 with `key`, header {"alg","typ","kid"}.
Result<std::string> SignJwtRs256(const json::Value& claims, const RsaSigningKey& key, std::string_view kid,
                                 std::string_view typ = "JWT");

}  // namespace ehr::security
