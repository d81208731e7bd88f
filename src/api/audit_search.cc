// The audit log over HTTP: GET /fhir/AuditEvent (search) and /fhir/AuditEvent/{id} (read),
// for ADMIN, AUDITOR and SERVICE only (security/role_policy.cc); no write of any kind. And
// under /audit/: the signed tree heads and the inclusion and consistency proofs (RFC 6962)
// with which anyone holding the public key checks that the log only grew.
#include <algorithm>
#include <limits>

#include "api/service_impl.h"
#include "audit/entry.h"
#include "audit/log.h"
#include "core/base64.h"
#include "core/secrets.h"
#include "fhir/fhirpath/temporal.h"
#include "search/index_values.h"

namespace ehr::api {
namespace {

constexpr int kDefaultCount = 50;
constexpr int kMaxCount = 1000;

Status BadParam(const std::string& name, std::string why) {
  return Status::Invalid("AuditEvent search parameter '" + name + "': " + std::move(why), name);
}

// date=[prefix]value: narrows [from, to] to the instants the prefix allows.
Status ApplyDate(const std::string& value, store::AuditQuery& q) {
  std::string_view v = value;
  std::string prefix = "eq";
  if (v.size() > 2 && std::isalpha(static_cast<unsigned char>(v[0])) && std::isalpha(static_cast<unsigned char>(v[1]))) {
    prefix = std::string(v.substr(0, 2));
    v.remove_prefix(2);
  }
  auto t = fhirpath::Temporal::ParseFhir(v, fhirpath::TemporalKind::kDateTime);
  if (!t) t = fhirpath::Temporal::ParseFhir(v, fhirpath::TemporalKind::kDate);
  std::optional<std::pair<Micros, Micros>> range = t ? search::internal::TemporalRange(*t) : std::nullopt;
  if (!range) return BadParam("date", "not a date or dateTime");
  auto at_least = [&](Micros m) { q.from = q.from ? std::max(*q.from, m) : m; };
  auto at_most = [&](Micros m) { q.to = q.to ? std::min(*q.to, m) : m; };
  if (prefix == "eq") {
    at_least(range->first);
    at_most(range->second);
  } else if (prefix == "ge") {
    at_least(range->first);
  } else if (prefix == "gt") {
    at_least(range->second + 1);
  } else if (prefix == "le") {
    at_most(range->second);
  } else if (prefix == "lt") {
    at_most(range->first - 1);
  } else {
    return BadParam("date", "prefix " + prefix + " is not supported (eq, ge, gt, le, lt)");
  }
  return Status::Ok();
}

Result<uint64_t> Unsigned(const std::vector<std::pair<std::string, std::string>>& params, std::string_view name) {
  std::string_view v = net::FindParam(params, name);
  uint64_t out = 0;
  if (v.empty() || v.size() > 19 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Invalid("'" + std::string(name) + "' must be a non-negative integer", std::string(name));
  }
  for (char c : v) out = out * 10 + static_cast<uint64_t>(c - '0');
  return out;
}

json::Value Hashes(const std::vector<std::string>& hashes) {
  json::Value a = json::Value::MakeArray();
  for (const std::string& h : hashes) a.as_array().emplace_back(Base64Encode(h));
  return a;
}

json::Value HeadJson(const store::AuditHead& h) {
  json::Value o = json::Value::MakeObject();
  o.Set("tree_size", json::Value::MakeInt(static_cast<int64_t>(h.size)));
  o.Set("timestamp", json::Value::MakeInt(static_cast<int64_t>(h.timestamp_ms)));
  o.Set("sha256_root_hash", json::Value(Base64Encode(h.root)));
  o.Set("tree_head_signature", json::Value(Base64Encode(h.signature)));
  o.Set("key_id", json::Value(h.key_id));
  return o;
}

}  // namespace

net::Response FhirService::Impl::AuditEvents(const net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (!get || !p.compartment.empty() || !p.operation.empty() || p.history || p.search) {
    return ErrorResponse(Status::NotSupported(Code::kMethodNotAllowed,
                                              "The audit log is append-only and searched with GET /fhir/AuditEvent"),
                         ctx);
  }
  if (Status st = Authorize(ctx, p.id.empty() ? "search-type" : "read", "AuditEvent", p.id); !st.ok()) {
    return ErrorResponse(st, ctx);
  }
  const std::string tenant = ctx.principal.tenant.empty() ? "default" : ctx.principal.tenant;
  auto render = [&](const store::AuditRow& row) -> Result<json::Value> {
    EHR_ASSIGN_OR_RETURN(audit::Event e, audit::Decode(row.core, row.detail));
    return audit::ToAuditEvent(e, row.index, !row.detail);
  };
  if (!p.id.empty()) {
    const std::string not_found = "AuditEvent/" + p.id + " is not known";
    if (p.id.size() > 19 || !std::all_of(p.id.begin(), p.id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return ErrorResponse(Status::NotFound(not_found), ctx);
    }
    auto rows = store.AuditRange(std::stoull(p.id), 1);
    if (!rows.ok()) return ErrorResponse(rows.status(), ctx);
    if (rows->empty() || rows->front().index != std::stoull(p.id) || rows->front().tenant != tenant) {
      return ErrorResponse(Status::NotFound(not_found), ctx);
    }
    auto ae = render(rows->front());
    if (!ae.ok()) return ErrorResponse(Status::Internal("AuditEvent/" + p.id + " cannot be read: " + ae.status().message()), ctx);
    return JsonResponse(200, *ae, ctx);
  }

  store::AuditQuery q;
  q.tenant = tenant;
  q.count = kDefaultCount;
  const auto params = net::ParseQuery(req.query);
  for (const auto& [name, value] : params) {
    if (name == "patient") {
      std::string id = PatientIdOf(value);
      q.patient = id.empty() ? value : id;
    } else if (name == "agent") {
      q.agent = value;
    } else if (name == "action") {
      if (value != "C" && value != "R" && value != "U" && value != "D" && value != "E") {
        return ErrorResponse(BadParam(name, "one of C, R, U, D, E"), ctx);
      }
      q.action = value;
    } else if (name == "date") {
      if (Status st = ApplyDate(value, q); !st.ok()) return ErrorResponse(st, ctx);
    } else if (name == "_count") {
      auto n = Unsigned(params, name);
      if (!n.ok()) return ErrorResponse(n.status(), ctx);
      q.count = static_cast<int>(std::min<uint64_t>(*n, kMaxCount));
    } else if (name == "_cursor") {
      auto n = Unsigned(params, name);
      if (!n.ok()) return ErrorResponse(n.status(), ctx);
      q.before = *n;
    } else if (name != "_format" && name != "_pretty") {
      return ErrorResponse(BadParam(name, "not supported (patient, agent, action, date, _count)"), ctx);
    }
  }
  const int asked = q.count;
  q.count = asked + 1;  // one more tells whether a next page exists
  auto rows = store.AuditSearch(q);
  if (!rows.ok()) return ErrorResponse(rows.status(), ctx);
  const bool more = static_cast<int>(rows->size()) > asked;
  if (more) rows->resize(static_cast<size_t>(asked));

  json::Value bundle = json::Value::MakeObject();
  bundle.Set("resourceType", json::Value("Bundle"));
  bundle.Set("type", json::Value("searchset"));
  json::Value links = json::Value::MakeArray();
  std::string self_query;
  for (const auto& [name, value] : params) {
    if (name == "_cursor") continue;
    self_query += (self_query.empty() ? "" : "&") + PercentEncode(name) + "=" + PercentEncode(value);
  }
  const std::string self = ctx.base_url + "/AuditEvent?" + self_query;
  auto link = [&](const char* relation, const std::string& url) {
    json::Value l = json::Value::MakeObject();
    l.Set("relation", json::Value(relation));
    l.Set("url", json::Value(url));
    links.as_array().push_back(std::move(l));
  };
  link("self", q.before ? self + "&_cursor=" + std::to_string(*q.before) : self);
  if (more) link("next", self + "&_cursor=" + std::to_string(rows->back().index));
  bundle.Set("link", std::move(links));
  json::Value entries = json::Value::MakeArray();
  for (const store::AuditRow& row : *rows) {
    auto ae = render(row);
    if (!ae.ok()) {
      return ErrorResponse(Status::Internal("AuditEvent/" + std::to_string(row.index) +
                                            " cannot be read (run ehr audit verify): " + ae.status().message()),
                           ctx);
    }
    json::Value entry = json::Value::MakeObject();
    entry.Set("fullUrl", json::Value(ctx.base_url + "/AuditEvent/" + std::to_string(row.index)));
    entry.Set("resource", std::move(*ae));
    json::Value search = json::Value::MakeObject();
    search.Set("mode", json::Value("match"));
    entry.Set("search", std::move(search));
    entries.as_array().push_back(std::move(entry));
  }
  if (!entries.as_array().empty()) bundle.Set("entry", std::move(entries));
  return JsonResponse(200, bundle, ctx);
}

net::Response FhirService::Impl::AuditProofs(const net::Request& req, RequestContext& ctx) {
  net::Response r = [&]() -> net::Response {
    auto principal = authn.Authenticate(req);
    if (!principal.ok()) return ErrorResponse(principal.status(), ctx);
    ctx.principal = std::move(*principal);
    if (Status st = Authorize(ctx, "search-type", "AuditEvent", ""); !st.ok()) return ErrorResponse(st, ctx);
    const auto params = net::ParseQuery(req.query);
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (req.path == "/audit/tree-head") {
      if (req.method == "POST") {  // on demand: sign the log as it is now
        if (options.audit_heads == nullptr) {
          return ErrorResponse(Status::NotSupported(Code::kNotFound, "this server signs no tree heads"), ctx);
        }
        auto head = options.audit_heads->Publish();
        if (!head.ok()) return ErrorResponse(head.status(), ctx);
        return JsonResponse(200, HeadJson(*head), ctx);
      }
      if (!get) return ErrorResponse(Status::NotSupported(Code::kMethodNotAllowed, "GET or POST"), ctx);
      auto head = store.LatestAuditHead();
      if (!head.ok()) return ErrorResponse(head.status(), ctx);
      if (!*head) return ErrorResponse(Status::NotFound("no tree head has been signed yet"), ctx);
      json::Value body = HeadJson(**head);
      if (options.audit_heads != nullptr) {
        body.Set("public_key", json::Value(Base64Encode(options.audit_heads->public_key())));
      }
      return JsonResponse(200, body, ctx);
    }
    if (!get) return ErrorResponse(Status::NotSupported(Code::kMethodNotAllowed, "GET"), ctx);
    auto size = store.AuditSize();
    if (!size.ok()) return ErrorResponse(size.status(), ctx);
    Status missing;
    const audit::NodeAt nodes = audit::StoredNodes(store, missing);
    json::Value body = json::Value::MakeObject();
    if (req.path == "/audit/proof/inclusion") {
      auto index = Unsigned(params, "index");
      if (!index.ok()) return ErrorResponse(index.status(), ctx);
      auto tree = Unsigned(params, "tree_size");
      if (!tree.ok()) return ErrorResponse(tree.status(), ctx);
      if (*tree > *size || *index >= *tree) {
        return ErrorResponse(Status::Invalid("need index < tree_size <= " + std::to_string(*size), "index"), ctx);
      }
      body.Set("leaf_index", json::Value::MakeInt(static_cast<int64_t>(*index)));
      body.Set("tree_size", json::Value::MakeInt(static_cast<int64_t>(*tree)));
      body.Set("leaf_hash", json::Value(Base64Encode(nodes(0, *index))));
      body.Set("audit_path", Hashes(audit::InclusionProof(*index, *tree, nodes)));
    } else if (req.path == "/audit/proof/consistency") {
      auto first = Unsigned(params, "first");
      if (!first.ok()) return ErrorResponse(first.status(), ctx);
      auto second = Unsigned(params, "second");
      if (!second.ok()) return ErrorResponse(second.status(), ctx);
      if (*first == 0 || *first > *second || *second > *size) {
        return ErrorResponse(Status::Invalid("need 0 < first <= second <= " + std::to_string(*size), "first"), ctx);
      }
      body.Set("first", json::Value::MakeInt(static_cast<int64_t>(*first)));
      body.Set("second", json::Value::MakeInt(static_cast<int64_t>(*second)));
      body.Set("first_root", json::Value(Base64Encode(audit::RootOf(*first, nodes))));
      body.Set("second_root", json::Value(Base64Encode(audit::RootOf(*second, nodes))));
      body.Set("consistency", Hashes(audit::ConsistencyProof(*first, *second, nodes)));
    } else {
      return ErrorResponse(Status::NotFound("No such audit endpoint"), ctx);
    }
    if (!missing.ok()) return ErrorResponse(missing, ctx);
    return JsonResponse(200, body, ctx);
  }();
  r.SetHeader("Content-Type", "application/json");
  r.route = req.path.rfind("/audit/proof/", 0) == 0 ? "/audit/proof/{kind}" : "/audit/tree-head";
  return r;
}

}  // namespace ehr::api
