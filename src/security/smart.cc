#include "security/smart.h"

#include <openssl/evp.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "core/base64.h"
#include "core/secrets.h"
#include "net/http.h"
#include "security/jwk.h"
#include "security/jwt.h"
#include "security/scopes.h"

namespace ehr::security {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kCodeSeconds = 60;
constexpr int64_t kLaunchSeconds = 300;
constexpr int64_t kMaxAssertionSeconds = 300;
constexpr std::string_view kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// An OAuth error (RFC 6749 5.2): the code travels in Issue::code.
Status OAuthError(std::string code, std::string description) {
  const Code http = code == "invalid_client" ? Code::kUnauthorized : Code::kInvalid;
  return {http, Issue{"error", std::move(code), std::move(description), {}}};
}

std::string UrlEncode(std::string_view text) { return net::PercentEncode(text); }


std::string TrimSlash(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

// RFC 7636: 43 to 128 characters of [A-Za-z0-9-._~].
bool PkceText(std::string_view s) {
  if (s.size() < 43 || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

bool HasScope(std::string_view scope, std::string_view wanted) {
  size_t start = 0;
  while (start <= scope.size()) {
    size_t end = scope.find(' ', start);
    if (end == std::string_view::npos) end = scope.size();
    if (scope.substr(start, end - start) == wanted) return true;
    start = end + 1;
  }
  return false;
}

bool AudienceIs(const json::Value* aud, std::string_view expected) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->as_string() == expected;
  if (!aud->is_array()) return false;
  return std::any_of(aud->as_array().begin(), aud->as_array().end(),
                     [&](const json::Value& a) { return a.is_string() && a.as_string() == expected; });
}

bool RedirectUriAllowed(std::string_view uri) {
  return uri.rfind("https://", 0) == 0 || uri.rfind("http://localhost", 0) == 0 ||
         uri.rfind("http://127.0.0.1", 0) == 0;
}

}  // namespace

struct Smart::Impl {
  Impl(store::AccountStore& a, Identity& i, Clock* c) : accounts(a), identity(i), clock(c ? *c : Clock::System()) {}

  struct AuthCode {
    std::string client_id, redirect_uri, challenge, user_id, tenant, scope, patient, encounter, session_id;
    Micros expires = 0;
    bool used = false;
  };
  struct Launch {
    std::string patient, encounter, tenant;
    Micros expires = 0;
  };

  store::AccountStore& accounts;
  Identity& identity;
  Clock& clock;
  std::mutex mu;
  std::unordered_map<std::string, AuthCode> codes;  // GUARDED_BY(mu), by the code's SHA-256
  std::unordered_map<std::string, Launch> launches;  // GUARDED_BY(mu)
  std::unordered_map<std::string, Micros> seen_jti;  // GUARDED_BY(mu): client + jti -> exp

  void Prune(Micros now) {
    std::erase_if(codes, [now](const auto& e) { return e.second.expires + kCodeSeconds * kSecond < now; });
    std::erase_if(launches, [now](const auto& e) { return e.second.expires < now; });
    std::erase_if(seen_jti, [now](const auto& e) { return e.second < now; });
  }

  static std::string ErrorRedirect(const std::string& uri, std::string_view error, std::string_view description,
                                   std::string_view state) {
    std::string out = uri + (uri.find('?') == std::string::npos ? "?" : "&") + "error=" + std::string(error) +
                      "&error_description=" + UrlEncode(description);
    if (!state.empty()) out += "&state=" + UrlEncode(state);
    return out;
  }

  // The client a token-endpoint request authenticates as.
  Result<store::ClientRecord> AuthenticateClient(const std::vector<std::pair<std::string, std::string>>& form,
                                                 std::string_view authorization, std::string_view token_url) {
    if (authorization.size() > 6 && (authorization.substr(0, 6) == "Basic " || authorization.substr(0, 6) == "basic ")) {
      auto decoded = Base64Decode(authorization.substr(6));
      const size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) return OAuthError("invalid_client", "malformed Basic credentials");
      EHR_ASSIGN_OR_RETURN(auto client, accounts.Client(decoded->substr(0, colon)));
      if (!client || client->disabled || client->secret_hash.empty() ||
          !ConstantTimeEquals(HexEncode(Sha256(decoded->substr(colon + 1))), client->secret_hash)) {
        return OAuthError("invalid_client", "client authentication failed");
      }
      return std::move(*client);
    }
    if (!net::FindParam(form, "client_assertion").empty()) return VerifyAssertion(form, token_url);
    // A public client names itself; it has no secret and no keys to prove anything with.
    EHR_ASSIGN_OR_RETURN(auto client, accounts.Client(net::FindParam(form, "client_id")));
    if (!client || client->disabled) return OAuthError("invalid_client", "unknown client");
    if (!client->secret_hash.empty() || !client->jwks.empty()) {
      return OAuthError("invalid_client", "this client must authenticate");
    }
    return std::move(*client);
  }

  Result<store::ClientRecord> VerifyAssertion(const std::vector<std::pair<std::string, std::string>>& form,
                                              std::string_view token_url) {
    if (net::FindParam(form, "client_assertion_type") != kAssertionType) {
      return OAuthError("invalid_client", "client_assertion_type must be " + std::string(kAssertionType));
    }
    auto jwt = DecodeJwt(net::FindParam(form, "client_assertion"));
    if (!jwt.ok()) return OAuthError("invalid_client", "the client assertion is malformed");
    if (jwt->header.Find("jku") != nullptr || jwt->header.Find("x5u") != nullptr || jwt->header.Find("jwk") != nullptr) {
      return OAuthError("invalid_client", "keys are taken only from the client's registered set (no jku, x5u or jwk)");
    }
    const std::string iss(jwt->claims.GetString("iss"));
    if (iss.empty() || jwt->claims.GetString("sub") != iss) {
      return OAuthError("invalid_client", "the assertion's iss and sub must both be the client id");
    }
    if (std::string_view id = net::FindParam(form, "client_id"); !id.empty() && id != iss) {
      return OAuthError("invalid_client", "client_id does not match the assertion");
    }
    EHR_ASSIGN_OR_RETURN(auto client, accounts.Client(iss));
    if (!client || client->disabled || client->jwks.empty()) return OAuthError("invalid_client", "unknown client");
    EHR_ASSIGN_OR_RETURN(auto keys, ParseJwks(client->jwks));
    const std::string_view alg = jwt->alg();
    if (alg != "RS384" && alg != "ES384" && alg != "RS256" && alg != "ES256") {
      return OAuthError("invalid_client", "the assertion's algorithm is not accepted");
    }
    const bool verified = std::any_of(keys.begin(), keys.end(), [&](const PublicJwk& k) {
      return !jwt->kid().empty() && k.kid() == jwt->kid() && k.Verify(alg, jwt->signing_input, jwt->signature);
    });
    if (!verified) return OAuthError("invalid_client", "the assertion's signature does not verify with a registered key");
    if (!AudienceIs(jwt->claims.Find("aud"), token_url)) {
      return OAuthError("invalid_client", "the assertion's aud must be the token endpoint " + std::string(token_url));
    }
    const Micros now = clock.Now();
    const auto exp = SecondsClaim(jwt->claims, "exp");
    if (!exp || *exp * kSecond <= now) return OAuthError("invalid_client", "the assertion has expired");
    if (*exp * kSecond > now + kMaxAssertionSeconds * kSecond) {
      return OAuthError("invalid_client", "the assertion's exp is more than 5 minutes ahead");
    }
    const std::string_view jti = jwt->claims.GetString("jti");
    if (jti.empty()) return OAuthError("invalid_client", "the assertion needs a jti");
    std::lock_guard lock(mu);
    Prune(now);
    if (!seen_jti.emplace(client->id + " " + std::string(jti), *exp * kSecond).second) {
      return OAuthError("invalid_client", "the assertion was used before (jti replayed)");
    }
    return std::move(*client);
  }

  json::Value TokenResponse(const Tokens& t, std::string_view client_id, bool with_refresh) {
    json::Value out = json::Value::MakeObject();
    out.Set("access_token", json::Value(t.access_token));
    out.Set("token_type", json::Value("Bearer"));
    out.Set("expires_in", json::Value::MakeInt(t.expires_in));
    out.Set("scope", json::Value(t.scope));
    if (with_refresh && !t.refresh_token.empty()) out.Set("refresh_token", json::Value(t.refresh_token));
    if (!t.principal.patient.empty()) out.Set("patient", json::Value(t.principal.patient));
    if (!t.principal.encounter.empty()) out.Set("encounter", json::Value(t.principal.encounter));
    if (HasScope(t.scope, "openid") && HasScope(t.scope, "fhirUser")) {
      if (auto id_token = identity.IdToken(t.principal, client_id); id_token.ok()) {
        out.Set("id_token", json::Value(*id_token));
      }
    }
    return out;
  }
};

Smart::Smart(store::AccountStore& accounts, Identity& identity, Clock* clock)
    : impl_(std::make_unique<Impl>(accounts, identity, clock)) {}
Smart::~Smart() = default;

Result<std::string> Smart::AddClient(const NewClient& n) {
  if (n.id.size() < 3 || n.id.size() > 64 || !std::all_of(n.id.begin(), n.id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      })) {
    return Status::Invalid("a client id has 3 to 64 letters, digits, '-', '_' or '.'", "id");
  }
  for (const auto& uri : n.redirect_uris) {
    if (!RedirectUriAllowed(uri) || uri.find('#') != std::string::npos) {
      return Status::Invalid("redirect URIs are https (or http on localhost) without a fragment", "redirect_uris");
    }
  }
  const Scopes scopes = ParseScopes(n.scope);
  if (!scopes.ignored.empty()) return Status::Invalid("the scope '" + scopes.ignored.front() + "' is not valid", "scope");
  for (const auto& r : n.roles) {
    if (!IsRole(r)) return Status::Invalid("unknown role '" + r + "'", "roles");
  }
  store::ClientRecord c;
  c.id = n.id;
  c.name = n.name.empty() ? n.id : n.name;
  c.redirect_uris = n.redirect_uris;
  c.scope = n.scope;
  c.roles = n.roles;
  c.tenant = n.tenant;
  c.created = impl_->clock.Now();
  if (!n.jwks.empty()) {
    EHR_ASSIGN_OR_RETURN(auto keys, ParseJwks(n.jwks));
    if (keys.empty()) return Status::Invalid("the JWKS has no usable key (EC P-256/P-384 or RSA of 2048+ bits)", "jwks");
    c.jwks = n.jwks;
  }
  std::string secret;
  if (n.confidential) {
    secret = RandomToken(32);
    c.secret_hash = HexEncode(Sha256(secret));
  }
  if (c.redirect_uris.empty() && c.jwks.empty()) {
    return Status::Invalid("a client needs redirect URIs (an app) or a JWKS (a backend service)");
  }
  EHR_RETURN_IF_ERROR(impl_->accounts.InsertClient(c));
  return secret;
}

Result<std::vector<store::ClientRecord>> Smart::Clients() { return impl_->accounts.Clients(); }

AuthorizeOutcome Smart::CheckAuthorize(const AuthorizeRequest& r, std::string_view fhir_base) {
  AuthorizeOutcome out;
  auto client = impl_->accounts.Client(r.client_id);
  if (!client.ok()) {
    out.error = client.status();
    return out;
  }
  if (!*client || (*client)->disabled) {
    out.error = Status::Invalid("unknown client_id", "client_id");
    return out;
  }
  const auto& uris = (*client)->redirect_uris;
  if (r.redirect_uri.empty() || std::find(uris.begin(), uris.end(), r.redirect_uri) == uris.end()) {
    out.error = Status::Invalid("redirect_uri is not registered for this client", "redirect_uri");
    return out;
  }
  auto fail = [&](std::string_view error, std::string_view description) {
    out.redirect = Impl::ErrorRedirect(r.redirect_uri, error, description, r.state);
    return out;
  };
  if (r.response_type != "code") return fail("unsupported_response_type", "response_type must be code");
  if (r.code_challenge_method != "S256") return fail("invalid_request", "PKCE with code_challenge_method=S256 is required");
  if (r.code_challenge.size() != 43 || !PkceText(r.code_challenge)) {
    return fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)");
  }
  if (TrimSlash(r.aud) != TrimSlash(fhir_base)) return fail("invalid_request", "aud must be this server's FHIR base URL");
  if (!r.launch.empty()) {
    std::lock_guard lock(impl_->mu);
    impl_->Prune(impl_->clock.Now());
    if (!impl_->launches.count(r.launch)) return fail("invalid_request", "unknown or expired launch");
  }
  out.scope = ParseScopes((*client)->scope).Intersect(ParseScopes(r.scope));
  if (out.scope.empty()) return fail("invalid_scope", "none of the requested scopes is allowed to this client");
  out.client_name = (*client)->name;
  return out;
}

AuthorizeOutcome Smart::Approve(const AuthorizeRequest& r, std::string_view fhir_base, const LoginRequest& login,
                                std::string_view chosen_patient) {
  AuthorizeOutcome out = CheckAuthorize(r, fhir_base);
  if (!out.error.ok() || !out.redirect.empty()) return out;
  auto user = impl_->identity.CheckCredentials(login);
  if (!user.ok()) {
    out.error = user.status();
    return out;
  }
  SessionSpec spec;
  spec.tenant = login.tenant.empty() ? (user->tenants.empty() ? "default" : user->tenants.front()) : login.tenant;
  spec.client_id = r.client_id;
  // The account bounds the data scopes; openid, fhirUser, launch and offline access are
  // the client's to ask for.
  spec.scope = ParseScopes(DefaultScope(user->roles) + " openid fhirUser launch launch/patient offline_access")
                   .Intersect(ParseScopes(out.scope));
  if (r.approved_scope) {
    if (r.approved_scope->empty()) {
      out.redirect = Impl::ErrorRedirect(r.redirect_uri, "access_denied", "the user approved no scope", r.state);
      return out;
    }
    spec.scope = ParseScopes(spec.scope).Intersect(ParseScopes(*r.approved_scope));
  }
  if (spec.scope.empty()) {
    out.redirect = Impl::ErrorRedirect(r.redirect_uri, "access_denied", "the account may not grant these scopes", r.state);
    return out;
  }
  const Scopes granted = ParseScopes(spec.scope);
  if (!r.launch.empty()) {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->launches.find(r.launch);
    if (it == impl_->launches.end() || it->second.tenant != spec.tenant) {
      out.redirect = Impl::ErrorRedirect(r.redirect_uri, "invalid_request", "unknown or expired launch", r.state);
      return out;
    }
    spec.patient = it->second.patient;
    spec.encounter = it->second.encounter;
  } else if (granted.launch_patient) {
    if (user->fhir_user.rfind("Patient/", 0) == 0) {
      spec.patient = user->fhir_user.substr(8);
    } else if (!chosen_patient.empty()) {
      spec.patient = std::string(chosen_patient);
    } else {
      out.error = Status::Invalid("choose the patient this app is launched for", "patient");
      return out;
    }
  }
  Impl::AuthCode code;
  code.client_id = r.client_id;
  code.redirect_uri = r.redirect_uri;
  code.challenge = r.code_challenge;
  code.user_id = user->id;
  code.tenant = spec.tenant;
  code.scope = spec.scope;
  code.patient = spec.patient;
  code.encounter = spec.encounter;
  code.expires = impl_->clock.Now() + kCodeSeconds * kSecond;
  const std::string value = RandomToken(32);
  {
    std::lock_guard lock(impl_->mu);
    impl_->Prune(impl_->clock.Now());
    impl_->codes[Sha256(value)] = std::move(code);
  }
  out.redirect = r.redirect_uri + (r.redirect_uri.find('?') == std::string::npos ? "?" : "&") + "code=" + value;
  if (!r.state.empty()) out.redirect += "&state=" + UrlEncode(r.state);
  return out;
}

Result<std::string> Smart::RegisterLaunch(const Principal& who, std::string patient, std::string encounter) {
  if (patient.empty()) return Status::Invalid("a launch needs a patient", "patient");
  const std::string id = RandomToken(16);
  std::lock_guard lock(impl_->mu);
  impl_->Prune(impl_->clock.Now());
  impl_->launches[id] = Impl::Launch{std::move(patient), std::move(encounter), who.tenant,
                                     impl_->clock.Now() + kLaunchSeconds * kSecond};
  return id;
}

Status Smart::AuthenticateClient(const std::vector<std::pair<std::string, std::string>>& form,
                                 std::string_view authorization, std::string_view token_url) {
  return impl_->AuthenticateClient(form, authorization, token_url).status();
}

Result<json::Value> Smart::Token(const std::vector<std::pair<std::string, std::string>>& form,
                                 std::string_view authorization, std::string_view token_url) {
  Impl& m = *impl_;
  const std::string_view grant = net::FindParam(form, "grant_type");
  if (grant != "authorization_code" && grant != "refresh_token" && grant != "client_credentials") {
    return OAuthError("unsupported_grant_type", "grant_type must be authorization_code, refresh_token or client_credentials");
  }
  EHR_ASSIGN_OR_RETURN(store::ClientRecord client, m.AuthenticateClient(form, authorization, token_url));
  if (grant == "client_credentials") {
    if (client.jwks.empty()) return OAuthError("unauthorized_client", "client credentials need a registered JWKS");
    const std::string granted = ParseScopes(client.scope).Intersect(ParseScopes(net::FindParam(form, "scope")));
    if (granted.empty()) return OAuthError("invalid_scope", "none of the requested scopes is allowed to this client");
    EHR_ASSIGN_OR_RETURN(Tokens t, m.identity.OpenClientSession(client, granted));
    return m.TokenResponse(t, client.id, false);
  }
  if (grant == "refresh_token") {
    auto t = m.identity.Refresh(net::FindParam(form, "refresh_token"));
    if (!t.ok()) return OAuthError("invalid_grant", t.status().message());
    if (t->principal.client_id != client.id) {
      (void)m.identity.Logout(t->principal);  // another client's token: nobody should hold it
      return OAuthError("invalid_grant", "the refresh token was issued to another client");
    }
    return m.TokenResponse(*t, client.id, true);
  }
  // authorization_code
  const std::string verifier(net::FindParam(form, "code_verifier"));
  const std::string key = Sha256(net::FindParam(form, "code"));
  Impl::AuthCode code;
  {
    std::lock_guard lock(m.mu);
    auto it = m.codes.find(key);
    if (it == m.codes.end()) return OAuthError("invalid_grant", "unknown or expired code");
    if (it->second.used) {
      // A code used twice was intercepted: whatever its first use got is revoked (RFC 6749 4.1.2).
      Principal first;
      first.session_id = it->second.session_id;
      (void)m.identity.Logout(first);
      return OAuthError("invalid_grant", "the code was used before; the tokens it gave are revoked");
    }
    it->second.used = true;  // a failed check below spends it too
    code = it->second;
  }
  if (code.expires <= m.clock.Now()) return OAuthError("invalid_grant", "the code has expired");
  if (code.client_id != client.id) return OAuthError("invalid_grant", "the code was issued to another client");
  if (net::FindParam(form, "redirect_uri") != code.redirect_uri) return OAuthError("invalid_grant", "redirect_uri does not match");
  if (!PkceText(verifier) || !ConstantTimeEquals(Base64UrlEncode(Sha256(verifier)), code.challenge)) {
    return OAuthError("invalid_grant", "code_verifier does not match the code_challenge");
  }
  EHR_ASSIGN_OR_RETURN(auto user, m.accounts.UserById(code.user_id));
  if (!user) return OAuthError("invalid_grant", "the user no longer exists");
  EHR_ASSIGN_OR_RETURN(Tokens t, m.identity.OpenSession(*user, SessionSpec{code.tenant, code.scope, client.id,
                                                                          code.patient, code.encounter}));
  {
    std::lock_guard lock(m.mu);
    if (auto it = m.codes.find(key); it != m.codes.end()) it->second.session_id = t.principal.session_id;
  }
  return m.TokenResponse(t, client.id, HasScope(t.scope, "offline_access"));
}

Result<json::Value> Smart::Introspect(std::string_view token) {
  json::Value out = json::Value::MakeObject();
  auto p = impl_->identity.Authenticate(token);
  if (!p.ok()) {
    out.Set("active", json::Value(false));
    return out;
  }
  auto jwt = DecodeJwt(token);
  out.Set("active", json::Value(true));
  out.Set("token_type", json::Value("Bearer"));
  out.Set("scope", json::Value(p->scope));
  out.Set("sub", json::Value(p->subject));
  if (!p->username.empty()) out.Set("username", json::Value(p->username));
  if (!p->client_id.empty()) out.Set("client_id", json::Value(p->client_id));
  if (!p->patient.empty()) out.Set("patient", json::Value(p->patient));
  if (!p->fhir_user.empty()) out.Set("fhirUser", json::Value(p->fhir_user));
  if (jwt.ok()) {
    for (const char* claim : {"exp", "iat", "iss"}) {
      if (const json::Value* v = jwt->claims.Find(claim)) out.Set(claim, *v);
    }
  }
  return out;
}

Status Smart::Revoke(std::string_view token) {
  if (std::count(token.begin(), token.end(), '.') == 2) {
    auto p = impl_->identity.Authenticate(token);
    if (p.ok()) return impl_->identity.Logout(*p);
    return Status::Ok();  // RFC 7009: an invalid token is not an error
  }
  return impl_->identity.RevokeRefreshToken(token);
}

json::Value Smart::Configuration(std::string_view auth_base) const {
  const std::string base(auth_base);
  const std::string root = base.size() > 5 ? base.substr(0, base.size() - 5) : base;  // without "/auth"
  json::Value c = json::Value::MakeObject();
  c.Set("issuer", json::Value(impl_->identity.issuer()));
  c.Set("jwks_uri", json::Value(root + "/.well-known/jwks.json"));
  c.Set("authorization_endpoint", json::Value(base + "/authorize"));
  c.Set("token_endpoint", json::Value(base + "/token"));
  c.Set("introspection_endpoint", json::Value(base + "/introspect"));
  c.Set("revocation_endpoint", json::Value(base + "/revoke"));
  auto list = [](std::initializer_list<const char*> items) {
    json::Value a = json::Value::MakeArray();
    for (const char* i : items) a.as_array().push_back(json::Value(i));
    return a;
  };
  c.Set("grant_types_supported", list({"authorization_code", "client_credentials", "refresh_token"}));
  c.Set("response_types_supported", list({"code"}));
  c.Set("code_challenge_methods_supported", list({"S256"}));
  c.Set("token_endpoint_auth_methods_supported", list({"client_secret_basic", "private_key_jwt"}));
  c.Set("token_endpoint_auth_signing_alg_values_supported", list({"RS384", "ES384", "RS256", "ES256"}));
  c.Set("id_token_signing_alg_values_supported", list({"RS256"}));
  c.Set("scopes_supported", list({"openid", "fhirUser", "launch", "launch/patient", "offline_access", "patient/*.rs",
                                  "user/*.cruds", "system/*.cruds"}));
  c.Set("capabilities", list({"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
                              "client-confidential-asymmetric", "context-ehr-patient", "context-ehr-encounter",
                              "context-standalone-patient", "permission-offline", "permission-patient",
                              "permission-user", "permission-v1", "permission-v2", "sso-openid-connect"}));
  return c;
}

}  // namespace ehr::security
