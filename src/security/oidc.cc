#include "security/oidc.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/ids.h"
#include "core/log.h"
#include "net/fetch.h"
#include "security/identity.h"
#include "security/jwt.h"
#include "security/scopes.h"

namespace ehr::security {
namespace {

constexpr Micros kReloadInterval = 60LL * 1000000;
constexpr size_t kMaxCached = 10000;
// RFC 8176 methods that are a second factor: an IdP's ADMIN needs one of them.
constexpr std::string_view kMultiFactor[] = {"mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "retina"};

Status Unauthorized(std::string message) {
  return Status(Code::kUnauthorized, Issue{"error", "login", std::move(message), {}});
}

Status Bad(const std::string& what) { return Status::Invalid("--oidc: " + what); }

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The claim at a dotted path ("realm_access.roles").
const json::Value* ClaimAt(const json::Value& claims, std::string_view path) {
  const json::Value* v = &claims;
  while (v != nullptr && !path.empty()) {
    const size_t dot = path.find('.');
    v = v->Find(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return v;
}

std::vector<std::string> Strings(const json::Value* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (v->is_string()) out.push_back(v->as_string());
  if (v->is_array()) {
    for (const json::Value& s : v->as_array()) {
      if (s.is_string()) out.push_back(s.as_string());
    }
  }
  return out;
}

Result<std::string> StringMember(const json::Value& o, std::string_view key, bool required, std::string fallback = {}) {
  const json::Value* v = o.Find(key);
  if (v == nullptr) {
    if (required) return Bad("an issuer needs \"" + std::string(key) + "\"");
    return fallback;
  }
  if (!v->is_string()) return Bad("\"" + std::string(key) + "\" must be a string");
  return v->as_string();
}

Result<std::map<std::string, std::string>> StringMap(const json::Value& o, std::string_view key) {
  std::map<std::string, std::string> out;
  const json::Value* v = o.Find(key);
  if (v == nullptr) return out;
  if (!v->is_object()) return Bad("\"" + std::string(key) + "\" must be an object of strings");
  for (const auto& [k, value] : v->as_object()) {
    if (!value.is_string()) return Bad("\"" + std::string(key) + "\" must be an object of strings");
    out[k] = value.as_string();
  }
  return out;
}

}  // namespace

Result<std::vector<ExternalIssuer>> ParseOidcConfig(std::string_view text) {
  EHR_ASSIGN_OR_RETURN(json::Value config, json::Parse(text));
  if (!config.is_object()) return Bad("the configuration must be a JSON object");
  std::vector<std::string> allow = Strings(config.Find("jwks_allow"));
  const json::Value* list = config.Find("issuers");
  if (list == nullptr || !list->is_array()) return Bad("\"issuers\" must be an array");
  std::vector<ExternalIssuer> out;
  for (const json::Value& i : list->as_array()) {
    if (!i.is_object()) return Bad("each issuer must be an object");
    ExternalIssuer e;
    EHR_ASSIGN_OR_RETURN(e.issuer, StringMember(i, "issuer", true));
    EHR_ASSIGN_OR_RETURN(e.audience, StringMember(i, "audience", true));
    EHR_ASSIGN_OR_RETURN(e.jwks_file, StringMember(i, "jwks_file", false));
    EHR_ASSIGN_OR_RETURN(e.jwks_url, StringMember(i, "jwks_url", false));
    EHR_ASSIGN_OR_RETURN(e.ca_file, StringMember(i, "ca_file", false));
    EHR_ASSIGN_OR_RETURN(e.username_claim, StringMember(i, "username_claim", false, e.username_claim));
    EHR_ASSIGN_OR_RETURN(e.roles_claim, StringMember(i, "roles_claim", false, e.roles_claim));
    EHR_ASSIGN_OR_RETURN(e.roles, StringMap(i, "roles"));
    EHR_ASSIGN_OR_RETURN(e.tenant, StringMember(i, "tenant", false));
    EHR_ASSIGN_OR_RETURN(e.tenant_claim, StringMember(i, "tenant_claim", false));
    EHR_ASSIGN_OR_RETURN(e.tenants, StringMap(i, "tenants"));
    EHR_ASSIGN_OR_RETURN(e.fhir_user_claim, StringMember(i, "fhir_user_claim", false, e.fhir_user_claim));
    if (const json::Value* m = i.Find("max_lifetime_seconds")) {
      if (!m->as_int64() || *m->as_int64() < 60 || *m->as_int64() > 86400) {
        return Bad("\"max_lifetime_seconds\" must be between 60 and 86400");
      }
      e.max_lifetime_seconds = *m->as_int64();
    }
    if (e.jwks_file.empty() == e.jwks_url.empty()) return Bad(e.issuer + ": give exactly one of jwks_file and jwks_url");
    if (!e.jwks_url.empty()) {
      const bool allowed = std::any_of(allow.begin(), allow.end(), [&](const std::string& prefix) {
        return !prefix.empty() && e.jwks_url.rfind(prefix, 0) == 0;
      });
      if (!allowed) return Bad(e.issuer + ": jwks_url " + e.jwks_url + " is not on the jwks_allow list");
      EHR_RETURN_IF_ERROR(net::ParseUrl(e.jwks_url).status());
    }
    if (e.tenant.empty() == e.tenant_claim.empty()) return Bad(e.issuer + ": give exactly one of tenant and tenant_claim");
    for (const auto& [from, role] : e.roles) {
      if (!IsRole(role)) return Bad(e.issuer + ": \"" + role + "\" is not a role");
    }
    if (e.issuer == "ehr") return Bad("\"ehr\" is this server's own issuer");
    out.push_back(std::move(e));
  }
  return out;
}

ExternalIssuers::ExternalIssuers(std::vector<ExternalIssuer> issuers, Clock& clock) : clock_(clock) {
  for (ExternalIssuer& c : issuers) {
    Entry e{std::move(c), std::make_shared<Keys>()};
    if (Status st = Reload(e); !st.ok()) {
      log::Warn("oidc.keys_unavailable", {{"issuer", e.config.issuer}, {"error", st.message()}});
    }
    issuers_.push_back(std::move(e));
  }
}

Status ExternalIssuers::Reload(Entry& e) {
  auto keys = std::make_shared<Keys>();
  keys->loaded = clock_.Now();
  Result<std::string> text = Status::Unavailable("no key source");
  if (!e.config.jwks_file.empty()) {
    text = ReadFile(e.config.jwks_file);
  } else {
    net::FetchOptions o;
    o.ca_file = e.config.ca_file;
    text = net::HttpGet(e.config.jwks_url, o);
  }
  if (!text.ok()) {
    keys->keys = e.keys->keys;  // keep what we had; try again after the interval
    e.keys = keys;
    return text.status();
  }
  Result<std::vector<PublicJwk>> parsed = ParseJwks(*text);
  if (!parsed.ok()) {
    keys->keys = e.keys->keys;
    e.keys = keys;
    return parsed.status();
  }
  keys->keys = std::move(*parsed);
  e.keys = keys;
  return Status::Ok();
}

std::optional<Result<Principal>> ExternalIssuers::Authenticate(std::string_view token) {
  if (issuers_.empty()) return std::nullopt;
  Result<Jwt> jwt = DecodeJwt(token);
  if (!jwt.ok()) return std::nullopt;  // not ours to judge: the server's own check answers
  const std::string_view iss = jwt->claims.GetString("iss");
  const Micros now = clock_.Now();
  std::shared_ptr<const Keys> keys;
  const ExternalIssuer* config = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(issuers_.begin(), issuers_.end(), [&](const Entry& e) { return e.config.issuer == iss; });
    if (it == issuers_.end()) return std::nullopt;
    if (auto c = cache_.find(std::string(token)); c != cache_.end()) {
      if (c->second.expires > now) return Result<Principal>(c->second.principal);
      cache_.erase(c);
    }
    config = &it->config;
    const auto has_kid = [&](const Keys& k) {
      return std::any_of(k.keys.begin(), k.keys.end(), [&](const PublicJwk& j) { return j.kid() == jwt->kid(); });
    };
    // A key we do not know: the issuer may have rotated its keys.
    if (!has_kid(*it->keys) && now - it->keys->loaded >= kReloadInterval) {
      if (Status st = Reload(*it); !st.ok()) {
        log::Warn("oidc.keys_unavailable", {{"issuer", it->config.issuer}, {"error", st.message()}});
      }
    }
    keys = it->keys;
  }
  const bool verified = !jwt->kid().empty() && std::any_of(keys->keys.begin(), keys->keys.end(), [&](const PublicJwk& k) {
    return k.kid() == jwt->kid() && k.Verify(jwt->alg(), jwt->signing_input, jwt->signature);
  });
  if (!verified) return Result<Principal>(Unauthorized("the token's signature is not valid"));
  VerifyOptions v;
  v.issuer = config->issuer;
  v.audience = config->audience;
  v.now = now;
  v.max_lifetime_seconds = config->max_lifetime_seconds;
  if (Status st = CheckClaims(jwt->claims, v); !st.ok()) return Result<Principal>(st);
  Result<Principal> p = PrincipalOf(*config, jwt->claims);
  if (p.ok()) {
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_[std::string(token)] = Cached{*p, *SecondsClaim(jwt->claims, "exp") * 1000000};
  }
  return p;
}

Result<Principal> ExternalIssuers::PrincipalOf(const ExternalIssuer& c, const json::Value& claims) const {
  const std::string sub(claims.GetString("sub"));
  if (sub.empty()) return Unauthorized("the token names no subject");
  Principal p;
  p.authenticated = true;
  p.subject = c.issuer + "#" + sub;
  const std::vector<std::string> names = Strings(ClaimAt(claims, c.username_claim));
  p.username = names.empty() ? sub : names.front();
  const std::vector<std::string> amr = Strings(claims.Find("amr"));
  const bool multi_factor = std::any_of(amr.begin(), amr.end(), [](const std::string& m) {
    return std::find(std::begin(kMultiFactor), std::end(kMultiFactor), m) != std::end(kMultiFactor);
  });
  for (const std::string& value : Strings(ClaimAt(claims, c.roles_claim))) {
    auto it = c.roles.find(value);
    if (it == c.roles.end()) continue;
    if (it->second == "ADMIN" && !multi_factor) continue;  // an administrator signs in with two factors
    if (!p.HasRole(it->second)) p.roles.push_back(it->second);
  }
  if (!c.tenant.empty()) {
    p.tenant = c.tenant;
  } else {
    const std::vector<std::string> values = Strings(ClaimAt(claims, c.tenant_claim));
    for (const std::string& v : values) {
      if (auto it = c.tenants.find(v); it != c.tenants.end()) {
        p.tenant = it->second;
        break;
      }
    }
    if (p.tenant.empty()) return Unauthorized("the token names no tenant of this server");
  }
  const std::vector<std::string> fhir_user = Strings(ClaimAt(claims, c.fhir_user_claim));
  if (!fhir_user.empty()) {
    // "Practitioner/7", or an absolute URL ending so.
    const std::string& ref = fhir_user.front();
    const size_t last = ref.rfind('/');
    const size_t type_start = last == std::string::npos || last == 0 ? std::string::npos : ref.rfind('/', last - 1);
    if (last != std::string::npos) p.fhir_user = ref.substr(type_start == std::string::npos ? 0 : type_start + 1);
  }
  // What the roles fit, narrowed by SMART scopes in the token when it carries any.
  const Scopes asked = ParseScopes(claims.GetString("scope"));
  p.scope = DefaultScope(p.roles);
  if (!asked.resources.empty()) p.scope = ParseScopes(p.scope).Intersect(asked);
  // The IdP's session, or one per sign-in: break-glass holds for it.
  const std::string sid(claims.GetString("sid"));
  const auto iat = SecondsClaim(claims, "iat");
  p.session_id = "oidc-" + Sha256Hex(c.issuer + "\n" + sub + "\n" + (sid.empty() ? std::to_string(iat.value_or(0)) : sid)).substr(0, 24);
  p.client_id = std::string(claims.GetString("azp"));
  return p;
}

}  // namespace ehr::security
