// The FHIR interactions that change data, run inside one store write transaction, plus the
// preparation of an incoming resource (parse, type check, validation) done before it.
// Shared by the REST routes and by batch/transaction Bundles so both behave the same.
#pragma once

#include <optional>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "fhir/json/value.h"
#include "api/criteria.h"
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

// An update's body id must equal the id in the URL, itself a valid id.
Status CheckUpdateId(const std::string& type, const std::string& id, const json::Value& resource);

// Parses an ETag / If-Match value: W/"3" or "3". nullopt when malformed.
std::optional<int64_t> ParseVersionTag(std::string_view etag);
std::string VersionTag(int64_t version);  // W/"3"

// A resource serialised and indexed ahead of its transaction (on the thread that parsed it,
// not the single writer), all but meta.versionId and meta.lastUpdated, which only the commit
// knows: Body() fills them in.
struct PreStamped {
  std::string head;  // ... "meta":{"versionId":"
  std::string tail;  // after the lastUpdated instant: "...
  store::IndexRows index;
  bool sensitive = false;    // holds a sensitive identifier (NewVersion::sensitive)
  std::string body_version;  // meta.versionId as the client sent it (empty: none)
  std::string Body(int64_t version, Micros last_updated) const;
};
// Indexed for `tenant` (IndexRowsOf: sensitive identifiers blinded with `blinder`).
PreStamped PreStamp(json::Value& resource, const std::string& id, std::string_view tenant,
                    const search::IdentifierBlinder& blinder);

// The current version a write replaces (nullopt: none), read only when asked for.
using OldVersionFn = std::function<Result<std::optional<store::VersionRecord>>()>;
// The authorize step of each version written (FhirService: api/reach.cc).
using WriteGuard = std::function<Status(const store::NewVersion&, const OldVersionFn&)>;
// Records each version written in the audit log, in the same transaction, after the put
// (FhirService: api/audit_record.cc). `deleted`: for a deletion, the version it deletes
// (whose record it was in); nullptr otherwise.
using WriteAudit =
    std::function<Status(store::WriteTxn&, const store::NewVersion&, const store::VersionRecord* deleted)>;

class TxnOps {
 public:
  // `guard` (when set) must allow each query before the transaction runs it, and
  // `write_guard` each version before it is written. `blinder` (which must outlive this)
  // blinds the sensitive identifiers of the index rows written and of the criteria matched.
  TxnOps(store::WriteTxn& txn, std::string tenant, const search::IdentifierBlinder& blinder,
         SearchGuard guard = nullptr, WriteGuard write_guard = nullptr)
      : txn_(txn),
        tenant_(std::move(tenant)),
        blinder_(blinder),
        guard_(std::move(guard)),
        write_guard_(std::move(write_guard)) {}
  // The transaction's own search, through the guard.
  SearchFn Search();

  // POST. `if_none_exist` is a query string (may be empty). `id` is the id to use (a new
  // UUID when empty).
  Result<WriteResult> Create(const std::string& type, json::Value resource, const std::string& if_none_exist,
                             std::string id = {});
  // POST of a resource prepared with PreStamp, under the id it was stamped with.
  Result<WriteResult> Create(const std::string& type, PreStamped body, const std::string& if_none_exist,
                             const std::string& id);
  // PUT Type/id (update or update-as-create). The body's id must equal `id`.
  Result<WriteResult> Update(const std::string& type, const std::string& id, json::Value resource,
                             std::optional<int64_t> if_match, const char* method = "PUT");
  // The same for a resource prepared with PreStamp (whose id CheckUpdateId accepted).
  Result<WriteResult> Update(const std::string& type, const std::string& id, PreStamped body,
                             std::optional<int64_t> if_match);
  // PUT Type?criteria.
  Result<WriteResult> ConditionalUpdate(const std::string& type, const std::string& criteria, json::Value resource,
                                        std::optional<int64_t> if_match);
  Result<WriteResult> Delete(const std::string& type, const std::string& id, std::optional<int64_t> if_match);
  Result<WriteResult> ConditionalDelete(const std::string& type, const std::string& criteria);
  // PATCH Type/id with a JSON Patch document.
  Result<WriteResult> Patch(const std::string& type, const std::string& id, const json::Value& patch,
                            std::optional<int64_t> if_match);
  // Resolves criteria to ids of current resources (at most `limit`).
  Result<std::vector<std::string>> Match(const std::string& type, const std::string& criteria,
                                         std::string_view context, int limit = 2);
  void set_audit(WriteAudit audit) { audit_ = std::move(audit); }
  // For a job that fails as a whole on any failure (a transaction Bundle): versions are
  // written with WriteTxn::PutLater, whose failure may be reported by a later call.
  void set_all_or_nothing(bool on) { all_or_nothing_ = on; }
  store::WriteTxn& txn() { return txn_; }
  const std::string& tenant() const { return tenant_; }
  // The types of the versions written so far (once each).
  const std::vector<std::string>& written_types() const { return written_types_; }

 private:
  Result<WriteResult> Store(const std::string& type, const std::string& id, json::Value resource, int64_t version,
                            const char* method, int status);
  // A new version of type/id stamped with this transaction's time; body and tokens unset.
  store::NewVersion VersionOf(const std::string& type, const std::string& id, int64_t version, const char* method);
  // If-None-Exist: the existing match, if any (an error if several).
  Result<std::optional<WriteResult>> MatchExisting(const std::string& type, const std::string& if_none_exist);
  // The current version's number checked against If-Match: the version to write (1 when new)
  // and the status (201 when created).
  // `body_version`: meta.versionId of the body, which must be the current version's when
  // there is one (409 otherwise).
  Result<std::pair<int64_t, int>> NextVersion(const std::string& type, const std::string& id,
                                              std::optional<int64_t> if_match, std::string_view body_version = {});
  // Puts `v` and describes the result with HTTP status `status`.
  Result<WriteResult> PutVersion(store::NewVersion v, int status);

  store::WriteTxn& txn_;
  std::string tenant_;
  const search::IdentifierBlinder& blinder_;
  SearchGuard guard_;
  WriteGuard write_guard_;
  WriteAudit audit_;
  bool all_or_nothing_ = false;
  std::vector<std::string> written_types_;
};

// Sets id and meta.versionId/meta.lastUpdated (keeping the client's other meta) and returns
// the canonical JSON bytes: resourceType, id, meta (versionId, lastUpdated, the rest), then
// the other elements in the client's order.
std::string StampResource(json::Value& resource, const std::string& id, int64_t version, Micros last_updated);


}  // namespace ehr::api
