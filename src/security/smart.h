// SMART App Launch 2 and backend services: the OAuth 2.0 authorization server for apps.
//
//   authorization code + PKCE (S256 only; "plain" and missing challenges are refused), the
//   audience checked against the FHIR base URL, redirect URIs matched exactly, codes of
//   60 seconds used once (a second use revokes what the first one got), standalone and
//   EHR launch (patient and encounter context), scopes narrowed to what the account and
//   the client may have;
//   client credentials with a signed client assertion (RS384/ES384, also RS256/ES256):
//   iss = sub = client id, aud = the token endpoint, exp at most 5 minutes ahead, each jti
//   once, keys only from the client's registered set (a "jku" header is refused);
//   token introspection (RFC 7662) and revocation (RFC 7009).
//
// Codes, launch contexts and seen assertion ids are kept in memory: a restart forgets
// them, which fails closed (codes and launches are short-lived; a replayed assertion
// would also need its exp, at most 5 minutes, to outlive the restart).
// Thread-safe. Password checks are slow: call from worker threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "fhir/json/value.h"
#include "security/identity.h"
#include "store/accounts.h"

namespace ehr::security {

struct NewClient {
  std::string id;
  std::string name;
  std::vector<std::string> redirect_uris;
  bool confidential = false;  // a client secret is generated (and returned once)
  std::string jwks;           // backend services: the public keys of their assertions
  std::string scope;          // the most the client may be granted
  std::vector<std::string> roles;  // backend services: the roles their tokens act with
  std::string tenant;              // backend services
};

// The parameters of /auth/authorize (query string of GET, form of POST).
struct AuthorizeRequest {
  std::string response_type, client_id, redirect_uri, scope, state, aud, code_challenge, code_challenge_method, launch;
  // The scopes the user left ticked on the consent page (nullopt: no page was shown, as
  // for a client posting the form itself). Only narrows; none ticked denies.
  std::optional<std::string> approved_scope;
};

// An answer to an authorization request that cannot go back to the client (unknown client,
// unregistered redirect URI: redirecting there would hand codes or errors to anyone), or
// a redirect back to it (with a code, or with an OAuth error).
struct AuthorizeOutcome {
  Status error;             // set when nothing may be redirected: show it
  std::string redirect;     // else the URL to send the browser to
  std::string client_name;  // for the login page
  std::string scope;        // what would be granted, for the login page
};

class Smart {
 public:
  Smart(store::AccountStore& accounts, Identity& identity, Clock* clock = nullptr);
  ~Smart();

  // Registers a client; returns the client secret for a confidential one (shown once).
  Result<std::string> AddClient(const NewClient& client);
  Result<std::vector<store::ClientRecord>> Clients();

  // GET /auth/authorize: checks the request; an empty `redirect` with no error means
  // "show the login page".
  AuthorizeOutcome CheckAuthorize(const AuthorizeRequest& request, std::string_view fhir_base);
  // POST /auth/authorize: the user's credentials (and for a clinician's standalone launch
  // with launch/patient, the chosen patient id, which the caller has checked exists).
  AuthorizeOutcome Approve(const AuthorizeRequest& request, std::string_view fhir_base, const LoginRequest& login,
                           std::string_view chosen_patient);

  // POST /auth/launch: an EHR registers the context of a launch; returns the launch id.
  Result<std::string> RegisterLaunch(const Principal& who, std::string patient, std::string encounter);

  // POST /auth/token with the form's fields and the Authorization header (client_secret_basic).
  // Errors are OAuth errors: kInvalid with the error code in Issue::code (invalid_grant,
  // invalid_client, invalid_request, unsupported_grant_type, invalid_scope).
  Result<json::Value> Token(const std::vector<std::pair<std::string, std::string>>& form,
                            std::string_view authorization, std::string_view token_url);
  // POST /auth/introspect and /auth/revoke; the caller is a client (same authentication as
  // the token endpoint) or, for introspection, a principal with the SERVICE role.
  Result<json::Value> Introspect(std::string_view token);
  Status Revoke(std::string_view token);
  // Client authentication for introspection and revocation.
  Status AuthenticateClient(const std::vector<std::pair<std::string, std::string>>& form,
                            std::string_view authorization, std::string_view token_url);

  // /.well-known/smart-configuration for a server whose endpoints are under `auth_base`.
  json::Value Configuration(std::string_view auth_base) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ehr::security
