// Tokens from external OpenID Connect issuers (hospital single sign-on). An issuer is
// configured with its "iss", the audience its tokens must name, where its public keys come
// from (a JWKS file, or a URL that starts with one of the allow-list's prefixes: never a
// URL a token names), and how its claims map onto an account here: username, roles (each
// IdP value mapped to a role; others ignored; ADMIN only with a multi-factor "amr"), tenant
// (fixed, or a claim's value mapped), and the FHIR record the person is (fhirUser).
//
// The configuration file (`ehr serve --oidc FILE`) is JSON:
//   {"jwks_allow": ["https://sso.example.org/"],
//    "issuers": [{"issuer": "https://sso.example.org/realms/h", "audience": "ehr",
//                 "jwks_url": "https://sso.example.org/realms/h/certs" | "jwks_file": "...",
//                 "ca_file": "...", "username_claim": "preferred_username",
//                 "roles_claim": "realm_access.roles", "roles": {"ehr-doctor": "DOCTOR"},
//                 "tenant": "h" | "tenant_claim": "org", "tenants": {"H": "h"},
//                 "fhir_user_claim": "fhirUser", "max_lifetime_seconds": 3600}]}
//
// Signatures: RS256, RS384, ES256, ES384 with the key the token's "kid" names (an unknown
// kid reloads the keys, at most once a minute). "exp" is required and at most
// max_lifetime_seconds ahead; revocation is the issuer's (its tokens are short-lived).
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "fhir/json/value.h"
#include "security/jwk.h"
#include "security/pipeline.h"

namespace ehr::security {

struct ExternalIssuer {
  std::string issuer;
  std::string audience;
  std::string jwks_file;
  std::string jwks_url;
  std::string ca_file;
  std::string username_claim = "preferred_username";
  std::string roles_claim = "roles";  // dotted path into the claims; a string or an array
  std::map<std::string, std::string> roles;
  std::string tenant;
  std::string tenant_claim;
  std::map<std::string, std::string> tenants;
  std::string fhir_user_claim = "fhirUser";
  int64_t max_lifetime_seconds = 3600;
};

// Parses the configuration (kInvalid naming what is wrong).
Result<std::vector<ExternalIssuer>> ParseOidcConfig(std::string_view text);

class ExternalIssuers {
 public:
  // Loads each issuer's keys now; an issuer whose keys cannot be had yet is kept (its
  // tokens fail until a reload succeeds) and logged.
  ExternalIssuers(std::vector<ExternalIssuer> issuers, Clock& clock);

  bool empty() const { return issuers_.empty(); }
  // nullopt when `token` is not from a configured issuer (the caller tries its own);
  // otherwise its principal, or kUnauthorized.
  std::optional<Result<Principal>> Authenticate(std::string_view token);

 private:
  struct Keys {
    std::vector<PublicJwk> keys;
    Micros loaded = 0;
  };
  struct Entry {
    ExternalIssuer config;
    std::shared_ptr<const Keys> keys;
  };
  Status Reload(Entry& e);
  Result<Principal> PrincipalOf(const ExternalIssuer& c, const json::Value& claims) const;

  Clock& clock_;
  std::mutex mu_;  // guards keys of every entry and the cache
  std::vector<Entry> issuers_;
  struct Cached {
    Principal principal;
    Micros expires = 0;
  };
  std::unordered_map<std::string, Cached> cache_;
};

}  // namespace ehr::security
