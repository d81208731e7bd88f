// The FHIR interactions that change data, run inside one store write transaction, plus the
// preparation of an incoming resource (parse, type check, validation) done before it.
// Shared by the REST routes and by batch/transaction Bundles so both behave the same.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "fhir/json/value.h"
#include "store/store.h"

namespace ehr::api {

struct WriteResult {
  int status = 200;               // 200 updated, 201 created, 204 deleted / nothing to delete
  store::VersionRecord record;    // the resulting (or, for a matched conditional create, existing) version
  bool created = false;
  bool matched_existing = false;  // If-None-Exist found a match: nothing was written
};

// Parses `body` as a resource of `expected_type` (empty: any known type) and validates it.
// Errors are 400s with the location of the problem.
Result<json::Value> PrepareResource(std::string_view body, std::string_view expected_type);
// The same checks for an already parsed resource.
Status CheckResource(const json::Value& resource, std::string_view expected_type);
// Only that `resource` is an object of a known type, `expected_type` when given (`path`
// locates it in issues). Bundle entries use this: the Bundle is validated as a whole.
Status CheckResourceType(const json::Value& resource, std::string_view expected_type, const std::string& path);

// Parses an ETag / If-Match value: W/"3" or "3". nullopt when malformed.
std::optional<int64_t> ParseVersionTag(std::string_view etag);
std::string VersionTag(int64_t version);  // W/"3"

// A resource serialised ahead of its transaction, all but meta.lastUpdated, which only the
// commit knows: the stored body is head + instant + tail.
struct PreStamped {
  std::string head;
  std::string tail;
  store::IndexRows index;
};
PreStamped PreStamp(json::Value& resource, const std::string& id, int64_t version);

class TxnOps {
 public:
  TxnOps(store::WriteTxn& txn, std::string tenant) : txn_(txn), tenant_(std::move(tenant)) {}

  // POST. `if_none_exist` is a query string (may be empty). `id` is the id to use (a new
  // UUID when empty).
  Result<WriteResult> Create(const std::string& type, json::Value resource, const std::string& if_none_exist,
                             std::string id = {});
  // PUT Type/id (update or update-as-create). The body's id must equal `id`.
  Result<WriteResult> Update(const std::string& type, const std::string& id, json::Value resource,
                             std::optional<int64_t> if_match, const char* method = "PUT");
  // PUT Type?criteria.
  Result<WriteResult> ConditionalUpdate(const std::string& type, const std::string& criteria, json::Value resource,
                                        std::optional<int64_t> if_match);
  Result<WriteResult> Delete(const std::string& type, const std::string& id, std::optional<int64_t> if_match);
  Result<WriteResult> ConditionalDelete(const std::string& type, const std::string& criteria);
  // POST of a resource prepared with PreStamp under the new id `id` (version 1).
  Result<WriteResult> CreatePreStamped(const std::string& type, const std::string& id, const PreStamped& body);
  // PATCH Type/id with a JSON Patch document.
  Result<WriteResult> Patch(const std::string& type, const std::string& id, const json::Value& patch,
                            std::optional<int64_t> if_match);
  // Resolves criteria to ids of current resources (at most `limit`).
  Result<std::vector<std::string>> Match(const std::string& type, const std::string& criteria,
                                         std::string_view context, int limit = 2);
  store::WriteTxn& txn() { return txn_; }
  const std::string& tenant() const { return tenant_; }

 private:
  Result<WriteResult> Store(const std::string& type, const std::string& id, json::Value resource, int64_t version,
                            const char* method, int status);
  // A new version of type/id stamped with this transaction's time; body and tokens unset.
  store::NewVersion VersionOf(const std::string& type, const std::string& id, int64_t version, const char* method);
  // Puts `v` and describes the result with HTTP status `status`.
  Result<WriteResult> PutVersion(store::NewVersion v, int status);

  store::WriteTxn& txn_;
  std::string tenant_;
};

// Sets id and meta.versionId/meta.lastUpdated (keeping the client's other meta) and returns
// the canonical JSON bytes: resourceType, id, meta (versionId, lastUpdated, the rest), then
// the other elements in the client's order.
std::string StampResource(json::Value& resource, const std::string& id, int64_t version, Micros last_updated);


}  // namespace ehr::api
