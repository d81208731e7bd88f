// Identity: built-in accounts, logins, sessions and the tokens that carry them.
//
// A login (password, then a TOTP code when enrolled) opens a session and returns a short
// access token (an ES256 JWT naming the session) and a refresh token (opaque, stored only as
// SHA-256). Refresh tokens rotate: each is spent by its use, and presenting a spent one
// revokes the whole session (a stolen token is detected when either party uses it next).
// Every request's access token is checked against its session, so logout, disabling a user
// and revocation take effect at once; idle sessions end.
//
// Thread-safe. Password hashing is slow by design: call Login and the account methods from
// worker threads, not IO threads. Authenticate is fast (a signature check and a cache).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "fhir/json/value.h"
#include "security/password.h"
#include "security/pipeline.h"
#include "store/accounts.h"

namespace ehr::security {

// The roles of the policy (README: the role-to-permission matrix).
inline constexpr std::string_view kRoles[] = {"ADMIN",      "DOCTOR",  "NURSE",    "CLERK",  "BILLING",
                                              "RESEARCHER", "PATIENT", "GUARDIAN", "SERVICE",  "AUDITOR"};
bool IsRole(std::string_view role);

struct IdentityOptions {
  std::string issuer = "ehr";  // "iss" of the tokens this server signs
  std::string audience;        // "aud": the FHIR base URL; empty: not checked
  int64_t access_ttl_seconds = 15 * 60;
  int64_t idle_timeout_seconds = 30 * 60;
  int64_t session_max_seconds = 12 * 3600;
  int max_failed_logins = 5;                  // then the account locks
  int64_t lockout_seconds = 60;               // doubled for each further failure
  int64_t max_lockout_seconds = 3600;
  int64_t key_rotation_seconds = 30 * 86400;  // a new signing key after this long
  int64_t revalidate_seconds = 5;             // how stale a cached session check may be
  PasswordCost password_cost;
  Clock* clock = nullptr;  // default: the system clock
};

struct NewUser {
  std::string username;
  std::string password;
  std::vector<std::string> roles;
  std::vector<std::string> tenants;  // empty: {"default"}
  std::string fhir_user;
};

struct Tokens {
  std::string access_token;
  int64_t expires_in = 0;  // seconds
  std::string refresh_token;
  std::string scope;
  Principal principal;
};

struct LoginRequest {
  std::string username;
  std::string password;
  std::string totp_code;      // or a recovery code
  std::string tenant;         // empty: the user's default tenant
};

struct TotpEnrollment {
  std::string secret_base32;
  std::string uri;  // otpauth:// for a QR code
};

// What a new session is for (a direct login, or a SMART app the user authorised).
struct SessionSpec {
  std::string tenant;  // empty: the user's default
  std::string scope;   // empty: what the account's roles fit (DefaultScope)
  std::string client_id;
  std::string patient;
  std::string encounter;
};

// The scopes a login grants by default: everything the roles allow (the role policy still
// decides), in the SMART context that fits the account.
std::string DefaultScope(const std::vector<std::string>& roles);

class Identity {
 public:
  static Result<std::unique_ptr<Identity>> Open(store::AccountStore& accounts, IdentityOptions options);
  ~Identity();

  // Accounts. Usernames are case-insensitive (kept lower case).
  Result<store::UserRecord> AddUser(const NewUser& user);
  Result<std::vector<store::UserRecord>> Users();
  Status SetPassword(std::string_view username, std::string_view password);  // ends the user's sessions
  Status SetRoles(std::string_view username, const std::vector<std::string>& roles);
  Status SetDisabled(std::string_view username, bool disabled);  // disabling ends the sessions
  // When no ADMIN exists: creates "admin" with `password` (or a random one, returned to be
  // shown once). nullopt when an ADMIN exists already.
  Result<std::optional<std::string>> Bootstrap(std::string_view password);

  // Sessions.
  Result<Tokens> Login(const LoginRequest& request);
  // The checks of a login (password, lockout, second factor) without opening a session:
  // the account, or kUnauthorized. `allow_enrollment`: an ADMIN without a second factor
  // passes (Login then limits the session to enrolment); otherwise kForbidden.
  Result<store::UserRecord> CheckCredentials(const LoginRequest& request);
  Result<Tokens> OpenSession(store::UserRecord& user, const SessionSpec& spec);
  // A backend service's token (SMART client credentials): no refresh token, no user.
  Result<Tokens> OpenClientSession(const store::ClientRecord& client, std::string_view scope);
  // An OpenID Connect ID token for `who`, meant for `client_id`.
  Result<std::string> IdToken(const Principal& who, std::string_view client_id);
  Result<Tokens> Refresh(std::string_view refresh_token);
  Status Logout(const Principal& who);
  Status RevokeRefreshToken(std::string_view refresh_token);
  // A session for scripts and tests (`ehr token`), without a password: whoever runs it
  // can read the data directory anyway.
  Result<Tokens> MintTokens(std::string_view username, std::string_view scope, std::string_view tenant);

  // Second factor. Begin stores a new unconfirmed secret; Confirm checks a first code
  // against it, enables it and returns ten single-use recovery codes.
  Result<TotpEnrollment> BeginTotp(const Principal& who);
  Result<std::vector<std::string>> ConfirmTotp(const Principal& who, std::string_view code);

  // A request's bearer token -> its principal; kUnauthorized for anything else.
  Result<Principal> Authenticate(std::string_view access_token);
  // The public keys tokens may be signed with ({"keys":[...]}).
  json::Value Jwks() const;
  // "iss" of the tokens this server signs.
  const std::string& issuer() const;

 private:
  struct Impl;
  explicit Identity(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class ExternalIssuers;

// Authenticator for `--auth on`: "Authorization: Bearer <access token>", signed by this
// server or by a configured OpenID Connect issuer (security/oidc.h).
class BearerAuthenticator final : public Authenticator {
 public:
  explicit BearerAuthenticator(Identity& identity, ExternalIssuers* external = nullptr)
      : identity_(identity), external_(external) {}
  Result<Principal> Authenticate(const net::Request& request) override;

 private:
  Identity& identity_;
  ExternalIssuers* external_;
};

}  // namespace ehr::security
