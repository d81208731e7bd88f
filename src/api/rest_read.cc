// Reads: read, vread, history (instance, type, system). Search is in search.cc.
// Read and vread take _summary and _elements (fhir/subset); history takes neither.
#include <set>

#include "api/criteria.h"
#include "api/service_impl.h"
#include "core/ids.h"
#include "core/log.h"
#include "fhir/subset/subset.h"
#include "search/query_parser.h"
#include "security/role_policy.h"

namespace ehr::api {

namespace {

net::Response NotModified(const store::VersionRecord& rec) {
  net::Response r;
  r.status = 304;
  SetVersionHeaders(r, rec);
  return r;
}

net::Response RepresentationOf(const store::VersionRecord& rec, const fhir::Subset& subset, const RequestContext& ctx) {
  net::Response r = JsonResponse(200, fhir::SubsetJson(rec.body, subset), ctx);
  SetVersionHeaders(r, rec);
  return r;
}

net::Response GoneResponse(const store::VersionRecord& rec, const RequestContext& ctx) {
  net::Response r = ErrorResponse(Status::Gone("Resource " + rec.type + "/" + rec.id + " was deleted"), ctx);
  SetVersionHeaders(r, rec);
  return r;
}

// _count: 0 < n <= max; bad values are errors (clear 400 rather than a silent default).
Result<int> PageSize(const std::string& value, const ServiceOptions& o) {
  if (value.empty()) return o.default_page_size;
  int n = 0;
  for (char c : value) {
    if (c < '0' || c > '9' || n > 1000000) return Status::Invalid("_count must be a non-negative integer", "_count");
    n = n * 10 + (c - '0');
  }
  return std::min(std::max(n, 0), o.max_page_size);
}

}  // namespace

std::string PercentEncode(std::string_view s) { return net::PercentEncode(s, "-._~|:,"); }

void AppendLink(std::string& out, bool& first, const char* relation, const std::string& url) {
  out += first ? "" : ",";
  first = false;
  out += R"({"relation":")";
  out += relation;
  out += R"(","url":")";
  log::AppendJsonEscaped(out, url);
  out += "\"}";
}

std::string HistoryMethodUrl(const store::VersionRecord& rec) {
  return rec.method == "POST" ? rec.type : rec.type + "/" + rec.id;
}

void AppendEntry(std::string& out, const RequestContext& ctx, const store::VersionRecord& rec, bool history_info,
                 const char* search_mode) {
  out += R"({"fullUrl":")";
  log::AppendJsonEscaped(out, ResourceUrl(ctx, rec, false));
  out += '"';
  if (!rec.deleted) {
    out += R"(,"resource":)";
    out += rec.body;
  }
  if (search_mode) {
    out += R"(,"search":{"mode":")";
    out += search_mode;
    out += "\"}";
  }
  if (history_info) {
    std::string method = rec.method.empty() ? "PUT" : rec.method;
    out += R"(,"request":{"method":")" + method + R"(","url":")";
    log::AppendJsonEscaped(out, HistoryMethodUrl(rec));
    const char* status = rec.deleted ? "204" : (rec.method == "POST" || rec.version == 1) ? "201" : "200";
    out += R"("},"response":{"status":")";
    out += status;
    out += R"(","etag":"W/\")" + std::to_string(rec.version) + R"(\"","lastModified":")" +
           FormatInstant(rec.last_updated) + "\"}";
  }
  out += '}';
}

net::Response FhirService::Impl::Read(const net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "read", p.type, p.id); !st.ok()) return ErrorResponse(st, ctx);
  Result<fhir::Subset> subset = search::ParseReadParameters(req.query);
  if (!subset.ok()) return ErrorResponse(subset.status(), ctx);
  if (!IsValidFhirId(p.id)) return ErrorResponse(Status::NotFound("Resource " + p.type + "/" + p.id + " is not known"), ctx);
  auto rec = store.ReadCurrent(ctx.principal.tenant, p.type, p.id);
  if (!rec.ok()) return ErrorResponse(rec.status(), ctx);
  if (!*rec) return ErrorResponse(Status::NotFound("Resource " + p.type + "/" + p.id + " is not known"), ctx);
  const store::VersionRecord& r = **rec;
  if (Status st = CheckReach(ctx, "read", r); !st.ok()) return ErrorResponse(st, ctx);
  if (r.deleted) return GoneResponse(r, ctx);
  std::string_view inm = req.GetHeader("If-None-Match");
  if (!inm.empty()) {
    auto v = ParseVersionTag(inm);
    if ((v && *v == r.version) || inm == "*") return NotModified(r);
  } else if (std::string_view ims = req.GetHeader("If-Modified-Since"); !ims.empty()) {
    auto since = ParseHttpDate(ims);
    if (since && r.last_updated / 1000000 <= *since / 1000000) return NotModified(r);
  }
  if (ctx.audit) ctx.audit->Disclosed(r, true);
  return RepresentationOf(r, *subset, ctx);
}

net::Response FhirService::Impl::VRead(const net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  if (Status st = Authorize(ctx, "vread", p.type, p.id); !st.ok()) return ErrorResponse(st, ctx);
  Result<fhir::Subset> subset = search::ParseReadParameters(req.query);
  if (!subset.ok()) return ErrorResponse(subset.status(), ctx);
  auto version = ParseVersionTag(p.version);
  if (!version || !IsValidFhirId(p.id)) {
    return ErrorResponse(Status::NotFound("Version " + p.version + " of " + p.type + "/" + p.id + " is not known"), ctx);
  }
  auto rec = store.ReadVersion(ctx.principal.tenant, p.type, p.id, *version);
  if (!rec.ok()) return ErrorResponse(rec.status(), ctx);
  if (!*rec) {
    return ErrorResponse(Status::NotFound("Version " + p.version + " of " + p.type + "/" + p.id + " is not known"), ctx);
  }
  if (Status st = CheckReach(ctx, "vread", **rec); !st.ok()) return ErrorResponse(st, ctx);
  if ((*rec)->deleted) return GoneResponse(**rec, ctx);
  if (ctx.audit) ctx.audit->Disclosed(**rec, true);
  return RepresentationOf(**rec, *subset, ctx);
}

net::Response FhirService::Impl::History(const net::Request& req, const RequestContext& ctx, const FhirPath& p) {
  const char* interaction = p.type.empty() ? "history-system" : p.id.empty() ? "history-type" : "history-instance";
  if (Status st = Authorize(ctx, interaction, p.type, p.id); !st.ok()) return ErrorResponse(st, ctx);
  store::HistoryQuery q;
  q.tenant = ctx.principal.tenant;
  q.type = p.type;
  q.id = p.id;
  std::string count_text, since_text, subset_query;  // subset_query: _summary and _elements, as given
  for (auto& [name, value] : net::ParseQuery(req.query)) {
    if (name == "_summary" || name == "_elements") {
      subset_query += "&" + name + "=" + PercentEncode(value);
    } else if (name == "_count") {
      count_text = value;
    } else if (name == "_since") {
      since_text = value;
      auto since = ParseInstant(value);
      if (!since) return ErrorResponse(Status::Invalid("_since must be an instant such as 2024-01-01T00:00:00Z", "_since"), ctx);
      q.since = *since;
    } else if (name == "_cursor") {
      auto cursor = ParseVersionTag(value);
      if (!cursor) return ErrorResponse(Status::Invalid("Malformed paging cursor", "_cursor"), ctx);
      q.before_seq = *cursor;
    } else if (name == "_format" || name == "_pretty") {
    } else {
      return ErrorResponse(Status::Invalid("Parameter '" + name + "' is not supported on history", name, "not-supported"), ctx);
    }
  }
  auto count = PageSize(count_text, options);
  if (!count.ok()) return ErrorResponse(count.status(), ctx);
  q.count = *count;
  Result<fhir::Subset> subset = search::ParseReadParameters(subset_query.empty() ? "" : subset_query.substr(1));
  if (!subset.ok()) return ErrorResponse(subset.status(), ctx);
  Result<PatientSet> reached = ReachFor(ctx, {interaction, p.type, p.id, "", {}});
  if (!reached.ok()) return ErrorResponse(reached.status(), ctx);
  if (!reached->Unbounded() && p.id.empty() && (p.type.empty() || security::InPatientCompartment(p.type))) {
    return ErrorResponse(Status::Forbidden("the history of many resources needs a role that reaches every record "
                                           "(none outside your care or withheld by consent); read the history of "
                                           "one resource"),
                         ctx);
  }
  if (!p.id.empty()) {
    auto current = store.ReadCurrent(q.tenant, p.type, p.id);
    if (!current.ok()) return ErrorResponse(current.status(), ctx);
    if (!*current) return ErrorResponse(Status::NotFound("Resource " + p.type + "/" + p.id + " is not known"), ctx);
    if (Status st = CheckReach(ctx, interaction, **current); !st.ok()) return ErrorResponse(st, ctx);
  }
  auto page = store.History(q);
  if (!page.ok()) return ErrorResponse(page.status(), ctx);
  if (!reached->Unbounded() && !p.id.empty()) {
    // Only the versions in a reached record (a resource may have moved between records, or
    // been labelled so that a consent hides it).
    std::erase_if(page->entries, [&](const store::VersionRecord& v) { return !Shows(*reached, v); });
  }

  std::string self = ctx.base_url + (p.type.empty() ? "" : "/" + p.type) + (p.id.empty() ? "" : "/" + p.id) + "/_history";
  std::string params = "?_count=" + std::to_string(q.count) + (since_text.empty() ? "" : "&_since=" + PercentEncode(since_text)) +
                       subset_query;
  std::string out = R"({"resourceType":"Bundle","type":"history","link":[)";
  bool first = true;
  AppendLink(out, first, "self", self + params + (q.before_seq ? "&_cursor=" + std::to_string(*q.before_seq) : ""));
  if (page->more && !page->entries.empty()) {
    AppendLink(out, first, "next", self + params + "&_cursor=" + std::to_string(page->entries.back().seq));
  }
  out += ']';
  if (!page->entries.empty()) out += R"(,"entry":[)";  // FHIR JSON has no empty arrays
  for (size_t i = 0; i < page->entries.size(); ++i) {
    if (i) out += ',';
    store::VersionRecord& rec = page->entries[i];
    if (ctx.audit && !rec.deleted) ctx.audit->Disclosed(rec, false);
    if (!rec.deleted) rec.body = fhir::SubsetJson(std::move(rec.body), *subset);
    AppendEntry(out, ctx, rec, true, nullptr);
  }
  out += page->entries.empty() ? "}" : "]}";
  return JsonResponse(200, std::move(out), ctx);
}

}  // namespace ehr::api
