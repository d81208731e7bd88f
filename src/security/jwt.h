// JSON Web Tokens (RFC 7519) signed with JWS compact serialisation (RFC 7515).
//
// DecodeJwt parses untrusted text and checks only its shape; VerifyJwt then checks the
// signature against keys the caller trusts and the time, issuer and audience claims. The
// algorithm comes from the trusted key, never from the token's header: "none", HMAC and any
// algorithm other than the key's own are refused (the classic JWT confusion attacks).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "fhir/json/value.h"
#include "security/ec_key.h"

namespace ehr::security {

inline constexpr size_t kMaxJwtBytes = 16 * 1024;

struct Jwt {
  json::Value header;
  json::Value claims;
  std::string signing_input;  // the first two segments, as signed
  std::string signature;      // decoded bytes of the third segment

  std::string_view alg() const { return header.GetString("alg"); }
  std::string_view kid() const { return header.GetString("kid"); }
};

// Splits and decodes a compact JWS whose payload is a JSON object. kUnauthorized (the
// caller's credentials are unusable) with a generic message: details of why a forged token
// fails help only the forger.
Result<Jwt> DecodeJwt(std::string_view token);

// A compact JWS of `claims` with the header {"alg","typ","kid"}, signed by `sign` (which
// returns the JWS signature of the signing input).
Result<std::string> SignJwtWith(const json::Value& claims, std::string_view alg, std::string_view kid,
                                std::string_view typ,
                                const std::function<Result<std::string>(std::string_view)>& sign);

// A compact JWS of `claims` signed with `key`, header {"alg","typ","kid"}.
Result<std::string> SignJwt(const json::Value& claims, const EcKey& key, std::string_view kid,
                            std::string_view typ = "JWT");

struct VerifyOptions {
  std::string issuer;      // required "iss"; empty: not checked
  std::string audience;    // must be "aud" or one of its entries; empty: not checked
  Micros now = 0;
  int64_t leeway_seconds = 30;
  int64_t max_lifetime_seconds = 0;  // > 0: refuse "exp" further than this ahead of now
};

// The key for a token's "kid" (nullptr: unknown key).
using KeyLookup = std::function<const EcKey*(std::string_view kid)>;

// Checks the signature with the key named by "kid" (its algorithm must equal the header's
// "alg"), then "exp" (required), "nbf", "iat" (not in the future), "iss" and "aud".
Status VerifyJwt(const Jwt& jwt, const KeyLookup& keys, const VerifyOptions& options);

// The time, issuer and audience checks of VerifyJwt alone (for tokens whose signature was
// checked with another kind of key).
Status CheckClaims(const json::Value& claims, const VerifyOptions& options);

// A NumericDate claim in seconds; nullopt when absent or not an integer.
std::optional<int64_t> SecondsClaim(const json::Value& claims, std::string_view name);

}  // namespace ehr::security
