#include "security/identity.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/base64.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/secrets.h"
#include "security/ec_key.h"
#include "security/jwt.h"
#include "security/oidc.h"
#include "security/rsa_key.h"
#include "security/scopes.h"
#include "security/totp.h"

namespace ehr::security {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr int kRecoveryCodes = 10;

Status Unauthorized(std::string message) {
  return {Code::kUnauthorized, Issue{"error", "login", std::move(message), {}}};
}
const char kBadLogin[] = "invalid username or password, or the account is locked or disabled";

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

Status CheckUsername(std::string_view name) {
  if (name.size() < 3 || name.size() > 64) return Status::Invalid("a username has 3 to 64 characters", "username");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' && c != '@') {
      return Status::Invalid("a username has only letters, digits and . _ - @", "username");
    }
  }
  return Status::Ok();
}

Status CheckTenant(std::string_view t) {
  if (t.empty() || t.size() > 64) return Status::Invalid("a tenant id has 1 to 64 characters", "tenants");
  for (char c : t) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Status::Invalid("a tenant id has only letters, digits, - and _", "tenants");
    }
  }
  return Status::Ok();
}

Status CheckRoles(const std::vector<std::string>& roles) {
  if (roles.empty()) return Status::Invalid("a user needs at least one role", "roles");
  for (const auto& r : roles) {
    if (!IsRole(r)) return Status::Invalid("unknown role '" + r + "'", "roles");
  }
  return Status::Ok();
}

// A random password that passes the policy: 20 characters from all four classes.
std::string RandomPassword() {
  static constexpr std::string_view kSets[] = {"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789",
                                               "-_.!#%+="};
  const std::string bytes = RandomBytes(20);
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string_view set = kSets[i % 4];
    out.push_back(set[static_cast<unsigned char>(bytes[i]) % set.size()]);
  }
  return out;
}

json::Value StringArray(const std::vector<std::string>& items) {
  json::Value a = json::Value::MakeArray();
  for (const auto& s : items) a.as_array().push_back(json::Value(s));
  return a;
}

std::string RoleScope(const std::vector<std::string>& roles) {
  auto has = [&roles](std::string_view r) { return std::find(roles.begin(), roles.end(), r) != roles.end(); };
  if (has("SERVICE")) return "system/*.cruds";
  if (roles.size() == 1 && has("PATIENT")) return "openid fhirUser patient/*.rs";
  return "openid fhirUser user/*.cruds";
}

struct SigningKey {
  std::string kid;
  EcKey key;
  Micros created;
  Micros retired;
};

// An RSA key for ID tokens; its records' kids start with kIdKeyPrefix.
struct IdKey {
  std::string kid;
  RsaSigningKey key;
  Micros retired;
};
constexpr std::string_view kIdKeyPrefix = "rsa-";

struct CachedSession {
  store::SessionRecord session;
  bool user_active = false;
  Micros checked_at = 0;
};

}  // namespace

std::string DefaultScope(const std::vector<std::string>& roles) { return RoleScope(roles); }

bool IsRole(std::string_view role) { return std::find(std::begin(kRoles), std::end(kRoles), role) != std::end(kRoles); }

struct Identity::Impl {
  Impl(store::AccountStore& a, IdentityOptions o)
      : accounts(a), options(std::move(o)), clock(options.clock ? *options.clock : Clock::System()),
        hasher(options.password_cost) {}

  store::AccountStore& accounts;
  IdentityOptions options;
  Clock& clock;
  PasswordHasher hasher;
  std::string dummy_hash;  // verified against for unknown users, so timing does not tell

  mutable std::shared_mutex keys_mu;
  std::vector<SigningKey> keys;  // GUARDED_BY(keys_mu); the last is the active one
  std::vector<IdKey> id_keys;    // GUARDED_BY(keys_mu); made on first use; the last is the active one

  struct VerifiedToken {
    Principal principal;
    Micros expires;
  };
  static constexpr size_t kMaxVerifiedTokens = 20000;
  std::mutex tokens_mu;
  std::unordered_map<std::string, VerifiedToken> verified;  // GUARDED_BY(tokens_mu)

  std::optional<Principal> CachedToken(std::string_view token, Micros now) {
    std::lock_guard lock(tokens_mu);
    auto it = verified.find(std::string(token));
    if (it == verified.end()) return std::nullopt;
    if (it->second.expires <= now) {
      verified.erase(it);
      return std::nullopt;
    }
    return it->second.principal;
  }

  void RememberToken(std::string_view token, const Principal& p, Micros expires) {
    std::lock_guard lock(tokens_mu);
    if (verified.size() >= kMaxVerifiedTokens) verified.clear();  // simple and bounded
    verified.emplace(std::string(token), VerifiedToken{p, expires});
  }

  std::mutex sessions_mu;
  std::unordered_map<std::string, CachedSession> sessions;  // GUARDED_BY(sessions_mu)

  Status LoadKeys() {
    const Micros now = clock.Now();
    EHR_ASSIGN_OR_RETURN(auto records, accounts.SigningKeys());
    std::vector<SigningKey> loaded;
    std::vector<IdKey> id_loaded;
    bool has_active = false;
    for (auto& r : records) {
      // A retired key stays published until every token it signed has expired.
      if (r.retired != 0 && r.retired + (options.access_ttl_seconds + 60) * kSecond < now) {
        EHR_RETURN_IF_ERROR(accounts.DeleteSigningKey(r.kid));
        continue;
      }
      if (r.retired == 0 && r.created + options.key_rotation_seconds * kSecond < now) {
        EHR_RETURN_IF_ERROR(accounts.RetireSigningKey(r.kid, now));
        r.retired = now;
      }
      if (std::string_view(r.kid).rfind(kIdKeyPrefix, 0) == 0) {
        EHR_ASSIGN_OR_RETURN(RsaSigningKey key, RsaSigningKey::FromPrivatePem(r.private_pem));
        id_loaded.push_back({r.kid, std::move(key), r.retired});
        continue;
      }
      EHR_ASSIGN_OR_RETURN(EcKey key, EcKey::FromPrivatePem(r.private_pem));
      has_active = has_active || r.retired == 0;
      loaded.push_back({r.kid, std::move(key), r.created, r.retired});
    }
    if (!has_active) {
      EHR_ASSIGN_OR_RETURN(EcKey key, EcKey::Generate());
      store::SigningKeyRecord r{RandomToken(12), key.PrivatePem(), now, 0};
      EHR_RETURN_IF_ERROR(accounts.InsertSigningKey(r));
      loaded.push_back({r.kid, std::move(key), now, 0});
    }
    std::stable_partition(loaded.begin(), loaded.end(), [](const SigningKey& k) { return k.retired != 0; });
    std::stable_partition(id_loaded.begin(), id_loaded.end(), [](const IdKey& k) { return k.retired != 0; });
    std::unique_lock lock(keys_mu);
    keys = std::move(loaded);
    id_keys = std::move(id_loaded);
    return Status::Ok();
  }

  // The active ID token key, made (and stored) on first use: RSA generation is slow, and
  // most servers' clients never ask for an ID token.
  Result<IdKey> ActiveIdKey() {
    {
      std::shared_lock lock(keys_mu);
      if (!id_keys.empty() && id_keys.back().retired == 0) return id_keys.back();
    }
    std::unique_lock lock(keys_mu);
    if (!id_keys.empty() && id_keys.back().retired == 0) return id_keys.back();
    EHR_ASSIGN_OR_RETURN(RsaSigningKey key, RsaSigningKey::Generate());
    store::SigningKeyRecord r{std::string(kIdKeyPrefix) + RandomToken(12), key.PrivatePem(), clock.Now(), 0};
    EHR_RETURN_IF_ERROR(accounts.InsertSigningKey(r));
    id_keys.push_back({r.kid, std::move(key), 0});
    return id_keys.back();
  }

  Result<store::UserRecord> FindUser(std::string_view username) {
    EHR_ASSIGN_OR_RETURN(auto user, accounts.UserByName(Lower(username)));
    if (!user) return Status::NotFound("no user with this username");
    return std::move(*user);
  }

  // Drops cached checks of a user's sessions, so that the next request reads the store.
  void ForgetUser(std::string_view user_id) {
    std::lock_guard lock(sessions_mu);
    std::erase_if(sessions, [&](const auto& entry) { return entry.second.session.user_id == user_id; });
  }

  Result<Tokens> Issue(const store::UserRecord& user, const store::SessionRecord& session, std::string refresh,
                       bool enrollment_only) {
    const Micros now = clock.Now();
    const int64_t iat = now / kSecond;
    const int64_t exp = std::min(iat + options.access_ttl_seconds, session.expires / kSecond);
    json::Value claims = json::Value::MakeObject();
    claims.Set("iss", json::Value(options.issuer));
    if (!options.audience.empty()) claims.Set("aud", json::Value(options.audience));
    claims.Set("sub", json::Value(user.id));
    claims.Set("preferred_username", json::Value(user.username));
    claims.Set("sid", json::Value(session.id));
    claims.Set("jti", json::Value(RandomToken(12)));
    claims.Set("iat", json::Value::MakeInt(iat));
    claims.Set("exp", json::Value::MakeInt(exp));
    claims.Set("tenant", json::Value(session.tenant));
    claims.Set("roles", StringArray(user.roles));
    claims.Set("scope", json::Value(session.scope));
    if (!user.fhir_user.empty()) claims.Set("fhirUser", json::Value(user.fhir_user));
    if (!session.client_id.empty()) claims.Set("client_id", json::Value(session.client_id));
    if (!session.patient.empty()) claims.Set("patient", json::Value(session.patient));
    if (!session.encounter.empty()) claims.Set("encounter", json::Value(session.encounter));
    if (enrollment_only) claims.Set("mfa_enrollment_only", json::Value(true));
    std::shared_lock lock(keys_mu);
    const SigningKey& active = keys.back();
    EHR_ASSIGN_OR_RETURN(std::string token, SignJwt(claims, active.key, active.kid, "at+jwt"));
    lock.unlock();
    Tokens t;
    t.access_token = std::move(token);
    t.expires_in = exp - iat;
    t.refresh_token = std::move(refresh);
    t.scope = session.scope;
    t.principal = PrincipalOf(claims);
    return t;
  }

  static Principal PrincipalOf(const json::Value& claims) {
    Principal p;
    p.subject = std::string(claims.GetString("sub"));
    p.username = std::string(claims.GetString("preferred_username"));
    p.session_id = std::string(claims.GetString("sid"));
    p.tenant = std::string(claims.GetString("tenant"));
    p.scope = std::string(claims.GetString("scope"));
    p.fhir_user = std::string(claims.GetString("fhirUser"));
    p.client_id = std::string(claims.GetString("client_id"));
    p.patient = std::string(claims.GetString("patient"));
    p.encounter = std::string(claims.GetString("encounter"));
    if (const json::Value* roles = claims.Find("roles"); roles && roles->is_array()) {
      for (const auto& r : roles->as_array()) {
        if (r.is_string()) p.roles.push_back(r.as_string());
      }
    }
    const json::Value* enrol = claims.Find("mfa_enrollment_only");
    p.mfa_enrollment_only = enrol && enrol->is_bool() && enrol->as_bool();
    p.authenticated = true;
    return p;
  }

  Result<Tokens> OpenSession(store::UserRecord& user, const SessionSpec& spec, bool enrollment_only) {
    std::string tenant = spec.tenant;
    if (tenant.empty()) tenant = user.tenants.empty() ? "default" : user.tenants.front();
    if (std::find(user.tenants.begin(), user.tenants.end(), tenant) == user.tenants.end()) {
      return Status::Forbidden("the user is not a member of this tenant");
    }
    const Micros now = clock.Now();
    store::SessionRecord s;
    s.id = RandomToken(16);
    s.user_id = user.id;
    s.tenant = std::move(tenant);
    s.scope = enrollment_only ? "mfa-enroll" : spec.scope.empty() ? RoleScope(user.roles) : spec.scope;
    s.client_id = spec.client_id;
    s.patient = spec.patient;
    s.encounter = spec.encounter;
    s.created = now;
    s.last_seen = now;
    s.expires = now + options.session_max_seconds * kSecond;
    std::string refresh = RandomToken(32);
    EHR_RETURN_IF_ERROR(accounts.InsertSession(s, Sha256Hex(refresh)));
    return Issue(user, s, std::move(refresh), enrollment_only);
  }

  // Whether `sid` is a live session of an active user, from the cache when fresh enough.
  Status CheckSession(std::string_view sid, Micros now) {
    {
      std::lock_guard lock(sessions_mu);
      auto it = sessions.find(std::string(sid));
      if (it != sessions.end() && it->second.checked_at + options.revalidate_seconds * kSecond > now) {
        return Live(it->second, now);
      }
    }
    EHR_ASSIGN_OR_RETURN(auto session, accounts.Session(sid));
    if (!session) return Unauthorized("the session has ended");
    bool active = false;
    if (session->user_id.rfind("client:", 0) == 0) {
      EHR_ASSIGN_OR_RETURN(auto client, accounts.Client(std::string_view(session->user_id).substr(7)));
      active = client && !client->disabled;
    } else {
      EHR_ASSIGN_OR_RETURN(auto user, accounts.UserById(session->user_id));
      active = user && !user->disabled;
    }
    std::lock_guard lock(sessions_mu);
    CachedSession& c = sessions[std::string(sid)];
    c.session.last_seen = std::max(c.session.last_seen, session->last_seen);
    const Micros seen = c.session.last_seen;
    c.session = *session;
    c.session.last_seen = seen;
    c.user_active = active;
    c.checked_at = now;
    return Live(c, now);
  }

  Status Live(CachedSession& c, Micros now) const {
    if (c.session.revoked || !c.user_active) return Unauthorized("the session has ended");
    if (c.session.expires <= now) return Unauthorized("the session has expired");
    if (c.session.last_seen + options.idle_timeout_seconds * kSecond < now) {
      return Unauthorized("the session ended after a period of inactivity");
    }
    c.session.last_seen = now;
    return Status::Ok();
  }

  void Revoked(std::string_view sid) {
    std::lock_guard lock(sessions_mu);
    auto it = sessions.find(std::string(sid));
    if (it != sessions.end()) it->second.session.revoked = true;
  }

  // A failed password or code: count it, and lock the account once there are too many.
  void Failed(store::UserRecord& user) {
    ++user.failed_logins;
    if (user.failed_logins >= options.max_failed_logins) {
      const int doublings = std::min(user.failed_logins - options.max_failed_logins, 20);
      const int64_t seconds = std::min(options.lockout_seconds << doublings, options.max_lockout_seconds);
      user.locked_until = clock.Now() + seconds * kSecond;
      log::Warn("account_locked", {{"user", user.id}, {"seconds", static_cast<int>(seconds)}});
    }
    (void)accounts.UpdateUser(user);
  }

  // A TOTP code or an unused recovery code; either is spent by its use.
  bool CheckSecondFactor(store::UserRecord& user, std::string_view code) {
    if (auto step = CheckTotp(user.totp_secret, code, clock.Now(), user.totp_last_step)) {
      user.totp_last_step = *step;
      return true;
    }
    const std::string hash = Sha256Hex(code);
    auto it = std::find(user.recovery_code_hashes.begin(), user.recovery_code_hashes.end(), hash);
    if (code.size() < 10 || it == user.recovery_code_hashes.end()) return false;
    user.recovery_code_hashes.erase(it);
    return true;
  }
};

Identity::Identity(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Identity::~Identity() = default;

Result<std::unique_ptr<Identity>> Identity::Open(store::AccountStore& accounts, IdentityOptions options) {
  auto impl = std::make_unique<Impl>(accounts, std::move(options));
  EHR_RETURN_IF_ERROR(impl->LoadKeys());
  EHR_ASSIGN_OR_RETURN(impl->dummy_hash, impl->hasher.Hash(RandomToken(16)));
  return std::unique_ptr<Identity>(new Identity(std::move(impl)));
}

Result<store::UserRecord> Identity::AddUser(const NewUser& n) {
  store::UserRecord u;
  u.username = Lower(n.username);
  EHR_RETURN_IF_ERROR(CheckUsername(u.username));
  EHR_RETURN_IF_ERROR(CheckRoles(n.roles));
  EHR_RETURN_IF_ERROR(CheckPasswordPolicy(n.password, u.username));
  u.tenants = n.tenants.empty() ? std::vector<std::string>{"default"} : n.tenants;
  for (const auto& t : u.tenants) EHR_RETURN_IF_ERROR(CheckTenant(t));
  if (!n.fhir_user.empty() && n.fhir_user.find('/') == std::string::npos) {
    return Status::Invalid("fhir_user is a reference like Practitioner/123", "fhir_user");
  }
  u.id = NewUuid();
  u.roles = n.roles;
  u.fhir_user = n.fhir_user;
  EHR_ASSIGN_OR_RETURN(u.password_hash, impl_->hasher.Hash(n.password));
  u.created = u.password_changed = impl_->clock.Now();
  EHR_RETURN_IF_ERROR(impl_->accounts.InsertUser(u));
  return u;
}

Result<std::vector<store::UserRecord>> Identity::Users() { return impl_->accounts.Users(); }

Status Identity::SetPassword(std::string_view username, std::string_view password) {
  EHR_ASSIGN_OR_RETURN(auto user, impl_->FindUser(username));
  EHR_RETURN_IF_ERROR(CheckPasswordPolicy(password, user.username));
  EHR_ASSIGN_OR_RETURN(user.password_hash, impl_->hasher.Hash(password));
  user.password_changed = impl_->clock.Now();
  user.failed_logins = 0;
  user.locked_until = 0;
  EHR_RETURN_IF_ERROR(impl_->accounts.UpdateUser(user));
  EHR_RETURN_IF_ERROR(impl_->accounts.RevokeUserSessions(user.id));
  impl_->ForgetUser(user.id);
  return Status::Ok();
}

Status Identity::SetRoles(std::string_view username, const std::vector<std::string>& roles) {
  EHR_RETURN_IF_ERROR(CheckRoles(roles));
  EHR_ASSIGN_OR_RETURN(auto user, impl_->FindUser(username));
  user.roles = roles;
  EHR_RETURN_IF_ERROR(impl_->accounts.UpdateUser(user));
  // Tokens carry roles: end the sessions so that no token keeps the old ones.
  EHR_RETURN_IF_ERROR(impl_->accounts.RevokeUserSessions(user.id));
  impl_->ForgetUser(user.id);
  return Status::Ok();
}

Status Identity::SetDisabled(std::string_view username, bool disabled) {
  EHR_ASSIGN_OR_RETURN(auto user, impl_->FindUser(username));
  user.disabled = disabled;
  EHR_RETURN_IF_ERROR(impl_->accounts.UpdateUser(user));
  if (disabled) EHR_RETURN_IF_ERROR(impl_->accounts.RevokeUserSessions(user.id));
  impl_->ForgetUser(user.id);
  return Status::Ok();
}

Result<std::optional<std::string>> Identity::Bootstrap(std::string_view password) {
  EHR_ASSIGN_OR_RETURN(auto users, impl_->accounts.Users());
  for (const auto& u : users) {
    if (std::find(u.roles.begin(), u.roles.end(), "ADMIN") != u.roles.end()) return std::optional<std::string>();
  }
  NewUser admin{"admin", password.empty() ? RandomPassword() : std::string(password), {"ADMIN"}, {"default"}, ""};
  EHR_RETURN_IF_ERROR(AddUser(admin).status());
  return std::optional<std::string>(admin.password);
}

Result<Tokens> Identity::Login(const LoginRequest& request) {
  EHR_ASSIGN_OR_RETURN(store::UserRecord user, CheckCredentials(request));
  const bool needs_enrollment =
      !user.totp_confirmed && std::find(user.roles.begin(), user.roles.end(), "ADMIN") != user.roles.end();
  return impl_->OpenSession(user, SessionSpec{request.tenant, "", "", "", ""}, needs_enrollment);
}

Result<store::UserRecord> Identity::CheckCredentials(const LoginRequest& request) {
  Impl& m = *impl_;
  auto found = m.accounts.UserByName(Lower(request.username));
  if (!found.ok()) return found.status();
  if (!*found) {
    (void)m.hasher.Verify(m.dummy_hash, request.password);  // same time as a real user
    return Unauthorized(kBadLogin);
  }
  store::UserRecord& user = **found;
  const Micros now = m.clock.Now();
  if (user.locked_until > now || user.disabled) {
    (void)m.hasher.Verify(m.dummy_hash, request.password);
    return Unauthorized(kBadLogin);
  }
  if (!m.hasher.Verify(user.password_hash, request.password)) {
    m.Failed(user);
    return Unauthorized(kBadLogin);
  }
  if (user.totp_confirmed) {
    if (request.totp_code.empty()) {
      return Status(Code::kUnauthorized, Issue{"error", "login", "a one-time code is required (totp)", "totp"});
    }
    if (!m.CheckSecondFactor(user, request.totp_code)) {
      m.Failed(user);
      return Status(Code::kUnauthorized, Issue{"error", "login", "the one-time code is not valid", "totp"});
    }
  }
  user.failed_logins = 0;
  user.locked_until = 0;
  if (m.hasher.NeedsRehash(user.password_hash)) {
    if (auto rehashed = m.hasher.Hash(request.password); rehashed.ok()) user.password_hash = *rehashed;
  }
  EHR_RETURN_IF_ERROR(m.accounts.UpdateUser(user));
  return std::move(user);
}

Result<Tokens> Identity::OpenSession(store::UserRecord& user, const SessionSpec& spec) {
  if (user.disabled) return Status::Forbidden("the user is disabled");
  if (!user.totp_confirmed && std::find(user.roles.begin(), user.roles.end(), "ADMIN") != user.roles.end()) {
    return Status::Forbidden("enrol a second factor first: it is required for this account");
  }
  return impl_->OpenSession(user, spec, false);
}

Result<Tokens> Identity::OpenClientSession(const store::ClientRecord& client, std::string_view scope) {
  Impl& m = *impl_;
  if (client.disabled) return Status::Forbidden("the client is disabled");
  const Micros now = m.clock.Now();
  store::SessionRecord s;
  s.id = RandomToken(16);
  s.user_id = "client:" + client.id;
  s.tenant = client.tenant.empty() ? "default" : client.tenant;
  s.scope = std::string(scope);
  s.client_id = client.id;
  s.created = now;
  s.last_seen = now;
  s.expires = now + std::min<int64_t>(m.options.access_ttl_seconds, 300) * kSecond;
  EHR_RETURN_IF_ERROR(m.accounts.InsertSession(s, Sha256Hex(RandomToken(32))));
  store::UserRecord as_user;  // the token's subject is the client
  as_user.id = client.id;
  as_user.username = client.id;
  as_user.roles = client.roles;
  return m.Issue(as_user, s, "", false);
}

Result<std::string> Identity::IdToken(const Principal& who, std::string_view client_id) {
  Impl& m = *impl_;
  const int64_t iat = m.clock.Now() / kSecond;
  json::Value claims = json::Value::MakeObject();
  claims.Set("iss", json::Value(m.options.issuer));
  claims.Set("sub", json::Value(who.subject));
  claims.Set("aud", json::Value(std::string(client_id)));
  claims.Set("iat", json::Value::MakeInt(iat));
  claims.Set("exp", json::Value::MakeInt(iat + m.options.access_ttl_seconds));
  if (!who.fhir_user.empty()) claims.Set("fhirUser", json::Value(who.fhir_user));
  claims.Set("preferred_username", json::Value(who.username));
  EHR_ASSIGN_OR_RETURN(IdKey key, m.ActiveIdKey());
  return SignJwtRs256(claims, key.key, key.kid);
}

Result<Tokens> Identity::Refresh(std::string_view refresh_token) {
  Impl& m = *impl_;
  if (refresh_token.empty() || refresh_token.size() > 256) return Unauthorized("the refresh token is not valid");
  const Micros now = m.clock.Now();
  std::string next = RandomToken(32);
  EHR_ASSIGN_OR_RETURN(store::Rotation r, m.accounts.RotateRefresh(Sha256Hex(refresh_token), Sha256Hex(next)));
  if (r.outcome == store::RefreshOutcome::kUnknown) return Unauthorized("the refresh token is not valid");
  if (r.outcome == store::RefreshOutcome::kReused) {
    m.Revoked(r.session.id);
    log::Warn("refresh_token_reused", {{"user", r.session.user_id}});
    return Unauthorized("the refresh token was used before; the session is revoked");
  }
  // The session's last activity before this refresh decides whether it was idle too long.
  EHR_RETURN_IF_ERROR(m.CheckSession(r.session.id, now));
  EHR_RETURN_IF_ERROR(m.accounts.TouchSession(r.session.id, now));  // a restart keeps the activity
  EHR_ASSIGN_OR_RETURN(auto user, m.accounts.UserById(r.session.user_id));
  if (!user) return Unauthorized("the session has ended");
  return m.Issue(*user, r.session, std::move(next), r.session.scope == "mfa-enroll");
}

Status Identity::Logout(const Principal& who) {
  if (who.session_id.empty()) return Status::Ok();
  EHR_RETURN_IF_ERROR(impl_->accounts.RevokeSession(who.session_id));
  impl_->Revoked(who.session_id);
  return Status::Ok();
}

Status Identity::RevokeRefreshToken(std::string_view refresh_token) {
  // Spending it with a throwaway successor, then revoking that session, ends the family.
  auto r = impl_->accounts.RotateRefresh(Sha256Hex(refresh_token), Sha256Hex(RandomToken(32)));
  if (!r.ok()) return r.status();
  if (r->outcome == store::RefreshOutcome::kUnknown) return Status::Ok();  // RFC 7009: nothing to say
  EHR_RETURN_IF_ERROR(impl_->accounts.RevokeSession(r->session.id));
  impl_->Revoked(r->session.id);
  return Status::Ok();
}

Result<Tokens> Identity::MintTokens(std::string_view username, std::string_view scope, std::string_view tenant) {
  EHR_ASSIGN_OR_RETURN(auto user, impl_->FindUser(username));
  if (user.disabled) return Status::Forbidden("the user is disabled");
  // A requested scope narrows the account's; it never widens it.
  const std::string granted = scope.empty() ? RoleScope(user.roles)
                                            : ParseScopes(RoleScope(user.roles)).Intersect(ParseScopes(scope));
  if (granted.empty()) return Status::Invalid("none of the requested scopes can be granted to this account", "scope");
  return impl_->OpenSession(user, SessionSpec{std::string(tenant), granted, "", "", ""}, false);
}

Result<TotpEnrollment> Identity::BeginTotp(const Principal& who) {
  EHR_ASSIGN_OR_RETURN(auto user, impl_->accounts.UserById(who.subject));
  if (!user) return Unauthorized("the session has ended");
  if (user->totp_confirmed) return Status::Conflict("a one-time password device is enrolled already");
  user->totp_secret = RandomBytes(20);
  EHR_RETURN_IF_ERROR(impl_->accounts.UpdateUser(*user));
  return TotpEnrollment{Base32Encode(user->totp_secret), TotpUri(user->totp_secret, "EHR", user->username)};
}

Result<std::vector<std::string>> Identity::ConfirmTotp(const Principal& who, std::string_view code) {
  EHR_ASSIGN_OR_RETURN(auto user, impl_->accounts.UserById(who.subject));
  if (!user) return Unauthorized("the session has ended");
  if (user->totp_confirmed) return Status::Conflict("a one-time password device is enrolled already");
  if (user->totp_secret.empty()) return Status::Invalid("start the enrolment first (POST /auth/mfa/enroll)");
  auto step = CheckTotp(user->totp_secret, code, impl_->clock.Now(), user->totp_last_step);
  if (!step) return Status::Invalid("the one-time code is not valid", "code");
  user->totp_confirmed = true;
  user->totp_last_step = *step;
  std::vector<std::string> codes;
  user->recovery_code_hashes.clear();
  for (int i = 0; i < kRecoveryCodes; ++i) {
    codes.push_back(RandomToken(10));
    user->recovery_code_hashes.push_back(Sha256Hex(codes.back()));
  }
  EHR_RETURN_IF_ERROR(impl_->accounts.UpdateUser(*user));
  // The enrolment-only session has done its job; the next login uses the new factor.
  EHR_RETURN_IF_ERROR(impl_->accounts.RevokeUserSessions(user->id));
  impl_->ForgetUser(user->id);
  return codes;
}

Result<Principal> Identity::Authenticate(std::string_view access_token) {
  Impl& m = *impl_;
  const Micros now = m.clock.Now();
  // A token verified before is not verified again (an ECDSA check costs ~0.1 ms, three times
  // a read by id): the cache maps its exact text to its principal until it expires. The
  // session is checked on every request all the same.
  if (auto cached = m.CachedToken(access_token, now)) {
    EHR_RETURN_IF_ERROR(m.CheckSession(cached->session_id, now));
    return std::move(*cached);
  }
  EHR_ASSIGN_OR_RETURN(Jwt jwt, DecodeJwt(access_token));
  VerifyOptions v;
  v.issuer = m.options.issuer;
  v.audience = m.options.audience;
  v.now = now;
  // `ehr token` mints tokens of up to a day for scripts; nothing this server signs lives longer.
  v.max_lifetime_seconds = 24 * 3600;
  {
    std::shared_lock lock(m.keys_mu);
    EHR_RETURN_IF_ERROR(VerifyJwt(
        jwt,
        [&m](std::string_view kid) -> const EcKey* {
          for (const auto& k : m.keys) {
            if (k.kid == kid) return &k.key;
          }
          return nullptr;
        },
        v));
  }
  if (jwt.header.GetString("typ") != "at+jwt") return Unauthorized("not an access token");
  Principal p = Impl::PrincipalOf(jwt.claims);
  if (p.subject.empty() || p.session_id.empty() || p.tenant.empty()) return Unauthorized("the token is malformed");
  EHR_RETURN_IF_ERROR(m.CheckSession(p.session_id, now));
  m.RememberToken(access_token, p, *SecondsClaim(jwt.claims, "exp") * kSecond);
  return p;
}

const std::string& Identity::issuer() const { return impl_->options.issuer; }

json::Value Identity::Jwks() const {
  json::Value keys = json::Value::MakeArray();
  std::shared_lock lock(impl_->keys_mu);
  for (const auto& k : impl_->keys) keys.as_array().push_back(k.key.PublicJwk(k.kid));
  for (const auto& k : impl_->id_keys) keys.as_array().push_back(k.key.PublicJwk(k.kid));
  json::Value out = json::Value::MakeObject();
  out.Set("keys", std::move(keys));
  return out;
}

Result<Principal> BearerAuthenticator::Authenticate(const net::Request& request) {
  std::string_view header = request.GetHeader("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                                                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthorized("authentication is required (Authorization: Bearer <access token>)");
  }
  const std::string_view token = header.substr(kBearer.size());
  if (external_ != nullptr) {
    if (std::optional<Result<Principal>> p = external_->Authenticate(token)) return std::move(*p);
  }
  return identity_.Authenticate(token);
}

}  // namespace ehr::security
