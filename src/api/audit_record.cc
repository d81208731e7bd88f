// The audit log's entries for FHIR requests (api/audit_trail.h): writes record each version
// in their own transaction; reads, searches and refusals are recorded after the
// interaction and before the answer leaves, so no disclosure goes unrecorded.
#include "api/audit_trail.h"
#include "api/service_impl.h"
#include "core/log.h"
#include "security/break_glass.h"

namespace ehr::api {
namespace {

// AuditEvent.outcome of an HTTP status: 0 success, 4 minor failure (the request was
// refused), 8 serious failure (the server failed).
int OutcomeOf(int status) { return status < 400 ? 0 : status < 500 ? 4 : 8; }

// The purpose of use of an entry: the first a role of the caller acts for, in order of
// PurposeOfRole's list (a DOCTOR who is also ADMIN treats).
const char* PurposeOf(const security::Principal& who) {
  if (!who.authenticated) return "";
  for (const char* purpose : {"TREAT", "HPAYMT", "HRESCH", "PATRQT"}) {
    for (const std::string& role : who.roles) {
      if (std::string_view(PurposeOfRole(role)) == purpose) return purpose;
    }
  }
  return "HOPERAT";
}

std::pair<const char*, const char*> WriteInteraction(std::string_view method) {
  if (method == "POST") return {"create", "C"};
  if (method == "PATCH") return {"patch", "U"};
  if (method == "DELETE") return {"delete", "D"};
  return {"update", "U"};
}

// The answer instead of a disclosure whose entry could not be recorded (made on a store
// thread, and only then).
net::Response Withheld(bool pretty, std::string route) {
  RequestContext ctx;
  ctx.pretty = pretty;
  net::Response r = ErrorResponse(
      Status::Unavailable("the audit log could not record this access, so its result is withheld; retry later"), ctx);
  r.route = std::move(route);
  return r;
}

}  // namespace

std::pair<std::string, std::string> AuditInteractionOf(std::string_view method, const FhirPath& p) {
  const bool get = method == "GET" || method == "HEAD";
  if (p.metadata) return {};  // the CapabilityStatement: no one's data
  if (!p.operation.empty()) return {p.operation, "E"};
  if (!p.compartment.empty() || p.search) return {"search-type", "E"};
  if (p.history) {
    if (!p.version.empty()) return {"vread", "R"};
    return {p.type.empty() ? "history-system" : p.id.empty() ? "history-type" : "history-instance", "R"};
  }
  if (p.type.empty()) return get ? std::pair<std::string, std::string>{"search-system", "E"}
                                 : std::pair<std::string, std::string>{"transaction", "E"};
  if (get) return p.id.empty() ? std::pair<std::string, std::string>{"search-type", "E"}
                               : std::pair<std::string, std::string>{"read", "R"};
  auto [subtype, action] = WriteInteraction(method);
  return {subtype, action};
}

audit::Event FhirService::Impl::AuditBase(const RequestContext& ctx, int status) {
  audit::Event e;
  e.subtype = ctx.audit_subtype;
  e.action = ctx.audit_action.empty() ? "E" : ctx.audit_action;
  e.outcome = OutcomeOf(status);
  if (status >= 400) e.outcome_text = "HTTP " + std::to_string(status);
  e.recorded = clock.Now();
  e.tenant = ctx.principal.tenant.empty() ? "default" : ctx.principal.tenant;
  e.user = ctx.principal.authenticated ? ctx.principal.subject : "";
  e.roles = ctx.principal.roles;
  e.client_id = ctx.principal.client_id;
  e.purpose = PurposeOf(ctx.principal);
  if (ctx.principal.emergency || (options.break_glass && options.break_glass->Active(ctx.principal))) {
    e.purpose = "ETREAT";
  }
  e.address = ctx.peer;
  e.certificate = ctx.client_certificate;
  e.request_id = ctx.request_id;
  e.server = options.region;
  e.fhir_user = ctx.principal.fhir_user;
  return e;
}

Status FhirService::Impl::AppendAudit(store::WriteTxn& txn, const std::vector<audit::Event>& events) {
  for (const audit::Event& e : events) EHR_RETURN_IF_ERROR(txn.AppendAudit(AppendOf(e)).status());
  return Status::Ok();
}

WriteAudit FhirService::Impl::AuditWrites(const RequestContext& ctx) {
  if (!options.audit) return nullptr;
  audit::Event base = AuditBase(ctx, 200);
  AuditTrail* trail = ctx.audit;
  return [this, base = std::move(base), trail](store::WriteTxn& txn, const store::NewVersion& v,
                                               const store::VersionRecord* deleted) -> Status {
    audit::Event e = base;
    auto [subtype, action] = WriteInteraction(v.method);
    e.subtype = subtype;
    e.action = action;
    e.recorded = txn.Now();
    e.entities = {v.type + "/" + v.id + "/_history/" + std::to_string(v.version)};
    std::vector<std::string> patients =
        deleted != nullptr ? PatientsOf(*deleted) : CompartmentPatients(v.type, v.id, v.index);
    std::vector<audit::Event> events;
    if (patients.empty()) events.push_back(e);
    for (std::string& p : patients) {
      events.push_back(e);
      events.back().patient = std::move(p);
    }
    EHR_RETURN_IF_ERROR(AppendAudit(txn, events));
    if (trail != nullptr) trail->MarkRecorded();
    return Status::Ok();
  };
}

Status FhirService::Impl::FlushTally(bool all) {
  const std::vector<TalliedDenials> counts = unauthenticated.Drain(clock.Now(), all);
  if (counts.empty()) return Status::Ok();
  return store.Write([&](store::WriteTxn& txn) -> Status {
    for (const TalliedDenials& t : counts) {
      audit::Event e;
      e.type = "security-alert";
      e.subtype = "unauthenticated-tally";
      e.action = "E";
      e.outcome = 4;
      e.outcome_text = std::to_string(t.count) + " more unauthenticated requests refused from this address from " +
                       FormatInstant(t.from) + " to " + FormatInstant(t.to) + " (beyond " +
                       std::to_string(options.unauthenticated_individually) + " a window, recorded together)";
      e.tenant = "default";
      e.address = t.address;
      e.recorded = txn.Now();
      EHR_RETURN_IF_ERROR(txn.AppendAudit(AppendOf(e)).status());
    }
    return Status::Ok();
  });
}

net::Response FhirService::Impl::Recorded(const RequestContext& ctx, net::Response r) {
  if (!options.audit || ctx.audit == nullptr || ctx.audit_subtype.empty()) return r;
  // A write that committed recorded itself; one that failed recorded nothing (its
  // transaction rolled back), so its refusal is recorded here.
  if (ctx.audit->recorded() && r.status < 400 && !ctx.audit->disclosed()) return r;
  // The entries are encoded here, on the request's thread; the writer only appends them.
  // The response waits for their commit without a thread (net::Response::hold).
  auto entries = std::make_shared<std::vector<store::AuditAppend>>();
  for (const audit::Event& e : ctx.audit->Events(AuditBase(ctx, r.status))) entries->push_back(AppendOf(e));
  const bool disclosed = r.status < 400;
  r.hold = [this, entries, disclosed, pretty = ctx.pretty, route = r.route](net::Response::Release release) mutable {
    audit_batch.Append(std::move(*entries), [release = std::move(release), disclosed, pretty,
                                             route = std::move(route)](Status st) mutable {
      if (st.ok()) return release(std::nullopt);
      log::Error("audit.record_failed", {{"error", st.message()}});
      if (!disclosed) return release(std::nullopt);  // a refusal disclosed nothing: it goes out anyway
      release(Withheld(pretty, std::move(route)));
    });
  };
  return r;
}

net::Response FhirService::Impl::RecordedAuth(const net::Request& req, RequestContext& ctx, net::Response r) {
  const std::string& path = req.path;
  const bool post = req.method == "POST";
  const char* type = nullptr;
  std::string subtype;
  if (path == "/auth/login" || path == "/auth/refresh" || path == "/auth/token" || (path == "/auth/authorize" && post)) {
    type = "login";
    subtype = path == "/auth/refresh" ? "refresh" : path == "/auth/token" ? "token" : "login";
  } else if (path == "/auth/logout" || path == "/auth/revoke") {
    type = "logout";
    subtype = "logout";
  } else if (path == "/auth/break-glass") {
    type = "security-alert";
    subtype = post ? "break-glass" : "break-glass-review";
  } else if (path == "/auth/users" || path.rfind("/auth/users/", 0) == 0) {
    type = "security-alert";
    const size_t slash = path.rfind('/');
    subtype = path == "/auth/users" ? (post ? "user-add" : "user-list") : "user-" + path.substr(slash + 1);
  } else if (path == "/auth/register") {
    type = "security-alert";
    subtype = "register";
  } else if (path.rfind("/auth/mfa/", 0) == 0) {
    type = "security-alert";
    subtype = "mfa-" + path.substr(10);
  }
  if (type == nullptr || !options.audit) return r;
  ctx.audit_subtype = subtype;
  ctx.audit_action = post ? "E" : "R";
  audit::Event e = AuditBase(ctx, r.status);
  e.type = type;
  if (subtype == "break-glass" && r.status < 400) e.purpose = "ETREAT";
  Status st = RecordEvent(e);
  if (st.ok() || r.status >= 400) return r;
  log::Error("audit.record_failed", {{"error", st.message()}});
  net::Response failed =
      ErrorResponse(Status::Unavailable("the audit log could not record this; nothing was granted, retry later"), ctx);
  failed.SetHeader("Cache-Control", "no-store");
  return failed;
}

Status FhirService::Impl::RecordEvent(const audit::Event& e) {
  if (!options.audit) return Status::Ok();
  return store.Write([&](store::WriteTxn& txn) { return AppendAudit(txn, {e}); });
}

}  // namespace ehr::api
