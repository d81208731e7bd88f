#include "api/interactions.h"

#include <algorithm>

#include "api/criteria.h"
#include "core/ids.h"
#include "fhir/model/model.h"
#include "fhir/patch/json_patch.h"
#include "fhir/validate/validate.h"

namespace ehr::api {

Status CheckResourceType(const json::Value& resource, std::string_view expected_type, const std::string& path) {
  if (!resource.is_object()) {
    return Status::Invalid("A resource must be a JSON object", path, "structure");
  }
  std::string_view type = resource.GetString("resourceType");
  if (type.empty()) {
    return Status::Invalid("The resource has no resourceType", path, "required");
  }
  if (!fhir::IsResourceType(type)) {
    return Status::Invalid("Unknown resource type '" + std::string(type) + "'",
                           path.empty() ? "resourceType" : path + ".resourceType", "not-supported");
  }
  if (!expected_type.empty() && type != expected_type) {
    return Status::Invalid("resourceType '" + std::string(type) + "' does not match the URL's type '" +
                               std::string(expected_type) + "'",
                           path.empty() ? std::string(type) + ".resourceType" : path + ".resourceType");
  }
  return Status::Ok();
}

Status CheckResource(const json::Value& resource, std::string_view expected_type) {
  EHR_RETURN_IF_ERROR(CheckResourceType(resource, expected_type, ""));
  return fhir::ValidateResource(resource);
}

Result<json::Value> PrepareResource(std::string_view body, std::string_view expected_type) {
  if (body.empty()) return Status::Invalid("The request has no body; a resource was expected", "", "required");
  EHR_ASSIGN_OR_RETURN(json::Value resource, json::Parse(body));
  EHR_RETURN_IF_ERROR(CheckResource(resource, expected_type));
  return resource;
}

std::optional<int64_t> ParseVersionTag(std::string_view etag) {
  if (etag.substr(0, 2) == "W/") etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  if (etag.empty() || etag.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : etag) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string VersionTag(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

namespace {

// The width of a FormatInstant() result, which PreStamp leaves room for.
constexpr std::string_view kInstantPlaceholder = "0000-00-00T00:00:00.000Z";

void PlaceMeta(json::Value& resource, const std::string& id, int64_t version, std::string instant) {
  json::Value type(std::string(resource.GetString("resourceType")));
  resource.Remove("resourceType");
  resource.SetAt(0, "resourceType", std::move(type));
  resource.Remove("id");
  resource.SetAt(1, "id", json::Value(id));
  json::Value meta = json::Value::MakeObject();
  if (json::Value* old = resource.Find("meta"); old && old->is_object()) meta = std::move(*old);
  resource.Remove("meta");
  meta.Remove("versionId");
  meta.Remove("lastUpdated");
  meta.SetAt(0, "versionId", json::Value(std::to_string(version)));
  meta.SetAt(1, "lastUpdated", json::Value(std::move(instant)));
  resource.SetAt(2, "meta", std::move(meta));
}

}  // namespace

std::string StampResource(json::Value& resource, const std::string& id, int64_t version, Micros last_updated) {
  PlaceMeta(resource, id, version, FormatInstant(last_updated));
  return json::Write(resource);
}

// The text between the versionId and the lastUpdated values (PlaceMeta writes them together).
constexpr std::string_view kBetweenStamps = "\",\"lastUpdated\":\"";

std::string BodyVersion(const json::Value& resource) {
  const json::Value* meta = resource.Find("meta");
  return meta ? std::string(meta->GetString("versionId")) : std::string();
}

PreStamped PreStamp(json::Value& resource, const std::string& id, std::string_view tenant,
                    const search::IdentifierBlinder& blinder) {
  PreStamped out;
  out.body_version = BodyVersion(resource);
  out.index = IndexRowsOf(resource, tenant, blinder, &out.sensitive);
  PlaceMeta(resource, id, 0, std::string(kInstantPlaceholder));
  std::string text = json::Write(resource);
  // resourceType and id cannot contain this key, so its first occurrence is meta's.
  constexpr std::string_view kKey = "\"versionId\":\"";
  size_t at = text.find(kKey) + kKey.size();
  out.head = text.substr(0, at);
  out.tail = text.substr(at + 1 + kBetweenStamps.size() + kInstantPlaceholder.size());
  return out;
}

std::string PreStamped::Body(int64_t version, Micros last_updated) const {
  std::string version_text = std::to_string(version);
  std::string instant = FormatInstant(last_updated);
  std::string body;
  body.reserve(head.size() + version_text.size() + kBetweenStamps.size() + instant.size() + tail.size());
  body.append(head).append(version_text).append(kBetweenStamps).append(instant).append(tail);
  return body;
}

store::NewVersion TxnOps::VersionOf(const std::string& type, const std::string& id, int64_t version,
                                    const char* method) {
  store::NewVersion v;
  v.tenant = tenant_;
  v.type = type;
  v.id = id;
  v.version = version;
  v.last_updated = txn_.Now();
  v.method = method;
  return v;
}

Result<WriteResult> TxnOps::PutVersion(store::NewVersion v, int status) {
  if (write_guard_) {
    EHR_RETURN_IF_ERROR(write_guard_(v, [&] { return txn_.ReadCurrent(tenant_, v.type, v.id); }));
  }
  std::optional<store::VersionRecord> deleted;
  if (audit_ && v.deleted) {  // whose record it was: the version it deletes says
    EHR_ASSIGN_OR_RETURN(deleted, txn_.ReadCurrent(tenant_, v.type, v.id));
  }
  EHR_RETURN_IF_ERROR(all_or_nothing_ ? txn_.PutLater(v) : txn_.Put(v));
  if (audit_) EHR_RETURN_IF_ERROR(audit_(txn_, v, deleted ? &*deleted : nullptr));
  if (std::find(written_types_.begin(), written_types_.end(), v.type) == written_types_.end()) {
    written_types_.push_back(v.type);
  }
  WriteResult r;
  r.status = status;
  r.created = status == 201;
  r.record = store::VersionRecord{std::move(v.type), std::move(v.id), v.version, v.last_updated, v.deleted,
                                  std::move(v.method), std::move(v.body), 0};
  return r;
}

Result<WriteResult> TxnOps::Store(const std::string& type, const std::string& id, json::Value resource,
                                  int64_t version, const char* method, int status) {
  store::NewVersion v = VersionOf(type, id, version, method);
  v.index = IndexRowsOf(resource, tenant_, blinder_, &v.sensitive);
  v.body = StampResource(resource, id, version, v.last_updated);
  return PutVersion(std::move(v), status);
}

Result<std::vector<std::string>> TxnOps::Match(const std::string& type, const std::string& criteria,
                                               std::string_view context, int limit) {
  bool consent_hid = false;  // whether the caller's consents hid anything of the search
  const SearchFn search = [&](const store::SearchQuery& q) -> Result<store::SearchPage> {
    if (!guard_) return txn_.Search(q);
    store::SearchQuery guarded = q;
    EHR_RETURN_IF_ERROR(guard_(guarded));
    consent_hid = consent_hid || !guarded.hidden.empty();
    return txn_.Search(guarded);
  };
  EHR_ASSIGN_OR_RETURN(std::vector<std::string> ids, FindMatches(tenant_, type, criteria, context, search, limit, blinder_));
  if (!consent_hid || static_cast<int>(ids.size()) >= limit) return ids;
  // A match that a consent hides is not an absent one: a conditional write must not create
  // a second resource beside it (or miss the one it updates). Refused instead.
  const SearchFn unhidden = [&](const store::SearchQuery& q) -> Result<store::SearchPage> {
    store::SearchQuery guarded = q;
    EHR_RETURN_IF_ERROR(guard_(guarded));
    guarded.hidden.clear();
    return txn_.Search(guarded);
  };
  EHR_ASSIGN_OR_RETURN(std::vector<std::string> all, FindMatches(tenant_, type, criteria, context, unhidden, limit, blinder_));
  if (all.size() > ids.size()) {
    return Status::Forbidden(std::string(context) +
                             ": a resource matching the criteria is withheld by a patient's consent; in an emergency, "
                             "declare one with the X-Break-Glass header");
  }
  return ids;
}

SearchFn TxnOps::Search() {
  return [this](const store::SearchQuery& q) -> Result<store::SearchPage> {
    if (!guard_) return txn_.Search(q);
    store::SearchQuery guarded = q;
    EHR_RETURN_IF_ERROR(guard_(guarded));
    return txn_.Search(guarded);
  };
}

Result<std::optional<WriteResult>> TxnOps::MatchExisting(const std::string& type, const std::string& if_none_exist) {
  if (if_none_exist.empty()) return std::optional<WriteResult>();
  EHR_ASSIGN_OR_RETURN(auto ids, Match(type, if_none_exist, "If-None-Exist"));
  if (ids.size() > 1) return Status::PreconditionFailed("If-None-Exist criteria match more than one resource");
  if (ids.empty()) return std::optional<WriteResult>();
  EHR_ASSIGN_OR_RETURN(auto current, txn_.ReadCurrent(tenant_, type, ids[0]));
  if (!current) return Status::Internal("Matched resource vanished");
  WriteResult r;
  r.status = 200;
  r.matched_existing = true;
  r.record = std::move(*current);
  return std::optional<WriteResult>(std::move(r));
}

Result<WriteResult> TxnOps::Create(const std::string& type, json::Value resource, const std::string& if_none_exist,
                                   std::string id) {
  EHR_ASSIGN_OR_RETURN(auto existing, MatchExisting(type, if_none_exist));
  if (existing) return std::move(*existing);
  if (id.empty()) id = NewUuid();
  return Store(type, id, std::move(resource), 1, "POST", 201);
}

Result<WriteResult> TxnOps::Create(const std::string& type, PreStamped body, const std::string& if_none_exist,
                                   const std::string& id) {
  EHR_ASSIGN_OR_RETURN(auto existing, MatchExisting(type, if_none_exist));
  if (existing) return std::move(*existing);
  store::NewVersion v = VersionOf(type, id, 1, "POST");
  v.index = std::move(body.index);
  v.sensitive = body.sensitive;
  v.body = body.Body(1, v.last_updated);
  return PutVersion(std::move(v), 201);
}

Status CheckUpdateId(const std::string& type, const std::string& id, const json::Value& resource) {
  std::string_view body_id = resource.GetString("id");
  if (body_id.empty()) {
    return Status::Invalid("The resource must have an id equal to the id in the URL", type + ".id", "required");
  }
  if (body_id != id) {
    return Status::Invalid("The id in the resource ('" + std::string(body_id) + "') does not match the URL", type + ".id");
  }
  if (!IsValidFhirId(id)) return Status::Invalid("Invalid resource id in the URL", type + ".id");
  return Status::Ok();
}

Result<std::pair<int64_t, int>> TxnOps::NextVersion(const std::string& type, const std::string& id,
                                                    std::optional<int64_t> if_match, std::string_view body_version) {
  EHR_ASSIGN_OR_RETURN(auto current, txn_.ReadCurrent(tenant_, type, id));
  // The version is the server's to assign: a body that names another than the current one
  // was read before someone else's change (a lost update if it were accepted).
  if (!body_version.empty() && current && !current->deleted && body_version != std::to_string(current->version)) {
    return Status(Code::kConflict, Issue{"error", "conflict",
                                         "meta.versionId " + std::string(body_version) +
                                             " is not the current version (" + std::to_string(current->version) +
                                             "): read the resource again and apply the change to it",
                                         type + ".meta.versionId"});
  }
  if (if_match) {
    if (!current || current->deleted) {
      return Status::PreconditionFailed("If-Match given but the resource does not exist");
    }
    if (current->version != *if_match) {
      return Status::PreconditionFailed("Version conflict: If-Match " + std::to_string(*if_match) +
                                        " but the current version is " + std::to_string(current->version));
    }
  }
  int64_t version = current ? current->version + 1 : 1;
  int status = (!current || current->deleted) ? 201 : 200;
  return std::make_pair(version, status);
}

Result<WriteResult> TxnOps::Update(const std::string& type, const std::string& id, json::Value resource,
                                   std::optional<int64_t> if_match, const char* method) {
  EHR_RETURN_IF_ERROR(CheckUpdateId(type, id, resource));
  EHR_ASSIGN_OR_RETURN(auto next, NextVersion(type, id, if_match, BodyVersion(resource)));
  return Store(type, id, std::move(resource), next.first, method, next.second);
}

Result<WriteResult> TxnOps::Update(const std::string& type, const std::string& id, PreStamped body,
                                   std::optional<int64_t> if_match) {
  EHR_ASSIGN_OR_RETURN(auto next, NextVersion(type, id, if_match, body.body_version));
  store::NewVersion v = VersionOf(type, id, next.first, "PUT");
  v.index = std::move(body.index);
  v.sensitive = body.sensitive;
  v.body = body.Body(next.first, v.last_updated);
  return PutVersion(std::move(v), next.second);
}

Result<WriteResult> TxnOps::ConditionalUpdate(const std::string& type, const std::string& criteria,
                                              json::Value resource, std::optional<int64_t> if_match) {
  EHR_ASSIGN_OR_RETURN(auto ids, Match(type, criteria, "conditional update"));
  if (ids.size() > 1) return Status::PreconditionFailed("Conditional update criteria match more than one resource");
  std::string_view body_id = resource.GetString("id");
  if (ids.empty()) {
    std::string id = body_id.empty() ? NewUuid() : std::string(body_id);
    if (!body_id.empty()) return Update(type, id, std::move(resource), if_match);
    resource.SetAt(1, "id", json::Value(id));
    return Update(type, id, std::move(resource), if_match);
  }
  if (!body_id.empty() && body_id != ids[0]) {
    return Status::Invalid("The id in the resource does not match the resource found by the criteria", type + ".id");
  }
  resource.SetAt(1, "id", json::Value(ids[0]));
  return Update(type, ids[0], std::move(resource), if_match);
}

Result<WriteResult> TxnOps::Delete(const std::string& type, const std::string& id, std::optional<int64_t> if_match) {
  EHR_ASSIGN_OR_RETURN(auto current, txn_.ReadCurrent(tenant_, type, id));
  if (!current) return Status::NotFound("Resource " + type + "/" + id + " is not known");
  if (if_match && (current->deleted || current->version != *if_match)) {
    return Status::PreconditionFailed("Version conflict on delete");
  }
  if (current->deleted) {  // deleting twice changes nothing
    WriteResult r;
    r.status = 204;
    r.record = std::move(*current);
    return r;
  }
  store::NewVersion v = VersionOf(type, id, current->version + 1, "DELETE");
  v.deleted = true;
  return PutVersion(std::move(v), 204);
}

Result<WriteResult> TxnOps::ConditionalDelete(const std::string& type, const std::string& criteria) {
  EHR_ASSIGN_OR_RETURN(auto ids, Match(type, criteria, "conditional delete"));
  if (ids.size() > 1) return Status::PreconditionFailed("Conditional delete criteria match more than one resource");
  if (ids.empty()) {
    WriteResult r;
    r.status = 204;  // nothing matched: nothing to do
    return r;
  }
  return Delete(type, ids[0], std::nullopt);
}

Result<WriteResult> TxnOps::Patch(const std::string& type, const std::string& id, const json::Value& patch,
                                  std::optional<int64_t> if_match) {
  EHR_ASSIGN_OR_RETURN(auto current, txn_.ReadCurrent(tenant_, type, id));
  if (!current) return Status::NotFound("Resource " + type + "/" + id + " is not known");
  if (current->deleted) return Status::Gone("Resource " + type + "/" + id + " was deleted");
  if (if_match && current->version != *if_match) {
    return Status::PreconditionFailed("Version conflict: If-Match " + std::to_string(*if_match) +
                                      " but the current version is " + std::to_string(current->version));
  }
  EHR_ASSIGN_OR_RETURN(json::Value resource, json::Parse(current->body));
  EHR_RETURN_IF_ERROR(fhir::ApplyJsonPatch(resource, patch));
  if (resource.GetString("resourceType") != type || resource.GetString("id") != id) {
    return Status::Unprocessable("A patch may not change resourceType or id");
  }
  EHR_RETURN_IF_ERROR(CheckResource(resource, type));
  return Store(type, id, std::move(resource), current->version + 1, "PATCH", 200);
}

}  // namespace ehr::api
