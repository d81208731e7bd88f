// The identity endpoints: /auth/login, /auth/refresh, /auth/logout, /auth/mfa/enroll,
// /auth/mfa/confirm, the admin API under /auth/users, and /.well-known/jwks.json.
// Bodies are JSON; tokens are never cached (Cache-Control: no-store) and never logged.
#include <algorithm>

#include "api/service_impl.h"
#include "core/ids.h"
#include "core/log.h"
#include "security/break_glass.h"
#include "security/identity.h"
#include "security/smart.h"

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

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

using Form = std::vector<std::pair<std::string, std::string>>;


security::AuthorizeRequest AuthorizeRequestOf(const Form& f) {
  security::AuthorizeRequest r;
  r.response_type = net::FindParam(f, "response_type");
  r.client_id = net::FindParam(f, "client_id");
  r.redirect_uri = net::FindParam(f, "redirect_uri");
  r.scope = net::FindParam(f, "scope");
  r.state = net::FindParam(f, "state");
  r.aud = net::FindParam(f, "aud");
  r.code_challenge = net::FindParam(f, "code_challenge");
  r.code_challenge_method = net::FindParam(f, "code_challenge_method");
  r.launch = net::FindParam(f, "launch");
  // The consent page's checkboxes: every ticked "approve" field.
  if (!net::FindParam(f, "consent_shown").empty()) {
    std::string approved;
    for (const auto& [name, value] : f) {
      if (name == "approve") approved += (approved.empty() ? "" : " ") + value;
    }
    r.approved_scope = std::move(approved);
  }
  return r;
}

// The login and consent page of /auth/authorize: the request travels in hidden fields.
net::Response LoginPage(const security::AuthorizeRequest& r, const security::AuthorizeOutcome& o,
                        std::string_view problem, int status) {
  std::string html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in</title></head><body>";
  html += "<h1>Sign in to authorise " + HtmlEscape(o.client_name) + "</h1>";
  if (!problem.empty()) html += "<p role=\"alert\">" + HtmlEscape(problem) + "</p>";
  html += "<form method=\"post\" action=\"/auth/authorize\">";
  // What the app asks for, each ticked: the user may untick what they do not grant.
  html += "<fieldset><legend>It asks for</legend><input type=\"hidden\" name=\"consent_shown\" value=\"1\">";
  size_t start = 0;
  while (start < o.scope.size()) {
    size_t end = o.scope.find(' ', start);
    if (end == std::string::npos) end = o.scope.size();
    const std::string scope = HtmlEscape(o.scope.substr(start, end - start));
    start = end + 1;
    if (scope.empty()) continue;
    html += "<label><input type=\"checkbox\" name=\"approve\" value=\"" + scope + "\" checked> <code>" + scope +
            "</code></label><br>";
  }
  html += "</fieldset>";
  const std::pair<const char*, const std::string*> hidden[] = {
      {"response_type", &r.response_type}, {"client_id", &r.client_id}, {"redirect_uri", &r.redirect_uri},
      {"scope", &r.scope}, {"state", &r.state}, {"aud", &r.aud}, {"code_challenge", &r.code_challenge},
      {"code_challenge_method", &r.code_challenge_method}, {"launch", &r.launch}};
  for (const auto& [name, value] : hidden) {
    html += "<input type=\"hidden\" name=\"" + std::string(name) + "\" value=\"" + HtmlEscape(*value) + "\">";
  }
  html += "<label>Username <input name=\"username\" autocomplete=\"username\"></label>"
          "<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>"
          "<label>One-time code <input name=\"totp\" autocomplete=\"one-time-code\"></label>"
          "<label>Patient (clinicians launching for a patient) <input name=\"patient\"></label>"
          "<button type=\"submit\">Approve</button></form></body></html>";
  net::Response resp;
  resp.status = status;
  resp.body = std::move(html);
  resp.SetHeader("Content-Type", "text/html; charset=utf-8");
  resp.SetHeader("X-Frame-Options", "DENY");
  resp.SetHeader("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
  resp.SetHeader("Cache-Control", "no-store");
  return resp;
}

net::Response Redirect(const std::string& location) {
  net::Response r;
  r.status = 302;
  r.SetHeader("Location", location);
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

// RFC 6749 5.2: {"error","error_description"}; 401 for invalid_client.
net::Response OAuthErrorResponse(const Status& st) {
  net::Response r;
  r.status = st.code() == Code::kUnauthorized ? 401 : st.code() == Code::kInternal ? 500 : 400;
  json::Value body = json::Value::MakeObject();
  const std::string code = st.issues().empty() ? "invalid_request" : st.issues().front().code;
  const bool oauth = code.find('_') != std::string::npos;  // OAuth codes have one; FHIR issue codes do not
  body.Set("error", json::Value(oauth ? code : std::string("invalid_request")));
  body.Set("error_description", json::Value(st.message()));
  r.body = json::Write(body);
  r.SetHeader("Content-Type", "application/json");
  r.SetHeader("Cache-Control", "no-store");
  return r;
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
  if (path == "/.well-known/smart-configuration" || path == "/fhir/.well-known/smart-configuration" ||
      path == "/.well-known/openid-configuration" || path == "/fhir/.well-known/openid-configuration" ||
      path.rfind("/auth/authorize", 0) == 0 || path == "/auth/token" || path == "/auth/introspect" ||
      path == "/auth/revoke") {
    if (options.smart == nullptr) return fail(Status::NotFound("SMART is not enabled on this server"));
    return Smart(req, ctx);
  }
  if (req.method != "POST" && !(req.method == "GET" && (path == "/auth/users" || path == "/auth/break-glass"))) {
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
    ctx.principal = tokens->principal;  // for the audit entry of the login
    return NoStore(JsonResponse(200, TokenBody(*tokens), ctx));
  }
  if (path == "/auth/refresh") {
    auto body = JsonBody(req);
    if (!body.ok()) return fail(body.status());
    auto token = StringField(*body, "refresh_token");
    if (!token.ok()) return fail(token.status());
    auto tokens = identity->Refresh(*token);
    if (!tokens.ok()) return fail(tokens.status());
    ctx.principal = tokens->principal;
    return NoStore(JsonResponse(200, TokenBody(*tokens), ctx));
  }
  if (path == "/auth/register") return Register(req, ctx);
  // Everything below acts for a signed-in user.
  auto principal = authn.Authenticate(req);
  if (!principal.ok()) return fail(principal.status());
  ctx.principal = std::move(*principal);
  const security::Principal& who = ctx.principal;
  if (path == "/auth/launch" && options.smart != nullptr) {
    // An EHR registers the context of an app it launches (SMART EHR launch).
    if (!who.HasRole("DOCTOR") && !who.HasRole("NURSE") && !who.HasRole("SERVICE")) {
      return fail(Status::Forbidden("only clinicians and services launch apps"));
    }
    auto body = JsonBody(req);
    if (!body.ok()) return fail(body.status());
    auto patient = StringField(*body, "patient");
    auto encounter = StringField(*body, "encounter", false);
    if (!patient.ok()) return fail(patient.status());
    if (!encounter.ok()) return fail(encounter.status());
    auto launch = options.smart->RegisterLaunch(who, *patient, *encounter);
    if (!launch.ok()) return fail(launch.status());
    json::Value out = json::Value::MakeObject();
    out.Set("launch", json::Value(*launch));
    return NoStore(JsonResponse(200, out, ctx));
  }
  if (path == "/auth/break-glass") {
    if (options.break_glass == nullptr) return fail(Status::NotFound("break-glass is not enabled on this server"));
    if (req.method == "POST") {
      auto body = JsonBody(req);
      if (!body.ok()) return fail(body.status());
      auto reason = StringField(*body, "reason");
      if (!reason.ok()) return fail(reason.status());
      auto declared = options.break_glass->Declare(who, *reason);
      if (!declared.ok()) return fail(declared.status());
      json::Value out = json::Value::MakeObject();
      out.Set("expires", json::Value(FormatInstant(declared->expires)));
      return NoStore(JsonResponse(200, out, ctx));
    }
    // The privacy officers' review: ADMIN, in their tenant.
    if (who.mfa_enrollment_only || !who.HasRole("ADMIN")) {
      return fail(Status::Forbidden("only administrators review break-glass declarations"));
    }
    Micros since = clock.Now() - 30LL * 24 * 3600 * 1000000;
    const auto query = net::ParseQuery(req.query);
    if (std::string_view given = net::FindParam(query, "since"); !given.empty()) {
      auto parsed = ParseInstant(given);
      if (!parsed) return fail(Status::Invalid("since must be an instant such as 2024-01-01T00:00:00Z", "since"));
      since = *parsed;
    }
    auto records = options.break_glass->Recent(who.tenant, since, 1000);
    if (!records.ok()) return fail(records.status());
    json::Value list = json::Value::MakeArray();
    for (const store::BreakGlassRecord& r : *records) {
      json::Value item = json::Value::MakeObject();
      item.Set("id", json::Value(r.id));
      item.Set("user", json::Value(r.username));
      item.Set("user_id", json::Value(r.user_id));
      item.Set("session", json::Value(r.session_id));
      item.Set("reason", json::Value(r.reason));
      item.Set("started", json::Value(FormatInstant(r.started)));
      item.Set("expires", json::Value(FormatInstant(r.expires)));
      list.as_array().push_back(std::move(item));
    }
    return NoStore(JsonResponse(200, list, ctx));
  }
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

// Self-registration: a PATIENT account and a new Patient record of the name and birth date
// given, which staff may later link to the hospital's own record of the person.
net::Response FhirService::Impl::Register(const net::Request& req, RequestContext& ctx) {
  auto fail = [&](const Status& st) { return NoStore(ErrorResponse(st, ctx)); };
  security::Identity* identity = options.identity;
  if (!options.self_registration || identity == nullptr) {
    return fail(Status::NotFound("self-registration is not enabled on this server"));
  }
  auto body = JsonBody(req);
  if (!body.ok()) return fail(body.status());
  if (body->Find("roles") || body->Find("fhir_user") || body->Find("tenants")) {
    return fail(Status::Invalid("self-registration opens a PATIENT account of its own record only", "roles"));
  }
  auto username = StringField(*body, "username");
  auto password = StringField(*body, "password");
  auto family = StringField(*body, "family");
  auto given = StringField(*body, "given", false);
  auto birth_date = StringField(*body, "birthDate");
  for (const Status& st : {username.status(), password.status(), family.status(), given.status(), birth_date.status()}) {
    if (!st.ok()) return fail(st);
  }
  json::Value name = json::Value::MakeObject();
  name.Set("family", json::Value(*family));
  if (!given->empty()) {
    json::Value givens = json::Value::MakeArray();
    givens.as_array().push_back(json::Value(*given));
    name.Set("given", std::move(givens));
  }
  json::Value names = json::Value::MakeArray();
  names.as_array().push_back(std::move(name));
  const std::string id = NewUuid();
  json::Value patient = json::Value::MakeObject();
  patient.Set("resourceType", json::Value("Patient"));
  patient.Set("id", json::Value(id));
  patient.Set("name", std::move(names));
  patient.Set("birthDate", json::Value(*birth_date));
  if (Status st = CheckResource(patient, "Patient"); !st.ok()) return fail(st);
  if (*birth_date > FormatInstant(clock.Now()).substr(0, 10)) {
    return fail(Status::Invalid("birthDate lies in the future", "Patient.birthDate"));
  }
  // The account first (its checks: name taken, password policy), then its record.
  auto user = identity->AddUser({*username, *password, {"PATIENT"}, {}, "Patient/" + id});
  if (!user.ok()) return fail(user.status());
  const std::string tenant = user->tenants.empty() ? std::string("default") : user->tenants.front();
  RequestContext as_patient = ctx;
  as_patient.principal.subject = user->id;
  as_patient.principal.tenant = tenant;
  as_patient.principal.roles = {"PATIENT"};
  as_patient.principal.fhir_user = "Patient/" + id;
  as_patient.principal.authenticated = true;
  Status written = store.Write([&](store::WriteTxn& txn) -> Status {
    TxnOps ops(txn, tenant, blinder);
    ops.set_audit(AuditWrites(as_patient));
    return ops.Update("Patient", id, std::move(patient), std::nullopt).status();
  });
  if (!written.ok()) {
    (void)identity->SetDisabled(user->username, true);
    return fail(written);
  }
  Changed("Patient");
  log::Info("patient_registered", {{"user", user->id}});
  auto tokens = identity->Login({*username, *password, "", tenant});
  if (!tokens.ok()) return fail(tokens.status());
  return NoStore(JsonResponse(201, TokenBody(*tokens), ctx));
}

net::Response FhirService::Impl::Smart(net::Request& req, RequestContext& ctx) {
  security::Smart& smart = *options.smart;
  const std::string fhir_base = DeriveBaseUrl(req, options);
  const std::string root = fhir_base.size() > 5 ? fhir_base.substr(0, fhir_base.size() - 5) : fhir_base;
  const std::string& path = req.path;
  if (path.find("smart-configuration") != std::string::npos || path.find("openid-configuration") != std::string::npos) {
    if (req.method != "GET" && req.method != "HEAD") {
      return ErrorResponse(Status::NotSupported(Code::kMethodNotAllowed, "use GET"), ctx);
    }
    json::Value c = smart.Configuration(root + "/auth");
    if (path.find("openid-configuration") != std::string::npos) {
      // OpenID Connect Discovery 1.0: the members SMART's document leaves out.
      json::Value subjects = json::Value::MakeArray();
      subjects.as_array().push_back(json::Value("public"));
      c.Set("subject_types_supported", std::move(subjects));
      json::Value claims = json::Value::MakeArray();
      for (const char* claim : {"iss", "sub", "aud", "exp", "iat", "fhirUser", "preferred_username"}) {
        claims.as_array().push_back(json::Value(claim));
      }
      c.Set("claims_supported", std::move(claims));
    }
    net::Response r = JsonResponse(200, c, ctx);
    r.SetHeader("Content-Type", "application/json");
    return r;
  }
  if (path == "/auth/authorize") {
    if (req.method == "GET") {
      const Form query = net::ParseQuery(req.query);
      security::AuthorizeRequest ar = AuthorizeRequestOf(query);
      security::AuthorizeOutcome o = smart.CheckAuthorize(ar, fhir_base);
      if (!o.error.ok()) return LoginPage(ar, o, o.error.message(), 400);
      if (!o.redirect.empty()) return Redirect(o.redirect);
      return LoginPage(ar, o, "", 200);
    }
    if (req.method != "POST") return ErrorResponse(Status::NotSupported(Code::kMethodNotAllowed, "use GET or POST"), ctx);
    const Form form = net::ParseQuery(req.body);
    security::AuthorizeRequest ar = AuthorizeRequestOf(form);
    security::LoginRequest login;
    login.username = net::FindParam(form, "username");
    login.password = net::FindParam(form, "password");
    login.totp_code = net::FindParam(form, "totp");
    login.tenant = net::FindParam(form, "tenant");
    const std::string patient(net::FindParam(form, "patient"));
    if (!patient.empty()) {
      // A clinician's choice must name a patient of the tenant (it becomes the app's context).
      auto found = store.ReadCurrent(login.tenant.empty() ? "default" : login.tenant, "Patient", patient);
      if (!found.ok() || !found->has_value() || (*found)->deleted) {
        security::AuthorizeOutcome o = smart.CheckAuthorize(ar, fhir_base);
        return LoginPage(ar, o, "no such patient", 400);
      }
    }
    security::AuthorizeOutcome o = smart.Approve(ar, fhir_base, login, patient);
    if (!o.redirect.empty()) return Redirect(o.redirect);
    security::AuthorizeOutcome shown = smart.CheckAuthorize(ar, fhir_base);
    return LoginPage(ar, shown, o.error.message(), o.error.code() == Code::kUnauthorized ? 401 : 400);
  }
  if (req.method != "POST") return OAuthErrorResponse(Status::NotSupported(Code::kMethodNotAllowed, "use POST"));
  const Form form = net::ParseQuery(req.body);
  const std::string token_url = root + "/auth/token";
  const std::string_view authorization = req.GetHeader("Authorization");
  if (path == "/auth/token") {
    auto tokens = smart.Token(form, authorization, token_url);
    if (!tokens.ok()) return OAuthErrorResponse(tokens.status());
    net::Response r = JsonResponse(200, *tokens, ctx);
    r.SetHeader("Content-Type", "application/json");
    return NoStore(std::move(r));
  }
  // Introspection and revocation: a client authenticates as at the token endpoint; a
  // bearer token of a SERVICE may introspect too.
  bool allowed = smart.AuthenticateClient(form, authorization, token_url).ok();
  if (!allowed && authorization.rfind("Bearer ", 0) == 0) {
    auto p = authn.Authenticate(req);
    allowed = p.ok() && p->HasRole("SERVICE");
  }
  if (!allowed) return OAuthErrorResponse(Status(Code::kUnauthorized, Issue{"error", "invalid_client", "authenticate as a client", {}}));
  const std::string token(net::FindParam(form, "token"));
  if (path == "/auth/introspect") {
    auto out = smart.Introspect(token);
    if (!out.ok()) return OAuthErrorResponse(out.status());
    net::Response r = JsonResponse(200, *out, ctx);
    r.SetHeader("Content-Type", "application/json");
    return NoStore(std::move(r));
  }
  if (Status st = smart.Revoke(token); !st.ok()) return OAuthErrorResponse(st);
  net::Response r = JsonResponse(200, std::string("{}"), ctx);
  r.SetHeader("Content-Type", "application/json");
  return NoStore(std::move(r));
}

}  // namespace ehr::api
