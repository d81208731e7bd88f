// An RSA key for tests that play an outside party (a backend service, an identity
// provider): its public JWK, and compact JWS tokens it signs with RS256 or RS384.
#pragma once

#include <memory>
#include <string>

#include "fhir/json/value.h"

struct evp_pkey_st;

namespace ehr::testing {

class RsaKey {
 public:
  RsaKey();  // a fresh 2048-bit key
  ~RsaKey();
  json::Value Jwk(const std::string& kid) const;
  // header.payload.signature with {"alg","kid","typ":"JWT"}.
  std::string Sign(const json::Value& claims, const std::string& kid, const std::string& alg = "RS256") const;
  // The same over a header given as JSON text (to try what a forger would).
  std::string SignWithHeader(const std::string& header, const json::Value& claims, const std::string& alg) const;

 private:
  std::shared_ptr<evp_pkey_st> key_;
};

}  // namespace ehr::testing
