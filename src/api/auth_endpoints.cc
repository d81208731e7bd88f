// The identity endpoints: /auth/login, /auth/refresh, /auth/logout, /auth/mfa/enroll,
// /auth/mfa/confirm, the admin API under /auth/users, and /.well-known/jwks.json.
// Bodies are JSON; tokens are never cached (Cache-Control: no-store) and never logged.
#include <algorithm>

#include "api/service_impl.h"
#include "core/log.h"
#include "security/identity.h"

namespace ehr::api {
namespace {

Result<json::Value> JsonBody(const net::Request& req) {
  if (req.body.empty()) return Status::Invalid("the request needs a JSON body");
  auto body = json::Parse(req.body);
  if (!body.ok() || !body->is_object()) return Status::Invalid("the body must be a JSON object");
  return std::move(*body);
}

Result<std::string> StringField(const json::Value& body, std::string_view name, bool required = true) {
  const json::Value* v = body.Find(name);
  if (v == nullptr || v->is_null()) {
    if (required) return Status::Invalid("'" + std::string(name) + "' is required", std::string(name));
    return std::string();
  }
  if (!v->is_string()) return Status::Invalid("'" + std::string(name) + "' must be a string", std::string(name));
  return v->as_string();
}

Result<std::vector<std::string>> StringList(const json::Value& body, std::string_view name) {
  std::vector<std::string> out;
  const json::Value* v = body.Find(name);
  if (v == nullptr) return out;
  if (!v->is_array()) return Status::Invalid("'" + std::string(name) + "' must be an array of strings", std::string(name));
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) return Status::Invalid("'" + std::string(name) + "' must be an array of strings", std::string(name));
    out.push_back(item.as_string());
  }
  return out;
}

json::Value StringArray(const std::vector<std::string>& items) {
  json::Value a = json::Value::MakeArray();
  for (const auto& s : items) a.as_array().push_back(json::Value(s));
  return a;
}

json::Value TokenBody(const security::Tokens& t) {
  json::Value out = json::Value::MakeObject();
  out.Set("access_token", json::Value(t.access_token));
  out.Set("token_type", json::Value("Bearer"));
  out.Set("expires_in", json::Value::MakeInt(t.expires_in));
  out.Set("refresh_token", json::Value(t.refresh_token));
  out.Set("scope", json::Value(t.scope));
  out.Set("tenant", json::Value(t.principal.tenant));
  if (t.principal.mfa_enrollment_only) out.Set("mfa_enrollment_required", json::Value(true));
  return out;
}

json::Value UserBody(const store::UserRecord& u) {
  json::Value out = json::Value::MakeObject();
  out.Set("id", json::Value(u.id));
  out.Set("username", json::Value(u.username));
  out.Set("roles", StringArray(u.roles));
  out.Set("tenants", StringArray(u.tenants));
  if (!u.fhir_user.empty()) out.Set("fhir_user", json::Value(u.fhir_user));
  out.Set("disabled", json::Value(u.disabled));
  out.Set("mfa", json::Value(u.totp_confirmed));
  out.Set("created", json::Value(FormatInstant(u.created)));
  return out;
}

net::Response NoStore(net::Response r) {
  r.SetHeader("Cache-Control", "no-store");
  r.SetHeader("Pragma", "no-cache");
  return r;
}

}  // namespace

net::Response FhirService::Impl::Auth(net::Request& req, RequestContext& ctx) {
  security::Identity* identity = options.identity;
  auto fail = [&](const Status& st) { return NoStore(ErrorResponse(st, ctx)); };
  if (identity == nullptr) return fail(Status::NotFound("authentication is off on this server (--auth off)"));
  const std::string& path = req.path;
  if (path == "/.well-known/jwks.json") {
    if (req.method != "GET" && req.method != "HEAD") return fail(Status::NotSupported(Code::kMethodNotAllowed, "use GET"));
    net::Response r = JsonResponse(200, identity->Jwks(), ctx);
    r.SetHeader("Content-Type", "application/jwk-set+json");
    r.SetHeader("Cache-Control", "max-age=300");
    return r;
  }
  if (req.method != "POST" && !(req.method == "GET" && path == "/auth/users")) {
    return fail(Status::NotSupported(Code::kMethodNotAllowed, "use POST"));
  }
  if (path == "/auth/login") {
    auto body = JsonBody(req);
    if (!body.ok()) return fail(body.status());
    security::LoginRequest login;
    for (auto [field, target, required] : {std::tuple{"username", &login.username, true},
                                           std::tuple{"password", &login.password, true},
                                           std::tuple{"totp", &login.totp_code, false},
                                           std::tuple{"tenant", &login.tenant, false}}) {
      auto v = StringField(*body, field, required);
      if (!v.ok()) return fail(v.status());
      *target = std::move(*v);
    }
    auto tokens = identity->Login(login);
    if (!tokens.ok()) return fail(tokens.status());
    return NoStore(JsonResponse(200, TokenBody(*tokens), ctx));
  }
  if (path == "/auth/refresh") {
    auto body = JsonBody(req);
    if (!body.ok()) return fail(body.status());
    auto token = StringField(*body, "refresh_token");
    if (!token.ok()) return fail(token.status());
    auto tokens = identity->Refresh(*token);
    if (!tokens.ok()) return fail(tokens.status());
    return NoStore(JsonResponse(200, TokenBody(*tokens), ctx));
  }
  // Everything below acts for a signed-in user.
  auto principal = authn.Authenticate(req);
  if (!principal.ok()) return fail(principal.status());
  ctx.principal = std::move(*principal);
  const security::Principal& who = ctx.principal;
  if (path == "/auth/logout") {
    if (Status st = identity->Logout(who); !st.ok()) return fail(st);
    return NoStore(JsonResponse(200, std::string(R"({"status":"logged out"})"), ctx));
  }
  if (path == "/auth/mfa/enroll") {
    auto enrolment = identity->BeginTotp(who);
    if (!enrolment.ok()) return fail(enrolment.status());
    json::Value out = json::Value::MakeObject();
    out.Set("secret", json::Value(enrolment->secret_base32));
    out.Set("otpauth_uri", json::Value(enrolment->uri));
    return NoStore(JsonResponse(200, out, ctx));
  }
  if (path == "/auth/mfa/confirm") {
    auto body = JsonBody(req);
    if (!body.ok()) return fail(body.status());
    auto code = StringField(*body, "code");
    if (!code.ok()) return fail(code.status());
    auto codes = identity->ConfirmTotp(who, *code);
    if (!codes.ok()) return fail(codes.status());
    json::Value out = json::Value::MakeObject();
    out.Set("recovery_codes", StringArray(*codes));
    return NoStore(JsonResponse(200, out, ctx));
  }
  if (path == "/auth/users" || path.rfind("/auth/users/", 0) == 0) {
    if (who.mfa_enrollment_only || !who.HasRole("ADMIN")) return fail(Status::Forbidden("only administrators manage users"));
    if (path == "/auth/users") {
      if (req.method == "GET") {
        auto users = identity->Users();
        if (!users.ok()) return fail(users.status());
        json::Value list = json::Value::MakeArray();
        for (const auto& u : *users) list.as_array().push_back(UserBody(u));
        return NoStore(JsonResponse(200, list, ctx));
      }
      auto body = JsonBody(req);
      if (!body.ok()) return fail(body.status());
      security::NewUser user;
      auto name = StringField(*body, "username");
      auto password = StringField(*body, "password");
      auto fhir_user = StringField(*body, "fhir_user", false);
      auto roles = StringList(*body, "roles");
      auto tenants = StringList(*body, "tenants");
      for (const Status& st : {name.status(), password.status(), fhir_user.status(), roles.status(), tenants.status()}) {
        if (!st.ok()) return fail(st);
      }
      auto added = identity->AddUser({*name, *password, *roles, *tenants, *fhir_user});
      if (!added.ok()) return fail(added.status());
      log::Info("user_added", {{"by", who.subject}, {"user", added->id}});
      return NoStore(JsonResponse(201, UserBody(*added), ctx));
    }
    // /auth/users/{username}/{disable|enable|roles|password}
    std::string_view rest = std::string_view(path).substr(12);
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return fail(Status::NotFound("unknown user action"));
    const std::string username(rest.substr(0, slash));
    const std::string_view action = rest.substr(slash + 1);
    Status st;
    if (action == "disable" || action == "enable") {
      st = identity->SetDisabled(username, action == "disable");
    } else if (action == "roles" || action == "password") {
      auto body = JsonBody(req);
      if (!body.ok()) return fail(body.status());
      if (action == "roles") {
        auto roles = StringList(*body, "roles");
        st = roles.ok() ? identity->SetRoles(username, *roles) : roles.status();
      } else {
        auto password = StringField(*body, "password");
        st = password.ok() ? identity->SetPassword(username, *password) : password.status();
      }
    } else {
      return fail(Status::NotFound("unknown user action"));
    }
    if (!st.ok()) return fail(st);
    log::Info("user_changed", {{"by", who.subject}, {"action", std::string(action)}});
    return NoStore(JsonResponse(200, std::string(R"({"status":"ok"})"), ctx));
  }
  return fail(Status::NotFound("unknown authentication endpoint"));
}

}  // namespace ehr::api
