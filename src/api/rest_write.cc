// Writes: create, update, delete, patch, Bundles; Idempotency-Key handling.
#include "api/service_impl.h"
#include "core/ids.h"
#include "core/log.h"

namespace ehr::api {

namespace {

// If-Match is optional; when present it must be a version tag.
Result<std::optional<int64_t>> IfMatch(const net::Request& req) {
  std::string_view v = req.GetHeader("If-Match");
  if (v.empty()) return std::optional<int64_t>();
  auto version = ParseVersionTag(v);
  if (!version) return Status::Invalid("If-Match must be a version ETag such as W/\"3\"", "If-Match");
  return std::optional<int64_t>(*version);
}

bool ValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string HeadersJson(const net::Response& r) {
  json::Value o = json::Value::MakeObject();
  for (const auto& h : r.headers) o.Set(h.name, json::Value(h.value));
  return json::Write(o);
}

net::Response Replay(const store::IdempotencyRecord& rec) {
  net::Response r;
  r.status = rec.status;
  r.body = rec.body;
  auto headers = json::Parse(rec.headers_json);
  if (headers.ok() && headers->is_object()) {
    for (const auto& [name, value] : headers->as_object()) {
      if (value.is_string()) r.SetHeader(name, value.as_string());
    }
  }
  r.SetHeader("Idempotency-Replayed", "true");
  return r;
}

}  // namespace

Result<int64_t> ExpireIdempotency(store::Store& store, Micros window, Micros now,
                                  const std::function<bool()>& stopping, int batch) {
  int64_t expired = 0;
  while (!stopping()) {
    EHR_ASSIGN_OR_RETURN(int64_t n, store.ExpireIdempotency(now - window, batch));
    expired += n;
    if (n < batch) break;
  }
  return expired;
}

net::Response FhirService::Impl::RunWrite(const net::Request& req, const RequestContext& ctx,
                                          const std::function<Result<net::Response>(TxnOps&)>& fn) {
  std::string_view key = req.GetHeader("Idempotency-Key");
  if (req.HasHeader("Idempotency-Key") && !ValidIdempotencyKey(key)) {
    return ErrorResponse(Status::Invalid("Idempotency-Key must be 1-255 visible ASCII characters", "Idempotency-Key"), ctx);
  }
  std::string hash;
  if (!key.empty()) {
    hash = Sha256Hex(ctx.principal.subject + "\n" + req.method + " " + req.target + "\n" + std::string(req.GetHeader("If-None-Exist")) + "\n" +
                     std::string(req.GetHeader("Prefer")) + "\n" + req.body);
  }
  net::Response response;
  std::vector<std::string> written;
  Status st = store.Write([&](store::WriteTxn& txn) -> Status {
    if (!key.empty()) {
      EHR_ASSIGN_OR_RETURN(auto previous, txn.GetIdempotency(ctx.principal.tenant, key));
      if (previous && previous->created + options.idempotency_window > txn.Now()) {
        if (previous->request_hash != hash) {
          return Status::Unprocessable("Idempotency-Key was already used with a different request", "Idempotency-Key");
        }
        response = Replay(*previous);
        return Status::Ok();
      }
    }
    TxnOps ops(txn, ctx.principal.tenant, blinder, GuardFor(ctx), WriteGuardFor(ctx));
    ops.set_audit(AuditWrites(ctx));
    EHR_ASSIGN_OR_RETURN(response, fn(ops));
    written = ops.written_types();
    if (!key.empty()) {
      store::IdempotencyRecord rec{hash, response.status, HeadersJson(response), response.body, txn.Now()};
      EHR_RETURN_IF_ERROR(txn.PutIdempotency(ctx.principal.tenant, key, rec));
    }
    return Status::Ok();
  });
  if (!st.ok()) return ErrorResponse(st, ctx);
  for (const std::string& type : written) Changed(type);
  return response;
}

net::Response FhirService::Impl::Create(net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "create", p.type, ""); !st.ok()) return ErrorResponse(st, ctx);
  auto resource = PrepareResource(req.body, p.type);
  if (!resource.ok()) return ErrorResponse(resource.status(), ctx);
  std::string if_none_exist(req.GetHeader("If-None-Exist"));
  if (if_none_exist.rfind(p.type + "?", 0) == 0) if_none_exist.erase(0, p.type.size() + 1);
  else if (!if_none_exist.empty() && if_none_exist[0] == '?') if_none_exist.erase(0, 1);
  // Serialised and indexed here, so that the single writer only stores it.
  const std::string id = NewUuid();
  PreStamped body = PreStamp(*resource, id, ctx.principal.tenant, blinder);
  return RunWrite(req, ctx, [&](TxnOps& ops) -> Result<net::Response> {
    EHR_ASSIGN_OR_RETURN(auto w, ops.Create(p.type, std::move(body), if_none_exist, id));
    return ResourceResponse(w.status, w.record, ctx, true);
  });
}

net::Response FhirService::Impl::Update(net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "update", p.type, p.id); !st.ok()) return ErrorResponse(st, ctx);
  auto if_match = IfMatch(req);
  if (!if_match.ok()) return ErrorResponse(if_match.status(), ctx);
  auto resource = PrepareResource(req.body, p.type);
  if (!resource.ok()) return ErrorResponse(resource.status(), ctx);
  if (p.id.empty() && req.query.empty()) {
    return ErrorResponse(Status::Invalid("PUT needs an id in the URL or search criteria"), ctx);
  }
  std::optional<PreStamped> body;  // an update by id is serialised and indexed here, as a create
  if (!p.id.empty()) {
    if (Status st = CheckUpdateId(p.type, p.id, *resource); !st.ok()) return ErrorResponse(st, ctx);
    body = PreStamp(*resource, p.id, ctx.principal.tenant, blinder);
  }
  return RunWrite(req, ctx, [&](TxnOps& ops) -> Result<net::Response> {
    Result<WriteResult> w = p.id.empty() ? ops.ConditionalUpdate(p.type, req.query, std::move(*resource), *if_match)
                                         : ops.Update(p.type, p.id, std::move(*body), *if_match);
    if (!w.ok()) return w.take_status();
    return ResourceResponse(w->status, w->record, ctx, true);
  });
}

net::Response FhirService::Impl::Delete(net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "delete", p.type, p.id); !st.ok()) return ErrorResponse(st, ctx);
  auto if_match = IfMatch(req);
  if (!if_match.ok()) return ErrorResponse(if_match.status(), ctx);
  if (p.id.empty() && req.query.empty()) {
    return ErrorResponse(Status::NotSupported(Code::kMethodNotAllowed, "DELETE needs an id or search criteria"), ctx);
  }
  return RunWrite(req, ctx, [&](TxnOps& ops) -> Result<net::Response> {
    Result<WriteResult> w =
        p.id.empty() ? ops.ConditionalDelete(p.type, req.query) : ops.Delete(p.type, p.id, *if_match);
    if (!w.ok()) return w.take_status();
    net::Response r;
    if (ctx.prefer == ReturnPref::kOutcome) {
      r = JsonResponse(200, InformationOutcome("Deleted"), ctx);
    } else {
      r.status = 204;
    }
    if (w->record.version > 0) r.SetHeader("ETag", VersionTag(w->record.version));
    return r;
  });
}

net::Response FhirService::Impl::Patch(net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "patch", p.type, p.id); !st.ok()) return ErrorResponse(st, ctx);
  auto if_match = IfMatch(req);
  if (!if_match.ok()) return ErrorResponse(if_match.status(), ctx);
  auto patch = json::Parse(req.body);
  if (!patch.ok()) return ErrorResponse(patch.status(), ctx);
  return RunWrite(req, ctx, [&](TxnOps& ops) -> Result<net::Response> {
    EHR_ASSIGN_OR_RETURN(auto w, ops.Patch(p.type, p.id, *patch, *if_match));
    return ResourceResponse(w.status, w.record, ctx, false);
  });
}

net::Response FhirService::Impl::PostBundle(net::Request& req, const RequestContext& ctx) {
  auto bundle = json::Parse(req.body);
  if (!bundle.ok()) return ErrorResponse(bundle.status(), ctx);
  auto prepared = PrepareBundle(std::move(*bundle), ctx);
  if (!prepared.ok()) return ErrorResponse(prepared.status(), ctx);
  return RunWrite(req, ctx, [&](TxnOps& ops) -> Result<net::Response> {
    EHR_ASSIGN_OR_RETURN(auto out, ExecuteBundle(**prepared, ops, ctx));
    return JsonResponse(200, out, ctx);
  });
}

}  // namespace ehr::api
