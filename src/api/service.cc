#include "api/service.h"

#include <algorithm>

#include "api/search_access.h"
#include "api/service_impl.h"
#include "core/log.h"
#include "fhir/model/model.h"
#include "security/break_glass.h"
#include "security/rate_limit.h"

namespace ehr::api {

namespace {

bool IsXmlFormat(std::string_view f) {
  return f == "xml" || f.find("xml") != std::string_view::npos;
}

bool IsJsonFormat(std::string_view f) {
  return f == "json" || f.find("json") != std::string_view::npos;
}

// 406 unless the client can take JSON (_format wins over Accept).
Status Negotiate(const net::Request& req, std::string_view format) {
  if (!format.empty()) {
    if (IsJsonFormat(format)) return Status::Ok();
    if (IsXmlFormat(format)) return Status::NotSupported(Code::kNotAcceptable, "XML is not supported; use _format=json");
    return Status::NotSupported(Code::kNotAcceptable, "Unknown _format '" + std::string(format) + "'");
  }
  std::string_view accept = req.GetHeader("Accept");
  if (accept.empty() || accept.find("json") != std::string_view::npos || accept.find("*/*") != std::string_view::npos ||
      accept.find("application/*") != std::string_view::npos) {
    return Status::Ok();
  }
  return Status::NotSupported(Code::kNotAcceptable, "Only application/fhir+json can be returned");
}

Status CheckContentType(const net::Request& req, bool patch) {
  std::string_view ct = req.GetHeader("Content-Type");
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (patch) {
    if (media == "application/json-patch+json") return Status::Ok();
    return Status::NotSupported(Code::kUnsupportedMediaType,
                                "PATCH needs Content-Type application/json-patch+json (FHIRPath Patch is not supported yet)");
  }
  if (media.empty() || media == "application/fhir+json" || media == "application/json") return Status::Ok();
  return Status::NotSupported(Code::kUnsupportedMediaType,
                              "Unsupported Content-Type '" + std::string(media) + "'; use application/fhir+json");
}

// 429 with Retry-After (whole seconds, rounded up).
net::Response Throttled(Micros wait, const char* whose, const RequestContext& ctx) {
  const int64_t seconds = std::max<int64_t>(1, (wait + 999999) / 1000000);
  net::Response r = ErrorResponse(Status(Code::kTooManyRequests,
                                         Issue{"error", "throttled",
                                               std::string("too many requests ") + whose + "; retry after " +
                                                   std::to_string(seconds) + " s",
                                               {}}),
                                  ctx);
  r.SetHeader("Retry-After", std::to_string(seconds));
  return r;
}

}  // namespace

std::string DeriveBaseUrl(const net::Request& req, const ServiceOptions& o) {
  if (!o.base_url.empty()) return o.base_url;
  std::string_view host = req.GetHeader("Host");
  if (host.empty()) host = "localhost";
  return "http://" + std::string(host) + "/fhir";
}

Result<FhirPath> ParseFhirPath(std::string_view path) {
  FhirPath p;
  std::vector<std::string> segs;
  size_t start = 0;
  while (start < path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) segs.push_back(net::PercentDecode(path.substr(start, slash - start), false));
    start = slash + 1;
  }
  if (segs.empty()) return p;
  if (segs[0] == "metadata" && segs.size() == 1) {
    p.metadata = true;
    return p;
  }
  if (segs[0] == "_history" && segs.size() == 1) {
    p.history = true;
    return p;
  }
  if (segs[0][0] == '$') {
    p.operation = segs[0];
    return p;
  }
  p.type = segs[0];
  if (segs.size() == 1) return p;
  if (segs[1] == "_search" && segs.size() == 2) {
    p.search = true;
    return p;
  }
  if (segs[1] == "_history" && segs.size() == 2) {
    p.history = true;
    return p;
  }
  if (segs[1][0] == '$') {
    p.operation = segs[1];
    return p;
  }
  p.id = segs[1];
  if (segs.size() == 2) return p;
  if (segs[2] == "_history" && segs.size() <= 4) {
    p.history = true;
    if (segs.size() == 4) p.version = segs[3];
    return p;
  }
  if (segs[2][0] == '$' && segs.size() == 3) {
    p.operation = segs[2];
    return p;
  }
  if (segs.size() == 3 && segs[2][0] != '_') {
    p.compartment = segs[2];
    return p;
  }
  return Status::NotFound("No such FHIR endpoint");
}

net::Response ErrorResponse(const Status& status, const RequestContext& ctx) {
  net::Response r = JsonResponse(status.http_status(), OutcomeOf(status), ctx);
  if (status.code() == Code::kUnavailable) r.SetHeader("Retry-After", "1");
  return r;
}

net::Response JsonResponse(int status, std::string body, const RequestContext& ctx) {
  net::Response r;
  r.status = status;
  r.SetHeader("Content-Type", kFhirJson);
  if (ctx.pretty) {
    auto parsed = json::Parse(body);
    if (parsed.ok()) body = json::Write(*parsed, {.pretty = true});
  }
  r.body = std::move(body);
  return r;
}

net::Response JsonResponse(int status, const json::Value& body, const RequestContext& ctx) {
  net::Response r;
  r.status = status;
  r.SetHeader("Content-Type", kFhirJson);
  r.body = json::Write(body, {.pretty = ctx.pretty});
  return r;
}

std::string ResourceUrl(const RequestContext& ctx, const store::VersionRecord& rec, bool with_version) {
  std::string url = ctx.base_url + "/" + rec.type + "/" + rec.id;
  if (with_version) url += "/_history/" + std::to_string(rec.version);
  return url;
}

net::Response ResourceResponse(int status, const store::VersionRecord& rec, const RequestContext& ctx,
                               bool location) {
  net::Response r;
  switch (ctx.prefer) {
    case ReturnPref::kRepresentation: r = JsonResponse(status, rec.body, ctx); break;
    case ReturnPref::kOutcome:
      r = JsonResponse(status, InformationOutcome(rec.type + "/" + rec.id + " version " + std::to_string(rec.version)),
                       ctx);
      break;
    case ReturnPref::kMinimal: r.status = status; break;
  }
  SetVersionHeaders(r, rec);
  if (location) r.SetHeader("Location", ResourceUrl(ctx, rec, true));
  return r;
}

void SetVersionHeaders(net::Response& r, const store::VersionRecord& rec) {
  r.SetHeader("ETag", VersionTag(rec.version));
  r.SetHeader("Last-Modified", FormatHttpDate(rec.last_updated));
}

ReturnPref ParsePrefer(std::string_view prefer) {
  if (prefer.find("return=minimal") != std::string_view::npos) return ReturnPref::kMinimal;
  if (prefer.find("return=OperationOutcome") != std::string_view::npos) return ReturnPref::kOutcome;
  return ReturnPref::kRepresentation;
}

FhirService::FhirService(store::Store& store, security::Authenticator& authn, security::Authorizer& authz,
                         ServiceOptions options)
    : impl_(std::make_unique<Impl>(store, authn, authz, std::move(options))) {}

FhirService::~FhirService() = default;

FhirService::Impl::~Impl() {
  tally_flush.reset();  // stopped before the last counts are written
  if (Status st = FlushTally(true); !st.ok()) log::Warn("audit.tally_failed", {{"error", st.message()}});
}

net::Response FhirService::Handle(net::Request& request) { return impl_->Handle(request); }

bool FhirService::RunsOnIoThread(const net::Request& request) {
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (request.path == "/healthz") return true;
  // read and vread: one primary-key lookup on a WAL reader that never waits for the writer,
  // about 10 us; answering on the IO thread saves two thread hand-offs per request (26.7k
  // instead of 19.4k reads/s on 2 cores). Searches, history and the rest stay on workers.
  std::string_view path(request.path);
  if (path.rfind("/fhir/", 0) != 0) return false;
  // Cutting a resource to a summary or to elements parses and rewrites it: a worker's job.
  if (request.query.find("_summary") != std::string::npos || request.query.find("_elements") != std::string::npos) {
    return false;
  }
  path.remove_prefix(6);
  int segments = 0;
  bool history = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(start, slash - start);
    if (seg.empty() || seg[0] == '_' || seg[0] == '$') {
      if (seg != "_history" || segments != 2) return false;
      history = true;
    }
    ++segments;
    start = slash + 1;
  }
  return segments == 2 || (segments == 4 && history);
}

Status FhirService::RecordOperation(const net::Request& request, const security::Principal& who,
                                    const std::string& subtype, int status, std::string query,
                                    std::vector<std::string> entities) {
  if (!impl_->options.audit) return Status::Ok();
  RequestContext ctx;
  ctx.principal = who;
  ctx.request_id = request.request_id;
  ctx.peer = request.peer;
  ctx.client_certificate = request.client_certificate;
  ctx.audit_subtype = subtype;
  ctx.audit_action = "E";
  audit::Event e = impl_->AuditBase(ctx, status);
  e.query = std::move(query);
  e.entities = std::move(entities);
  return impl_->RecordEvent(e);
}

RequestContext FhirService::SystemContext() const {
  RequestContext ctx;
  ctx.principal.subject = "system";
  ctx.principal.roles = {"SERVICE"};
  ctx.principal.tenant = "default";
  ctx.principal.authenticated = true;
  ctx.principal.scope = "system/*.cruds";
  ctx.base_url = impl_->options.base_url;
  ctx.request_id = "import";
  ctx.prefer = ReturnPref::kMinimal;
  return ctx;
}

Result<std::shared_ptr<PreparedBundle>> FhirService::PrepareBundle(json::Value bundle, const RequestContext& ctx) {
  return impl_->PrepareBundle(std::move(bundle), ctx);
}

Result<json::Value> FhirService::CommitBundle(PreparedBundle& bundle, const RequestContext& ctx) {
  Result<json::Value> out = Status::Internal("bundle not executed");
  std::vector<std::string> written;
  Status st = impl_->store.Write([&](store::WriteTxn& txn) -> Status {
    TxnOps ops(txn, ctx.principal.tenant, impl_->blinder, impl_->GuardFor(ctx), impl_->WriteGuardFor(ctx));
    ops.set_audit(impl_->AuditWrites(ctx));
    out = impl_->ExecuteBundle(bundle, ops, ctx);
    written = ops.written_types();
    return out.ok() ? Status::Ok() : out.status();
  });
  if (!st.ok()) return st;
  for (const std::string& type : written) impl_->Changed(type);
  return out;
}

Result<json::Value> FhirService::ProcessBundle(json::Value bundle, const RequestContext& ctx) {
  EHR_ASSIGN_OR_RETURN(auto prepared, impl_->PrepareBundle(std::move(bundle), ctx));
  return CommitBundle(*prepared, ctx);
}

Status FhirService::Impl::Authorize(const RequestContext& ctx, std::string interaction, const std::string& type,
                                    const std::string& id, std::string compartment_patient) {
  security::Action action{std::move(interaction), type, id, std::move(compartment_patient), {}};
  return authz.Authorize(ctx.principal, action);
}

net::Response FhirService::Impl::Handle(net::Request& req) {
  RequestContext ctx;
  ctx.request_id = req.request_id;
  ctx.peer = req.peer;
  ctx.client_certificate = req.client_certificate;
  AuditTrail trail;
  if (req.path == "/healthz") {
    net::Response r = JsonResponse(200, std::string(R"({"status":"ok"})"), ctx);
    r.SetHeader("Content-Type", "application/json");
    r.route = "/healthz";
    return r;
  }
  if (req.path == "/readyz") {
    Status st = store.Ready();
    net::Response r = st.ok() ? JsonResponse(200, std::string(R"({"status":"ready"})"), ctx) : ErrorResponse(st, ctx);
    r.SetHeader("Content-Type", "application/json");
    r.route = "/readyz";
    return r;
  }
  if (options.limiter && (req.path == "/auth/login" || req.path == "/auth/token" || req.path == "/auth/refresh" ||
                          req.path == "/auth/register" ||
                          (req.path == "/auth/authorize" && req.method == "POST"))) {
    // Password and token guessing from one address, across accounts (lockout is per account).
    if (Micros wait = options.limiter->Take("addr:" + req.peer, options.address_limit); wait > 0) {
      net::Response r = Throttled(wait, "from this address", ctx);
      r.route = req.path;
      return r;
    }
  }
  if (req.path.rfind("/auth/", 0) == 0 || req.path == "/.well-known/jwks.json" ||
      req.path == "/fhir/.well-known/smart-configuration" || req.path == "/.well-known/smart-configuration" ||
      req.path == "/fhir/.well-known/openid-configuration" || req.path == "/.well-known/openid-configuration") {
    net::Response r = RecordedAuth(req, ctx, Auth(req, ctx));
    r.route = req.path.rfind("/auth/users/", 0) == 0 ? "/auth/users/{username}/{action}" : req.path.substr(0, 64);
    return r;
  }
  if (req.path.rfind("/audit/", 0) == 0) return AuditProofs(req, ctx);
  if (req.path != "/fhir" && req.path.rfind("/fhir/", 0) != 0) {
    net::Response r = ErrorResponse(Status::NotFound("Not found; the FHIR API is under /fhir"), ctx);
    r.route = "(not-found)";
    return r;
  }
  // The CapabilityStatement is public: clients read it to learn how to authenticate.
  const bool metadata = (req.path == "/fhir/metadata") && (req.method == "GET" || req.method == "HEAD");
  auto principal = authn.Authenticate(req);
  if (!principal.ok() && !metadata) {
    net::Response r = ErrorResponse(principal.status(), ctx);
    Result<FhirPath> p = ParseFhirPath(std::string_view(req.path).substr(5));
    if (p.ok() && options.audit && unauthenticated.Admit(req.peer, clock.Now())) {
      std::tie(ctx.audit_subtype, ctx.audit_action) = AuditInteractionOf(req.method, *p);
      ctx.audit = &trail;
      r = Recorded(ctx, std::move(r));
    } else if (p.ok() && options.audit) {
      // Counted, recorded with the others of its address and window (denial_tally.h).
      std::call_once(tally_flush_started, [this] {
        tally_flush = std::make_unique<Periodic>(
            std::chrono::milliseconds(std::max<Micros>(options.unauthenticated_flush / 1000, 1)),
            [this](const Periodic::Stopping&) {
              if (Status st = FlushTally(false); !st.ok()) log::Warn("audit.tally_failed", {{"error", st.message()}});
            });
      });
    }
    r.SetHeader("WWW-Authenticate", req.HasHeader("Authorization") ? R"(Bearer realm="ehr", error="invalid_token")"
                                                                    : R"(Bearer realm="ehr")");
    r.route = "/fhir(unauthenticated)";
    return r;
  }
  if (principal.ok()) ctx.principal = std::move(*principal);
  if (req.on_io_thread && ctx.principal.authenticated) {
    // A read on an IO thread must not wait for the store beyond the resource itself: a
    // reach or consents not cached yet, or a break-glass declaration, go to a worker
    // (before the rate limit counts the request, which then runs once).
    Result<FhirPath> p = ParseFhirPath(req.path);
    const bool would_block =
        req.HasHeader("X-Break-Glass") ||
        (p.ok() && !p->id.empty() && WouldBlock(ctx, {p->version.empty() ? "read" : "vread", p->type, p->id, "", {}}));
    if (would_block) return net::Response::Defer();
  }
  if (options.limiter && ctx.principal.authenticated) {
    const bool service = ctx.principal.HasRole("SERVICE");
    Micros wait = options.limiter->Take("user:" + ctx.principal.subject,
                                        service ? options.service_limit : options.user_limit);
    const char* whose = "for this account";
    if (wait == 0) {
      wait = options.limiter->Take("tenant:" + ctx.principal.tenant, options.tenant_limit);
      whose = "for this organisation (tenant)";
    }
    if (wait > 0) {
      net::Response r = Throttled(wait, whose, ctx);
      r.route = "/fhir(throttled)";
      return r;
    }
  }
  ctx.base_url = DeriveBaseUrl(req, options);
  if (std::string_view reason = req.GetHeader("X-Break-Glass"); !reason.empty() && !metadata) {
    Status st = options.break_glass ? options.break_glass->Declare(ctx.principal, reason).status()
                                    : Status::Invalid("break-glass needs the server's access control (--auth on)");
    if (st.ok() && options.audit) {
      ctx.audit_subtype = "break-glass";
      audit::Event e = AuditBase(ctx, 200);
      e.type = "security-alert";
      e.purpose = "ETREAT";
      st = RecordEvent(e);
    }
    if (!st.ok()) {
      net::Response r = ErrorResponse(st, ctx);
      r.route = "/fhir(break-glass)";
      return r;
    }
  }
  ctx.audit = &trail;
  if (req.method == "GET" || req.method == "HEAD") trail.Query(req.query);
  net::Response r = Recorded(ctx, Route(req, ctx));
  if (r.status == 403 && ctx.principal.authenticated) {
    // For the security team until the audit log records denials: who and which route (a
    // template, no ids), never what was asked for.
    log::Warn("access_denied", {{"user", ctx.principal.subject}, {"route", r.route}, {"method", req.method}});
  }
  return r;
}

net::Response FhirService::Impl::Route(net::Request& req, RequestContext& ctx) {
  std::string format;
  for (auto& [name, value] : net::ParseQuery(req.query)) {
    if (name == "_format") format = value;
    if (name == "_pretty") ctx.pretty = value == "true";
  }
  ctx.prefer = ParsePrefer(req.GetHeader("Prefer"));
  auto parsed = ParseFhirPath(std::string_view(req.path).substr(5));
  if (!parsed.ok()) {
    net::Response r = ErrorResponse(parsed.status(), ctx);
    r.route = "/fhir(unknown)";
    return r;
  }
  const FhirPath& p = *parsed;
  const std::string& m = req.method;
  std::tie(ctx.audit_subtype, ctx.audit_action) = AuditInteractionOf(m, p);
  bool head = m == "HEAD";
  bool get = m == "GET" || head;

  // Route template for the access log: never the concrete type/id values beyond the type.
  std::string route = "/fhir";
  if (p.metadata) route += "/metadata";
  else if (!p.type.empty()) {
    route += "/{type}";
    if (p.search) route += "/_search";
    if (!p.id.empty()) route += "/{id}";
    if (!p.compartment.empty()) route += "/{compartment}";
    if (p.history) route += "/_history";
    if (!p.version.empty()) route += "/{vid}";
  } else if (p.history) {
    route += "/_history";
  }
  if (!p.operation.empty()) route += "/{operation}";

  auto finish = [&route](net::Response r) {
    r.route = route;
    return r;
  };
  if (Status st = Negotiate(req, format); !st.ok()) return finish(ErrorResponse(st, ctx));
  if (!p.type.empty() && !fhir::IsResourceType(p.type)) {
    return finish(ErrorResponse(Status::NotFound("Unknown resource type '" + p.type + "'"), ctx));
  }
  bool writes = m == "POST" || m == "PUT" || m == "PATCH";
  if (writes && !(p.search && m == "POST")) {
    if (Status st = CheckContentType(req, m == "PATCH"); !st.ok()) return finish(ErrorResponse(st, ctx));
  }
  auto not_allowed = [&]() {
    return finish(ErrorResponse(
        Status::NotSupported(Code::kMethodNotAllowed, "Method " + m + " is not allowed on this endpoint"), ctx));
  };

  if (p.type == "AuditEvent") return finish(AuditEvents(req, ctx, p));
  if (p.operation == "$everything" && p.type == "Patient") return get ? finish(Everything(req, ctx, p)) : not_allowed();
  if (!p.operation.empty()) {
    return finish(ErrorResponse(Status::NotSupported(Code::kInvalid, "Operation " + p.operation + " is not supported yet"), ctx));
  }
  if (!p.compartment.empty()) return get ? finish(CompartmentSearch(req, ctx, p)) : not_allowed();
  if (p.metadata) return get ? finish(Capabilities(ctx)) : not_allowed();
  if (p.type.empty()) {
    if (p.history) return get ? finish(History(req, ctx, p)) : not_allowed();
    if (m == "POST") return finish(PostBundle(req, ctx));
    if (get) return finish(Search(req, ctx, p, req.query));
    return not_allowed();
  }
  if (p.search) {
    if (m != "POST") return not_allowed();
    std::string_view ct = req.GetHeader("Content-Type");
    if (ct.find("application/x-www-form-urlencoded") == std::string_view::npos) {
      return finish(ErrorResponse(Status::NotSupported(Code::kUnsupportedMediaType,
                                                       "POST _search needs application/x-www-form-urlencoded"),
                                  ctx));
    }
    std::string query = req.query;
    if (!req.body.empty()) query += (query.empty() ? "" : "&") + req.body;
    return finish(Search(req, ctx, p, query));
  }
  if (p.id.empty()) {
    if (p.history) return get ? finish(History(req, ctx, p)) : not_allowed();
    if (get) return finish(Search(req, ctx, p, req.query));
    if (m == "POST") return finish(Create(req, ctx, p));
    if (m == "PUT") return finish(Update(req, ctx, p));        // conditional update
    if (m == "DELETE") return finish(Delete(req, ctx, p));     // conditional delete
    return not_allowed();
  }
  if (p.history) {
    if (!get) return not_allowed();
    return finish(p.version.empty() ? History(req, ctx, p) : VRead(req, ctx, p));
  }
  if (get) return finish(Read(req, ctx, p));
  if (m == "PUT") return finish(Update(req, ctx, p));
  if (m == "DELETE") return finish(Delete(req, ctx, p));
  if (m == "PATCH") return finish(Patch(req, ctx, p));
  return not_allowed();
}

}  // namespace ehr::api
