// batch and transaction Bundles (FHIR R4 http.html#transaction).
//
// A transaction runs in one store transaction: DELETE, then POST, then PUT/PATCH, then
// GET, as the spec orders them; `urn:uuid:` full URLs and conditional references
// (`Patient?identifier=...`) are resolved to the ids they get before anything is stored.
// Any failure fails the whole Bundle. A batch runs each entry on its own (in request
// order, inside the same store transaction, each entry's checks preceding its single
// write so a failed entry leaves nothing behind) and reports each entry's outcome.
#include <map>
#include <set>

#include "api/criteria.h"
#include "api/service_impl.h"
#include "core/ids.h"
#include "fhir/model/model.h"
#include "fhir/subset/subset.h"
#include "fhir/validate/validate.h"
#include "search/query_parser.h"

namespace ehr::api {

struct PreparedEntry {
  std::string path;  // "Bundle.entry[3]"
  std::string method;
  std::string full_url;
  FhirPath target;
  std::string query;
  std::optional<json::Value> resource;
  json::Value patch;
  std::string if_none_exist;
  std::optional<int64_t> if_match;
  Status error;            // batch: a preparation failure reported as this entry's outcome
  std::string assigned_id;  // transaction: the id this POST/PUT will have
  bool matched_existing = false;
  std::optional<PreStamped> prestamped;  // transaction POST serialised before the commit
  json::Value response;    // the response entry, once executed
};

struct PreparedBundle {
  bool transaction = false;
  std::vector<PreparedEntry> entries;
  // Conditional references resolved while preparing ("Type?criteria" -> "Type/id"); the
  // transaction checks that each still resolves the same way.
  std::map<std::string, std::string> resolved_early;
};

namespace {

Result<std::string> DecodeBase64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    int v = value(c);
    if (v < 0) return Status::Invalid("Invalid base64 data");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// Applies `resolve` to every `reference` string in `v` (contained "#x" references are left alone).
Status RewriteReferences(json::Value& v, const std::function<Result<std::optional<std::string>>(const std::string&)>& resolve) {
  if (v.is_array()) {
    for (auto& item : v.as_array()) EHR_RETURN_IF_ERROR(RewriteReferences(item, resolve));
  } else if (v.is_object()) {
    for (auto& [key, child] : v.as_object()) {
      if (key == "reference" && child.is_string()) {
        EHR_ASSIGN_OR_RETURN(auto replacement, resolve(child.as_string()));
        if (replacement) child = json::Value(std::move(*replacement));
      } else {
        EHR_RETURN_IF_ERROR(RewriteReferences(child, resolve));
      }
    }
  }
  return Status::Ok();
}

// "Patient?identifier=x" -> ("Patient", "identifier=x"); nullopt for anything else (a
// literal reference, "#contained", or a type that does not exist).
std::optional<std::pair<std::string, std::string>> SplitConditionalReference(const std::string& ref) {
  size_t q = ref.find('?');
  if (q == std::string::npos || ref.find('/') < q) return std::nullopt;
  std::string type = ref.substr(0, q);
  if (!fhir::IsResourceType(type)) return std::nullopt;
  return std::make_pair(std::move(type), ref.substr(q + 1));
}

json::Value ResponseEntry(const RequestContext& ctx, int status, const store::VersionRecord* rec, bool location) {
  json::Value entry = json::Value::MakeObject();
  json::Value response = json::Value::MakeObject();
  response.Set("status", json::Value(StatusLine(status)));
  if (rec && rec->version > 0) {
    if (location) response.Set("location", json::Value(rec->type + "/" + rec->id + "/_history/" + std::to_string(rec->version)));
    response.Set("etag", json::Value(VersionTag(rec->version)));
    response.Set("lastModified", json::Value(FormatInstant(rec->last_updated)));
    if (!rec->deleted) {
      entry.Set("fullUrl", json::Value(ResourceUrl(ctx, *rec, false)));
      if (ctx.prefer == ReturnPref::kRepresentation) {
        auto parsed = json::Parse(rec->body);
        if (parsed.ok()) entry.Set("resource", std::move(*parsed));
      } else if (ctx.prefer == ReturnPref::kOutcome) {
        response.Set("outcome", InformationOutcome(rec->type + "/" + rec->id + " version " + std::to_string(rec->version)));
      }
    }
  }
  entry.Set("response", std::move(response));
  return entry;
}

json::Value ErrorEntry(const Status& st) {
  json::Value entry = json::Value::MakeObject();
  json::Value response = json::Value::MakeObject();
  response.Set("status", json::Value(StatusLine(st.http_status())));
  response.Set("outcome", OutcomeOf(st));
  entry.Set("response", std::move(response));
  return entry;
}

// Splits an entry URL into path and query, accepting absolute URLs under our base.
std::pair<std::string, std::string> SplitUrl(std::string url, const std::string& base) {
  if (!base.empty() && url.rfind(base + "/", 0) == 0) url.erase(0, base.size() + 1);
  size_t q = url.find('?');
  std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  std::string path = url.substr(0, q);
  if (!path.empty() && path[0] == '/') path.erase(0, 1);
  return {path, query};
}

// Moves the entry's resource into `e` (the Bundle is consumed, not copied).
Status PrepareEntry(json::Value& entry, PreparedEntry& e, const RequestContext& ctx) {
  if (!entry.is_object()) return Status::Invalid("An entry must be an object", e.path, "structure");
  e.full_url = std::string(entry.GetString("fullUrl"));
  const json::Value* request = entry.Find("request");
  if (!request || !request->is_object()) return Status::Invalid("The entry has no request", e.path + ".request", "required");
  e.method = std::string(request->GetString("method"));
  std::string url(request->GetString("url"));
  if (e.method != "GET" && e.method != "HEAD" && e.method != "POST" && e.method != "PUT" && e.method != "PATCH" &&
      e.method != "DELETE") {
    return Status::Invalid("request.method must be GET, HEAD, POST, PUT, PATCH or DELETE", e.path + ".request.method");
  }
  if (url.empty()) return Status::Invalid("The entry has no request.url", e.path + ".request.url", "required");
  auto [path, query] = SplitUrl(url, ctx.base_url);
  e.query = query;
  auto target = ParseFhirPath(path);
  if (!target.ok()) return Status::Invalid("Unsupported request.url", e.path + ".request.url");
  e.target = std::move(*target);
  if (!e.target.operation.empty() || e.target.metadata) {
    return Status::Invalid("Operations are not supported in Bundles yet", e.path + ".request.url", "not-supported");
  }
  if (!e.target.type.empty() && !fhir::IsResourceType(e.target.type)) {
    return Status::Invalid("Unknown resource type '" + e.target.type + "'", e.path + ".request.url", "not-supported");
  }
  e.if_none_exist = std::string(request->GetString("ifNoneExist"));
  if (std::string_view im = request->GetString("ifMatch"); !im.empty()) {
    e.if_match = ParseVersionTag(im);
    if (!e.if_match) return Status::Invalid("ifMatch must be a version ETag", e.path + ".request.ifMatch");
  }
  json::Value* resource = entry.Find("resource");
  bool needs_type = e.method != "GET" && e.method != "HEAD";
  if (needs_type && (e.target.type.empty() || e.target.history || e.target.search)) {
    return Status::Invalid("request.url must name a resource type", e.path + ".request.url");
  }
  if (e.method == "POST") {
    if (!e.target.id.empty()) return Status::Invalid("POST url must be a resource type", e.path + ".request.url");
  } else if (e.method == "PUT" || e.method == "DELETE") {
    if (e.target.id.empty() && e.query.empty()) {
      return Status::Invalid(e.method + " needs an id or search criteria", e.path + ".request.url");
    }
  } else if (e.method == "PATCH") {
    if (e.target.id.empty()) return Status::Invalid("PATCH needs an id", e.path + ".request.url");
    if (!resource || resource->GetString("resourceType") != "Binary" ||
        resource->GetString("contentType") != "application/json-patch+json") {
      return Status::Invalid("PATCH entries need a Binary resource with contentType application/json-patch+json",
                             e.path + ".resource", "not-supported");
    }
    EHR_ASSIGN_OR_RETURN(std::string text, DecodeBase64(resource->GetString("data")));
    auto patch = json::Parse(text);
    if (!patch.ok()) return Status::Invalid("The patch in Binary.data is not JSON", e.path + ".resource.data");
    e.patch = std::move(*patch);
    return Status::Ok();
  }
  if (e.method == "POST" || e.method == "PUT") {
    if (!resource) return Status::Invalid("The entry has no resource", e.path + ".resource", "required");
    EHR_RETURN_IF_ERROR(CheckResourceType(*resource, e.target.type, e.path + ".resource"));
    e.resource = std::move(*resource);
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<PreparedBundle>> FhirService::Impl::PrepareBundle(json::Value bundle, const RequestContext& ctx) {
  if (!bundle.is_object() || bundle.GetString("resourceType") != "Bundle") {
    return Status::Invalid("POST to the base URL needs a Bundle", "Bundle.resourceType");
  }
  std::string_view type = bundle.GetString("type");
  if (type != "batch" && type != "transaction") {
    return Status::Invalid("Bundle.type must be batch or transaction", "Bundle.type", "value");
  }
  auto prepared = std::make_shared<PreparedBundle>();
  prepared->transaction = type == "transaction";
  if (Status st = Authorize(ctx, std::string(type), "", ""); !st.ok()) return st;
  // One validation pass over the Bundle and every resource in it. Problems of the Bundle
  // itself (a misspelled "entry") fail it; in a batch, an entry's problems are its own.
  std::map<size_t, std::vector<Issue>> entry_issues;
  if (Status st = fhir::ValidateResource(bundle); !st.ok()) {
    if (prepared->transaction) return st;
    for (auto& issue : st.mutable_issues()) {
      const std::string prefix = "Bundle.entry[";
      if (issue.expression.rfind(prefix, 0) != 0) return st;
      entry_issues[std::strtoul(issue.expression.c_str() + prefix.size(), nullptr, 10)].push_back(std::move(issue));
    }
  }
  json::Value* entries = bundle.Find("entry");
  if (entries && !entries->is_array()) return Status::Invalid("Bundle.entry must be an array", "Bundle.entry", "structure");
  std::set<std::string> full_urls;
  size_t n = entries ? entries->as_array().size() : 0;
  prepared->entries.resize(n);
  for (size_t i = 0; i < n; ++i) {
    PreparedEntry& e = prepared->entries[i];
    e.path = "Bundle.entry[" + std::to_string(i) + "]";
    Status st = PrepareEntry(entries->as_array()[i], e, ctx);
    if (auto it = entry_issues.find(i); st.ok() && it != entry_issues.end()) st = Status(Code::kInvalid, std::move(it->second));
    if (st.ok()) {
      static const std::map<std::string, const char*> kInteraction = {
          {"GET", "read"}, {"HEAD", "read"}, {"POST", "create"}, {"PUT", "update"}, {"PATCH", "patch"}, {"DELETE", "delete"}};
      const char* interaction = e.target.id.empty() && e.method == "GET" ? "search-type" : kInteraction.at(e.method);
      st = Authorize(ctx, interaction, e.target.type, e.target.id);
    }
    if (st.ok() && prepared->transaction && !e.full_url.empty() && !full_urls.insert(e.full_url).second) {
      st = Status::Invalid("Duplicate fullUrl in the transaction", e.path + ".fullUrl");
    }
    if (!st.ok()) {
      if (prepared->transaction) return st;
      e.error = std::move(st);
    }
  }
  if (prepared->transaction) PrepareTransactionEarly(*prepared, ctx);
  return prepared;
}

// The part of a transaction's work that needs no lock, done on the caller's thread so the
// single writer does less: POST entries without ifNoneExist get their ids now, and those
// whose references can all be resolved now (fullUrls of such entries; conditional
// references against committed data) are rewritten and serialised. Others are left to
// the transaction, as are entries whose references point to PUT or ifNoneExist entries.
void FhirService::Impl::PrepareTransactionEarly(PreparedBundle& b, const RequestContext& ctx) {
  std::map<std::string, std::string> by_full_url;  // fullUrl -> "Type/id", early entries only
  std::set<std::string> late_full_urls;            // fullUrls whose ids the transaction decides
  for (auto& e : b.entries) {
    bool early = e.method == "POST" && e.if_none_exist.empty();
    if (early) e.assigned_id = NewUuid();
    if (e.full_url.empty() || (e.method != "POST" && e.method != "PUT")) continue;
    if (early) {
      by_full_url[e.full_url] = e.target.type + "/" + e.assigned_id;
    } else {
      late_full_urls.insert(e.full_url);
    }
  }
  const std::string& tenant = ctx.principal.tenant;
  for (auto& e : b.entries) {
    if (e.method != "POST" || !e.if_none_exist.empty()) continue;
    // Rewriting in place is safe even when a later reference turns out unresolvable: every
    // rewrite made here is the one the transaction would make (early ids are final, and
    // conditional references resolved here are re-checked there).
    bool resolvable = true;
    Status st = RewriteReferences(*e.resource, [&](const std::string& ref) -> Result<std::optional<std::string>> {
      if (auto it = by_full_url.find(ref); it != by_full_url.end()) return std::optional<std::string>(it->second);
      if (late_full_urls.count(ref)) {
        resolvable = false;
        return std::optional<std::string>();
      }
      if (auto it = b.resolved_early.find(ref); it != b.resolved_early.end()) return std::optional<std::string>(it->second);
      auto conditional = SplitConditionalReference(ref);
      if (!conditional) return std::optional<std::string>();
      const auto& [type, query] = *conditional;
      auto ids = FindMatches(tenant, type, query, "conditional reference",
                             Guarded(ctx, [this](const store::SearchQuery& q) { return store.Search(q); }), 2,
                             blinder);
      if (!ids.ok() || ids->size() != 1) {  // the transaction reports it
        resolvable = false;
        return std::optional<std::string>();
      }
      std::string resolved = type + "/" + (*ids)[0];
      b.resolved_early[ref] = resolved;
      return std::optional<std::string>(resolved);
    });
    if (!st.ok() || !resolvable) continue;
    e.prestamped = PreStamp(*e.resource, e.assigned_id, tenant, blinder);
  }
}

Result<json::Value> FhirService::Impl::ExecuteBundle(PreparedBundle& b, TxnOps& ops, const RequestContext& ctx) {
  // Runs one entry. For a transaction, POST/PUT ids and references are resolved beforehand.
  auto run = [&](PreparedEntry& e) -> Status {
    Result<WriteResult> w = Status::Internal("unhandled method");
    const std::string& type = e.target.type;
    if (e.method == "GET" || e.method == "HEAD") {
      if (e.target.history) return Status::NotSupported(Code::kInvalid, "History in a Bundle is not supported yet");
      if (!e.target.id.empty()) {
        EHR_ASSIGN_OR_RETURN(fhir::Subset subset, search::ParseReadParameters(e.query));
        EHR_ASSIGN_OR_RETURN(auto rec, ops.txn().ReadCurrent(ops.tenant(), type, e.target.id));
        if (!rec) return Status::NotFound("Resource " + type + "/" + e.target.id + " is not known");
        EHR_RETURN_IF_ERROR(CheckReach(ctx, "read", *rec));
        if (rec->deleted) return Status::Gone("Resource " + type + "/" + e.target.id + " was deleted");
        if (ctx.audit) ctx.audit->Disclosed(*rec, true);
        rec->body = fhir::SubsetJson(std::move(rec->body), subset);
        RequestContext read_ctx = ctx;
        read_ctx.prefer = ReturnPref::kRepresentation;
        e.response = ResponseEntry(read_ctx, 200, &*rec, false);
        return Status::Ok();
      }
      // The search of GET /fhir/{type}?... (paging, _total, _include, _summary, _elements),
      // inside the transaction; strictly, as for conditional operations.
      search::ParseOptions parse;
      parse.strict = true;
      parse.default_count = options.default_page_size;
      parse.max_count = options.max_page_size;
      parse.blinder = &blinder;
      parse.tenant = ctx.principal.tenant;
      Result<search::ParsedSearch> parsed = search::ParseSearch(type, e.query, parse);
      if (!parsed.ok()) {
        Status st = parsed.take_status();
        for (Issue& issue : st.mutable_issues()) issue.diagnostics = e.path + ".request.url: " + issue.diagnostics;
        return st;
      }
      EHR_ASSIGN_OR_RETURN(std::string text,
                           SearchBundle(ctx, *parsed, ctx.base_url + "/" + type, e.query,
                                        [&](const store::SearchQuery& q) { return ops.txn().Search(q); }));
      EHR_ASSIGN_OR_RETURN(json::Value set, json::Parse(text));
      e.response = json::Value::MakeObject();
      e.response.Set("resource", std::move(set));
      json::Value response = json::Value::MakeObject();
      response.Set("status", json::Value("200 OK"));
      e.response.Set("response", std::move(response));
      return Status::Ok();
    }
    if (e.method == "POST") {
      if (e.matched_existing) {
        EHR_ASSIGN_OR_RETURN(auto rec, ops.txn().ReadCurrent(ops.tenant(), type, e.assigned_id));
        if (!rec) return Status::Internal("matched resource vanished");
        e.response = ResponseEntry(ctx, 200, &*rec, true);
        return Status::Ok();
      }
      w = e.prestamped ? ops.Create(type, std::move(*e.prestamped), "", e.assigned_id)
                       : ops.Create(type, std::move(*e.resource), b.transaction ? "" : e.if_none_exist, e.assigned_id);
    } else if (e.method == "PUT") {
      if (!e.assigned_id.empty()) {
        e.resource->SetAt(1, "id", json::Value(e.assigned_id));
        w = ops.Update(type, e.assigned_id, std::move(*e.resource), e.if_match);
      } else if (e.target.id.empty()) {
        w = ops.ConditionalUpdate(type, e.query, std::move(*e.resource), e.if_match);
      } else {
        w = ops.Update(type, e.target.id, std::move(*e.resource), e.if_match);
      }
    } else if (e.method == "PATCH") {
      w = ops.Patch(type, e.target.id, e.patch, e.if_match);
    } else if (e.method == "DELETE") {
      w = e.target.id.empty() ? ops.ConditionalDelete(type, e.query) : ops.Delete(type, e.target.id, e.if_match);
    }
    if (!w.ok()) return w.take_status();
    e.response = ResponseEntry(ctx, w->status, &w->record, e.method == "POST" || e.method == "PUT");
    return Status::Ok();
  };

  if (!b.transaction) {
    for (auto& e : b.entries) {
      Status st = e.error.ok() ? run(e) : e.error;
      // A storage failure may have left part of an entry behind: fail the whole batch.
      if (st.code() == Code::kInternal || st.code() == Code::kUnavailable) return st;
      if (!st.ok()) e.response = ErrorEntry(st);
    }
  } else {
    ops.set_all_or_nothing(true);
    // The current versions of what it updates or deletes by id, read together (one round
    // trip on PostgreSQL, where one each made an NDJSON import of updates a ping-pong).
    std::vector<std::pair<std::string, std::string>> targets;
    for (const auto& e : b.entries) {
      if ((e.method == "PUT" || e.method == "DELETE") && !e.target.id.empty()) targets.emplace_back(e.target.type, e.target.id);
    }
    EHR_RETURN_IF_ERROR(ops.txn().Prefetch(ops.tenant(), targets));
    auto fail = [](Status st, const PreparedEntry& e) {
      for (auto& issue : st.mutable_issues()) {
        if (issue.expression.empty()) issue.expression = e.path;
      }
      return st;
    };
    for (auto& e : b.entries) {
      if (e.method != "DELETE") continue;
      if (Status st = run(e); !st.ok()) return fail(st, e);
    }
    // References resolved while preparing must still resolve the same way now.
    for (const auto& [ref, resolved] : b.resolved_early) {
      auto [type, query] = *SplitConditionalReference(ref);
      EHR_ASSIGN_OR_RETURN(auto ids, ops.Match(type, query, "conditional reference"));
      if (ids.size() != 1 || type + "/" + ids[0] != resolved) {
        return Status::Conflict("A conditional reference resolves differently than when the transaction was checked "
                                "(a concurrent change); retry the transaction");
      }
    }
    // Ids for POST and PUT entries, so references can be rewritten before anything is stored.
    std::map<std::string, std::string> by_full_url;  // fullUrl -> "Type/id"
    for (auto& e : b.entries) {
      if (e.method == "POST") {
        if (!e.if_none_exist.empty()) {
          auto ids = ops.Match(e.target.type, e.if_none_exist, e.path + ".request.ifNoneExist");
          if (!ids.ok()) return fail(ids.take_status(), e);
          if (ids->size() > 1) return fail(Status::PreconditionFailed("ifNoneExist matches more than one resource"), e);
          if (ids->size() == 1) {
            e.assigned_id = (*ids)[0];
            e.matched_existing = true;
          }
        }
        if (e.assigned_id.empty()) e.assigned_id = NewUuid();  // (early entries have theirs)
      } else if (e.method == "PUT") {
        if (!e.target.id.empty()) {
          e.assigned_id = e.target.id;
        } else {
          auto ids = ops.Match(e.target.type, e.query, e.path + ".request.url");
          if (!ids.ok()) return fail(ids.take_status(), e);
          if (ids->size() > 1) return fail(Status::PreconditionFailed("Conditional update matches more than one resource"), e);
          std::string_view body_id = e.resource->GetString("id");
          e.assigned_id = ids->size() == 1 ? (*ids)[0] : body_id.empty() ? NewUuid() : std::string(body_id);
        }
      } else {
        continue;
      }
      if (!e.full_url.empty()) by_full_url[e.full_url] = e.target.type + "/" + e.assigned_id;
    }
    // Rewrite references: fullUrls of entries, then conditional references.
    std::map<std::string, std::string> conditional = b.resolved_early;  // "Type?query" -> "Type/id"
    for (auto& e : b.entries) {
      if (!e.resource || e.prestamped) continue;
      Status st = RewriteReferences(*e.resource, [&](const std::string& ref) -> Result<std::optional<std::string>> {
        if (auto it = by_full_url.find(ref); it != by_full_url.end()) return std::optional<std::string>(it->second);
        if (auto it = conditional.find(ref); it != conditional.end()) return std::optional<std::string>(it->second);
        auto split = SplitConditionalReference(ref);
        if (!split) return std::optional<std::string>();
        const auto& [type, query] = *split;
        EHR_ASSIGN_OR_RETURN(auto ids, ops.Match(type, query, "conditional reference"));
        if (ids.empty()) return Status::NotFound("Conditional reference " + type + "?... matches no resource");
        if (ids.size() > 1) return Status::PreconditionFailed("Conditional reference " + type + "?... matches several resources");
        std::string resolved = type + "/" + ids[0];
        conditional[ref] = resolved;
        return std::optional<std::string>(resolved);
      });
      if (!st.ok()) return fail(st, e);
    }
    for (const char* method : {"POST", "PUT", "PATCH", "GET", "HEAD"}) {
      for (auto& e : b.entries) {
        if (e.method != method) continue;
        if (Status st = run(e); !st.ok()) return fail(st, e);
      }
    }
  }

  json::Value out = json::Value::MakeObject();
  out.Set("resourceType", json::Value("Bundle"));
  out.Set("id", json::Value(NewUuid()));
  out.Set("type", json::Value(b.transaction ? "transaction-response" : "batch-response"));
  json::Array entries;
  entries.reserve(b.entries.size());
  for (auto& e : b.entries) entries.push_back(std::move(e.response));
  out.Set("entry", json::Value(std::move(entries)));
  return out;
}

}  // namespace ehr::api
