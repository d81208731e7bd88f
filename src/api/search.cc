// Search: GET /fhir/{type}?..., POST /fhir/{type}/_search, GET /fhir?_type=... — the query
// parsed by search::ParseSearch, executed by Store::Search, answered as a searchset Bundle
// with keyset paging links, included resources (cut by _summary / _elements like the
// matches, fhir/subset), and the ignored parameters reported in an OperationOutcome entry.
#include "api/search_access.h"
#include "api/service_impl.h"
#include "security/role_policy.h"
#include "api/value_sets.h"
#include "fhir/subset/subset.h"
#include "net/http.h"
#include "search/query_parser.h"

namespace ehr::api {
namespace {

bool PrefersStrict(const net::Request& req) {
  std::string_view prefer = req.GetHeader("Prefer");
  return prefer.find("handling=strict") != std::string_view::npos;
}

// The request's query without `_cursor`, re-encoded: the base of the self and next links.
std::string LinkQuery(std::string_view query) {
  std::string out;
  for (auto& [name, value] : net::ParseQuery(query)) {
    if (name == "_cursor") continue;
    if (!out.empty()) out += '&';
    out += PercentEncode(name) + "=" + PercentEncode(value);
  }
  return out;
}

store::VersionRecord RecordOf(store::SearchMatch&& m) {
  store::VersionRecord r;
  r.type = std::move(m.type);
  r.id = std::move(m.id);
  r.version = m.version;
  r.last_updated = m.last_updated;
  r.body = std::move(m.body);
  return r;
}

}  // namespace

net::Response FhirService::Impl::Search(const net::Request& req, const RequestContext& ctx, const FhirPath& p,
                                        std::string_view query) {
  if (Status st = Authorize(ctx, p.type.empty() ? "search-system" : "search-type", p.type, ""); !st.ok()) {
    return ErrorResponse(st, ctx);
  }
  if (ctx.audit) ctx.audit->Query(std::string(query));
  Result<search::ParsedSearch> parsed = search::ParseSearch(p.type, query, SearchParseOptions(req, ctx));
  if (!parsed.ok()) return ErrorResponse(parsed.status(), ctx);
  return SearchResponse(ctx, *parsed, ctx.base_url + (p.type.empty() ? "" : "/" + p.type), query);
}

search::ParseOptions FhirService::Impl::SearchParseOptions(const net::Request& req, const RequestContext& ctx) const {
  search::ParseOptions parse_options;
  parse_options.strict = PrefersStrict(req);
  parse_options.default_count = options.default_page_size;
  parse_options.max_count = options.max_page_size;
  parse_options.blinder = &blinder;
  parse_options.tenant = ctx.principal.tenant;
  return parse_options;
}

net::Response FhirService::Impl::SearchResponse(const RequestContext& ctx, search::ParsedSearch& parsed,
                                                const std::string& link_base, std::string_view query,
                                                const std::function<bool(const store::SearchMatch&)>& keep_included) {
  Result<std::string> bundle = SearchBundle(
      ctx, parsed, link_base, query, [this](const store::SearchQuery& q) { return store.Search(q); }, keep_included);
  if (!bundle.ok()) return ErrorResponse(bundle.status(), ctx);
  return JsonResponse(200, std::move(*bundle), ctx);
}

Result<std::string> FhirService::Impl::SearchBundle(const RequestContext& ctx, search::ParsedSearch& parsed,
                                                    const std::string& link_base, std::string_view query,
                                                    const SearchFn& search,
                                                    const std::function<bool(const store::SearchMatch&)>& keep_included) {
  store::SearchQuery& q = parsed.query;
  q.tenant = ctx.principal.tenant;
  const std::string sealed = q.cursor;  // as the client holds it
  if (!sealed.empty()) {
    Result<std::string> cursor = cursor_seal.Open(q.tenant, sealed);
    if (!cursor.ok()) {
      Status st = cursor.status();
      return Status(Code::kInvalid, Issue{"error", "invalid", st.message(), "_cursor"});
    }
    q.cursor = std::move(*cursor);
  }
  EHR_RETURN_IF_ERROR(authz.Authorize(ctx.principal, SearchAction(q)));
  EHR_ASSIGN_OR_RETURN(const PatientSet reached, ApplyReach(ctx, q));
  EHR_RETURN_IF_ERROR(ExpandValueSets(q, search));
  EHR_ASSIGN_OR_RETURN(store::SearchPage page, search(q));

  const std::string self = link_base + "?" + LinkQuery(query);
  std::string out = R"({"resourceType":"Bundle","type":"searchset")";
  if (page.total) out += R"(,"total":)" + std::to_string(*page.total);
  out += R"(,"link":[)";
  bool first = true;
  AppendLink(out, first, "self", sealed.empty() ? self : self + "&_cursor=" + PercentEncode(sealed));
  if (!page.next_cursor.empty()) {
    AppendLink(out, first, "next", self + "&_cursor=" + cursor_seal.Seal(q.tenant, page.next_cursor));
  }
  out += ']';
  // FHIR JSON has no empty arrays: a page without entries has no "entry".
  std::string entries;
  auto append = [&](store::SearchMatch&& m, const char* mode) {
    if (!entries.empty()) entries += ',';
    store::VersionRecord rec = RecordOf(std::move(m));
    if (ctx.audit) ctx.audit->Disclosed(rec, false);
    rec.body = fhir::SubsetJson(std::move(rec.body), parsed.subset);
    AppendEntry(entries, ctx, rec, false, mode);
  };
  for (store::SearchMatch& m : page.matches) append(std::move(m), "match");
  for (store::SearchMatch& m : page.included) {
    if (keep_included && !keep_included(m)) continue;
    // An included resource the caller may not read is left out (the matches and the total
    // do not depend on includes, so nothing else tells of it).
    const security::Action read{"read", m.type, m.id, q.compartment ? q.compartment->ids.at(0) : std::string(), {}};
    if (!authz.Authorize(ctx.principal, read).ok()) continue;
    const bool granular = HasGranularScopes(ctx.principal);
    if (security::InPatientCompartment(m.type) || granular) {
      Result<PatientSet> set = reached.all && !granular ? reached : ReachFor(ctx, read);
      if (!set.ok() || !Shows(*set, RecordOf(store::SearchMatch(m)))) continue;
      if (set->FilterOf(m.type)) {
        Result<bool> passes = PassesFilter(ctx, *set, m.type, m.id);
        if (!passes.ok() || !*passes) continue;
      }
    }
    append(std::move(m), "include");
  }
  if (!parsed.warnings.empty()) {
    if (!entries.empty()) entries += ',';
    entries += R"({"resource":)";
    entries += json::Write(OutcomeOf(Status(Code::kOk, parsed.warnings)));
    entries += R"(,"search":{"mode":"outcome"}})";
  }
  if (!entries.empty()) {
    out += R"(,"entry":[)";
    out += entries;
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace ehr::api
