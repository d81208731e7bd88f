// store::Store: the storage interface every backend implements (SQLite now, PostgreSQL later).
//
// Data model: every write of a resource creates a new version row (tenant, type, id,
// version); the newest version is the current one; a delete is a version with
// `deleted = true` and no body. Bodies are canonical JSON bytes, returned exactly as stored.
// Every table carries the tenant. Index rows (tokens for now; the search issue adds the
// other parameter types) belong to the current version and are replaced with it.
//
// Writes run through Write(): the function runs on the backend's single writer thread,
// inside a transaction shared with other concurrent writes (group commit), each function
// isolated by a savepoint, so a failing function rolls back only its own changes. Write()
// returns after the commit is durable (or with the error). Reads may be called from any
// thread concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/query.h"

namespace ehr::store {

struct VersionRecord {
  std::string type;
  std::string id;
  int64_t version = 0;
  Micros last_updated = 0;
  bool deleted = false;
  std::string method;  // the interaction that made this version: POST, PUT, PATCH, DELETE
  std::string body;    // canonical JSON; empty when deleted
  int64_t seq = 0;     // store-wide, strictly increasing write order (history cursor)
};

// Search index rows of one resource version, one struct per parameter type. `param` is
// the search parameter code ("identifier", "birthdate"). Rows are computed by
// search::Indexer from the R4 SearchParameter expressions and written in the same
// transaction as the version they describe; they belong to the current version only.
struct TokenRow {
  std::string param;
  std::string system;  // empty when the value has none
  std::string code;
  std::string text;    // display / CodeableConcept.text / Identifier.type.text, normalised (for :text); may be empty
};
struct StringRow {
  std::string param;
  std::string normalized;  // search::NormalizeString: case- and accent-folded, whitespace collapsed
  std::string exact;       // the value as written (for :exact)
};
// A date, dateTime, instant, Period or Timing as the range of instants it covers,
// inclusive, in microseconds since the Unix epoch (UTC). Open period ends use the
// smallest/largest int64.
struct DateRow {
  std::string param;
  Micros low = 0;
  Micros high = 0;
};
struct NumberRow {
  std::string param;
  double value = 0;
};
struct QuantityRow {
  std::string param;
  double value = 0;
  std::string system;          // may be empty
  std::string code;            // may be empty
  std::string unit;            // the human unit as written; may be empty
  // The value in UCUM canonical base units (ucum::ToCanonical) when system is UCUM and the
  // code parses; otherwise canonical_unit is empty.
  double canonical_value = 0;
  std::string canonical_unit;
};
struct ReferenceRow {
  std::string param;
  std::string target_type;  // "Patient" for "Patient/123" (also from absolute URLs ending in Type/id)
  std::string target_id;    // "123"
  std::string url;          // the reference as written when it is not a relative Type/id (absolute URL,
                            // urn:uuid:, canonical); empty otherwise
};
struct UriRow {
  std::string param;
  std::string uri;
};
// Composite parameters (R4 search 3.1.1.4.9) have no row type of their own. Every R4
// composite starts with a token that names what the other components describe (a code, a
// context type, a chromosome); its code and system are folded into the `param` of the rows,
// which are those of the remaining component in its own row type. `code-value-quantity` of
// an Observation coded http://loinc.org|8480-6 with a value of 120 mm[Hg] is a QuantityRow
// whose param is CompositeParam("code-value-quantity", "8480-6", "http://loinc.org"): one
// row per composite value, in the table that already compares quantities, so the backend
// reuses every comparison of the second component, and a search is one range of that
// table for one parameter key, like any other clause. (MolecularSequence coordinates, the
// only composites with two components after the token, both integers, are one DateRow:
// low the first, high the second.)
//
// The name is "<composite>$<code>|<system>" with '\' and '|' in the code escaped by '\', so
// that all systems of one code share the prefix CompositeCodePrefix(composite, code) and
// every value of the composite shares CompositePrefix(composite).
inline std::string CompositePrefix(std::string_view composite) { return std::string(composite) + "$"; }
inline std::string CompositeCodePrefix(std::string_view composite, std::string_view code) {
  std::string out = CompositePrefix(composite);
  for (char c : code) {
    if (c == '\\' || c == '|') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('|');
  return out;
}
inline std::string CompositeParam(std::string_view composite, std::string_view code, std::string_view system) {
  return CompositeCodePrefix(composite, code).append(system);
}
// The code and system of a CompositeParam name (after CompositePrefix); nullopt when it is not one.
struct CompositeToken {
  std::string code;
  std::string system;
};
inline std::optional<CompositeToken> ParseCompositeParam(std::string_view param) {
  const size_t dollar = param.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  CompositeToken token;
  for (size_t i = dollar + 1; i < param.size(); ++i) {
    if (param[i] == '\\' && i + 1 < param.size()) {
      token.code.push_back(param[++i]);
    } else if (param[i] == '|') {
      token.system = std::string(param.substr(i + 1));
      return token;
    } else {
      token.code.push_back(param[i]);
    }
  }
  return std::nullopt;
}

// Modifiers that search values other than the parameter's own have token rows of their own,
// under the name ModifierParam(param, modifier):
//   "<token param>:of-type"        an Identifier's type codings: system and code of the
//                                  coding, `text` the identifier's value (as written);
//   "<reference param>:identifier" Reference.identifier: system, and value as `code`.
inline std::string ModifierParam(std::string_view param, std::string_view modifier) {
  return std::string(param).append(":").append(modifier);
}

// Location `near` (the one special parameter of R4) has two number rows per position, the
// latitude and the longitude in decimal degrees (WGS84), under these names.
inline constexpr std::string_view kNearLatitude = "near:latitude";
inline constexpr std::string_view kNearLongitude = "near:longitude";

struct IndexRows {
  std::vector<StringRow> strings;
  std::vector<TokenRow> tokens;
  std::vector<DateRow> dates;
  std::vector<NumberRow> numbers;
  std::vector<QuantityRow> quantities;
  std::vector<ReferenceRow> references;
  std::vector<UriRow> uris;
  // Full text (_text and _content): the narrative without markup, and every string of the
  // resource (search/full_text.h). Empty when there is none.
  std::string narrative;
  std::string content;
};

struct NewVersion {
  std::string tenant;
  std::string type;
  std::string id;
  int64_t version = 1;
  Micros last_updated = 0;
  bool deleted = false;
  std::string method;
  std::string body;
  IndexRows index;  // replaces the resource's previous rows
  // The body holds a sensitive identifier (a national health id, social security or
  // insurance number: search/sensitive_ids.h). Such a body is stored encrypted even when
  // the encryption of bodies is off.
  bool sensitive = false;
};

struct HistoryQuery {
  std::string tenant;
  std::string type;  // empty: whole system
  std::string id;    // empty: whole type
  std::optional<Micros> since;  // only versions with last_updated >= since
  std::optional<int64_t> before_seq;  // keyset cursor: only versions with seq < before_seq
  int count = 50;
};

struct HistoryPage {
  std::vector<VersionRecord> entries;  // newest first (seq descending)
  bool more = false;                   // another page exists after the last entry
};

struct TokenQuery {
  std::string tenant;
  std::string type;
  std::string param;
  std::optional<std::string> system;  // nullopt: any system; "" : no system
  std::string code;
  int limit = 2;  // conditional operations only need to know 0, 1 or many
};

// A stored response for an Idempotency-Key (tenant-scoped).
struct IdempotencyRecord {
  std::string request_hash;
  int status = 0;
  std::string headers_json;  // JSON object of response headers to replay
  std::string body;
  Micros created = 0;
};

// The audit log (audit/README.md): entries appended in the transaction of the action they
// record, never updated or deleted (the database refuses it) save erasure and archiving
// (AuditSegment: old entries moved to a signed file), hashed into an RFC 6962
// Merkle tree. Entry n (from 0) is leaf n; its leaf hash is audit::LeafHash(core). `core`
// holds what the entry says without personal data, and a digest of `detail`, which holds
// the personal part (patient, resource, query) and is the one thing erasure may remove.
// The other columns repeat parts of `core` and `detail` for search.
struct AuditAppend {
  std::string tenant;
  Micros recorded = 0;
  std::string action;   // FHIR AuditEvent.action: C, R, U, D, E
  std::string agent;    // the user or client acting ('' when none)
  std::string patient;  // the patient whose record the action touched ('' when none)
  std::string core;
  std::string detail;
};
struct AuditRow {
  uint64_t index = 0;  // leaf index, from 0
  std::string tenant;
  Micros recorded = 0;
  std::string action;
  std::string agent;
  std::optional<std::string> patient;  // nullopt when none, or erased
  std::string core;
  std::optional<std::string> detail;   // nullopt once erased
  std::string leaf;                    // the leaf hash as stored
};
struct AuditQuery {
  std::string tenant;
  std::optional<std::string> patient;
  std::optional<std::string> agent;
  std::optional<std::string> action;
  std::optional<Micros> from;  // recorded >= from
  std::optional<Micros> to;    // recorded <= to
  std::optional<uint64_t> before;  // keyset cursor: index < before (newest first)
  int count = 50;
};
// What one data key version of a tenant seals (key_version 0: stored plain): resource
// bodies (live and historical), responses kept for idempotency keys, and audit entries'
// details (sealed when written and never rewritten: the log is append-only).
struct KeyUse {
  std::string tenant;
  uint32_t key_version = 0;
  int64_t bodies = 0;
  int64_t responses = 0;
  int64_t audit_details = 0;
  int64_t total() const { return bodies + responses + audit_details; }
};
// One data key version as `Store::RetireDataKeys` found it.
struct DataKeyRetirement {
  std::string tenant;
  uint32_t version = 0;
  bool retired = false;  // deleted
  // Why it is kept: the current version, a successor too recent (servers reread the
  // versions every few seconds, and may still be sealing with this one), or what it seals.
  std::string kept_because;
};
struct ReencryptStep {
  int64_t last_seq = 0;    // the last version looked at: the next step starts after it
  int64_t rewritten = 0;   // bodies re-encrypted in this step
  int64_t max_seq = 0;     // the newest version when the step ran (for progress)
  bool done = false;       // no version after last_seq
  bool unchanged = false;  // the keys are as at the last complete pass: nothing was looked at
};

// A signed tree head as published (audit/tree_head.h).
struct AuditHead {
  uint64_t size = 0;
  std::string root;
  uint64_t timestamp_ms = 0;
  std::string signature;
  std::string key_id;
};

// A segment of the audit log moved out of the store into a signed archive file
// (audit/archive.h): leaves [first, first + count), one complete subtree of the Merkle tree
// (count a power of two >= 2, first a multiple of it) ending before the newest entry. Its
// entries are deleted from the store; its subtrees stay, so that roots and proofs of the
// entries after it still work.
struct AuditSegment {
  uint64_t first = 0;
  uint64_t count = 0;
  std::string file;     // the file's name in the archive directory
  std::string sha256;   // of the file as last written (32 bytes)
  std::string subtree;  // the hash of complete subtree (log2(count), first / count)
  Micros archived_at = 0;
};

// Access to the database inside one write transaction. Only valid during the Write() call.
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;
  // Current version (possibly a deleted marker), as of this transaction's earlier writes.
  virtual Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                           std::string_view id) = 0;
  // A hint that ReadCurrent will be asked for these resources (type, id) of `tenant` (a
  // transaction Bundle's updates and deletions): a store whose reads cost a round trip
  // reads them together now. ReadCurrent answers as ever, this job's writes included.
  virtual Status Prefetch(std::string_view tenant, const std::vector<std::pair<std::string, std::string>>& keys) {
    (void)tenant;
    (void)keys;
    return Status::Ok();
  }
  virtual Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) = 0;
  // A search that sees this transaction's earlier writes (conditional operations).
  virtual Result<SearchPage> Search(const SearchQuery& q) = 0;
  // Inserts the version. kConflict when (tenant,type,id,version) exists already or the
  // current version is newer: versions only grow, so version, seq and lastUpdated orders agree.
  // Put is atomic by itself: a failed Put leaves nothing behind.
  virtual Status Put(const NewVersion& v) = 0;
  // Put, for a job that gives up on any failure (a transaction Bundle): its failure may
  // instead be returned by a later call of the job, or become the job's result when it
  // ends. The PostgreSQL store sends it without waiting, so that a Bundle's versions
  // cost one round trip together instead of one each.
  virtual Status PutLater(const NewVersion& v) { return Put(v); }
  virtual Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant,
                                                                  std::string_view key) = 0;
  // Records the response for `key`, replacing an earlier record of that key (the caller
  // decides, from the earlier record's age and request, whether it may be replaced).
  virtual Status PutIdempotency(std::string_view tenant, std::string_view key, const IdempotencyRecord& r) = 0;
  // Replaces the index rows of the current version of a resource (ehr reindex).
  virtual Status ReplaceIndex(std::string_view tenant, std::string_view type, std::string_view id,
                              const IndexRows& rows) = 0;
  // Appends an entry to the audit log; returns its index.
  virtual Result<uint64_t> AppendAudit(const AuditAppend& e) = 0;
  // Records an archived segment and deletes its entries (the only deletion the log
  // allows). kConflict when its entries are not all in the store, or when not exactly
  // `erased` of them have their detail erased (an erasure since the file was written).
  virtual Status ArchiveAudit(const AuditSegment& segment, uint64_t erased) = 0;
  // Records the new digest of the file of the segment starting at `first`, rewritten
  // by an erasure.
  virtual Status SetAuditSegmentDigest(uint64_t first, std::string_view sha256) = 0;
  // Timestamp of this transaction (from the store's clock); strictly increasing across
  // transactions so that versions of one resource are ordered by lastUpdated too. Repeated
  // calls within one Write() return the same value.
  virtual Micros Now() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                           std::string_view id) = 0;
  virtual Result<std::optional<VersionRecord>> ReadVersion(std::string_view tenant, std::string_view type,
                                                           std::string_view id, int64_t version) = 0;
  virtual Result<HistoryPage> History(const HistoryQuery& q) = 0;
  // Versions of one type with seq > `after_seq`, oldest first, at most `limit`: for
  // followers of the write log (federation/registrar.h registers Patients at the MPI).
  virtual Result<std::vector<VersionRecord>> VersionsAfter(std::string_view tenant, std::string_view type,
                                                           int64_t after_seq, int limit) = 0;
  virtual Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) = 0;
  virtual Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant,
                                                                  std::string_view key) = 0;
  // Number of current, non-deleted resources of `type` (all types when empty).
  virtual Result<int64_t> CountCurrent(std::string_view tenant, std::string_view type) = 0;
  // Deletes up to `limit` idempotency records (of any tenant) made before `created_before`,
  // oldest first, in one write; returns how many went. A kept response may hold personal
  // data: it is kept only as long as a retry may replay it (api/service.h).
  virtual Result<int64_t> ExpireIdempotency(Micros created_before, int limit) = 0;
  // Current, non-deleted resources matching the query, one page (see query.h).
  virtual Result<SearchPage> Search(const SearchQuery& q) = 0;
  // Calls `fn` with the current, non-deleted version of every resource of every tenant, in
  // write order, reading in pages (resources written meanwhile may or may not be seen).
  // Stops at the first error `fn` returns.
  virtual Status ForEachCurrent(const std::function<Status(const std::string& tenant, VersionRecord&& rec)>& fn) = 0;

  // The audit log (see AuditAppend). Entries matching the query, newest first.
  virtual Result<std::vector<AuditRow>> AuditSearch(const AuditQuery& q) = 0;
  // Entries [from, from + count) in log order, of every tenant (ehr audit verify, proofs).
  virtual Result<std::vector<AuditRow>> AuditRange(uint64_t from, int count) = 0;
  virtual Result<uint64_t> AuditSize() = 0;
  // The hash of complete subtree (level, index) of the log's Merkle tree (audit::NodeAt);
  // kNotFound when the log has not completed it.
  virtual Result<std::string> AuditNode(int level, uint64_t index) = 0;
  // Signed tree heads: the newest; all of them, oldest first; and a new one appended.
  virtual Result<std::optional<AuditHead>> LatestAuditHead() = 0;
  virtual Result<std::vector<AuditHead>> AuditHeads() = 0;
  virtual Status PutAuditHead(const AuditHead& head) = 0;
  // Erasure (GDPR art. 17): removes the patient and detail of every entry about `patient`;
  // the entries stay, and the tree with them. Returns how many entries changed.
  virtual Result<int64_t> EraseAuditDetail(std::string_view tenant, std::string_view patient) = 0;
  // Derived indexes of the log kept apart from its entries (SQLite's index by patient,
  // sqlite/audit_log.h) checked against them: what disagrees, at most `max` lines (none
  // for a backend whose indexes the database keeps itself). `ehr audit verify` reports them.
  virtual Result<std::vector<std::string>> VerifyAuditIndexes(size_t max) {
    (void)max;
    return std::vector<std::string>{};
  }
  // The archived segments of the log, by first leaf.
  virtual Result<std::vector<AuditSegment>> AuditSegments() = 0;

  // Runs `fn` in a write transaction (see file comment). `fn` must not block on other
  // writes (a Write() from inside fn returns kInternal). Returns fn's error (kInternal if
  // fn throws), or a commit failure (kUnavailable), or OK once durable.
  virtual Status Write(std::function<Status(WriteTxn&)> fn) = 0;
  // The same without waiting: `done` is called with what Write() would return, on a
  // store thread, once the write is durable or has failed; it must not block.
  virtual void WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) = 0;

  // OK when the store can serve reads and writes (for /readyz).
  virtual Status Ready() = 0;

  // Envelope encryption (keys/README.md). A store opened without key-encryption keys
  // keeps bodies as given and answers these with kUnavailable (Secret) or nothing to do.
  // What each tenant's key versions seal (KeyUse; 0: plain): the versions sealing anything.
  virtual Result<std::vector<KeyUse>> KeyUsage() = 0;
  // Retirement (`ehr keys retire`), in one write transaction: every data key version that
  // is not its tenant's newest, whose successor was made before `superseded_before`, and
  // that seals nothing any more (after re-encryption; audit details only once their entries
  // are archived or erased) is deleted. Every version, retired or why not.
  virtual Result<std::vector<DataKeyRetirement>> RetireDataKeys(Micros superseded_before) = 0;
  // The key-encryption key versions that wrap a data key or a secret here (keys/kek.h ids).
  virtual Result<std::vector<std::string>> KekIdsInUse() = 0;
  // Rereads the newest data key versions (another process may have rotated them).
  virtual Status RefreshKeys() = 0;
  // Rotation: a new data key version for every tenant that has one (current from now on),
  // and every data key and secret rewrapped under the current key-encryption key. Returns
  // how many tenants got a new version.
  virtual Result<int> RotateDataKeys() = 0;
  // One step of re-encryption: up to `limit` versions after `after_seq` whose bodies are
  // not under their tenant's newest key (or are plain while every body should be sealed)
  // are rewritten under it, in one write transaction. The last step (done) also moves the
  // responses kept for idempotency keys, `limit` to a transaction.
  virtual Result<ReencryptStep> Reencrypt(int64_t after_seq, int limit) = 0;
  // A named secret of `size` bytes from the key store: read, or made at random and stored
  // wrapped by the key-encryption key (the first writer wins when several make it at once).
  virtual Result<std::string> Secret(std::string_view name, size_t size) = 0;
  // Stores `bytes` as the secret `name` unless one of that name exists (moving a secret
  // kept elsewhere into the key store).
  virtual Status ImportSecret(std::string_view name, std::string_view bytes) = 0;
  // The secret `name` when the key store holds one (nothing is made).
  virtual Result<std::optional<std::string>> FindSecret(std::string_view name) = 0;
};

}  // namespace ehr::store
