#include "store/postgres/pg_store.h"

#include <algorithm>
#include <exception>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.h"
#include "store/connection_pool.h"
#include "store/group_commit.h"
#include "store/body_cipher.h"
#include "store/postgres/audit_log.h"
#include "store/postgres/key_tables.h"
#include "store/postgres/pg.h"
#include "store/postgres/queries.h"
#include "store/postgres/reader.h"
#include "store/postgres/replicas.h"
#include "store/postgres/schema.h"
#include "store/postgres/search.h"
#include "store/txn_clock.h"

namespace ehr::store {
namespace {

using pg::Connection;
using pg::Param;

using pg::Reader;
using ReaderPool = ConnectionPool<Reader>;

// What the writer's transaction holds across the jobs of a batch.
//
// A job's savepoint is made when the job first needs the database (PgWriteTxn::Begin):
// a job that only appends to the audit log (every read is audited) runs without one. The
// savepoint of the job that made the last one stays open until the next one is made; the
// job has ended, so it is only ever released. The audit entries of the jobs that succeed
// are inserted together when the batch commits (or before a job reads the log back).
struct BatchState {
  std::string tenant;                 // the transaction's ehr.tenant ('' when unset)
  std::set<std::string> tenants;      // written by the jobs that succeeded
  Micros newest = 0;                  // the newest transaction time handed out
  bool savepoint_open = false;        // a savepoint "job" is open
  pg::AuditBuffer audit;              // entries of the jobs that succeeded, not yet inserted
  pg::AuditEdge* edge = nullptr;      // the store's, kept across batches
  BodyCipher* cipher = nullptr;
  std::set<std::string>* key_memo = nullptr;  // data keys the transaction holds (body_cipher.h)
};

class PgWriteTxn final : public WriteTxn {
 public:
  PgWriteTxn(Connection& c, TxnClock& clock, BatchState& batch) : c_(c), clock_(clock), batch_(batch) {}

  // A statement that failed aborts PostgreSQL's transaction up to the job's savepoint: the
  // job cannot go on, and its result is that failure whatever it returns.
  const Status& failure() const { return failure_; }
  const std::set<std::string>& written() const { return written_; }
  bool has_savepoint() const { return own_savepoint_; }
  bool took_batch_audit() const { return took_batch_audit_; }
  pg::AuditBuffer& audit() { return audit_; }

  // Before the job's first statement: its savepoint.
  Status Begin() {
    if (!failure_.ok()) return failure_;
    if (own_savepoint_) return Status::Ok();
    // Sent without waiting: they go with the job's first statement that returns rows.
    if (batch_.savepoint_open) EHR_RETURN_IF_ERROR(c_.Send("RELEASE SAVEPOINT job"));
    EHR_RETURN_IF_ERROR(c_.Send("SAVEPOINT job"));
    own_savepoint_ = batch_.savepoint_open = true;
    return Status::Ok();
  }

  Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                   std::string_view id) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    std::optional<VersionRecord> r;
    if (auto it = prefetched_.find(Key(tenant, type, id)); it != prefetched_.end()) {
      r = std::move(it->second);  // read once: the job's update of it follows
      prefetched_.erase(it);
    } else {
      EHR_ASSIGN_OR_RETURN(r, Checked(pg::ReadCurrent(c_, tenant, type, id)));
    }
    if (r && !r->deleted) EHR_RETURN_IF_ERROR(Opened(tenant, BodyAad(tenant, r->type, r->id, r->version), r->body));
    return r;
  }
  Status Prefetch(std::string_view tenant, const std::vector<std::pair<std::string, std::string>>& keys) override {
    if (keys.size() < 2) return Status::Ok();  // no round trip to save
    EHR_RETURN_IF_ERROR(Enter(tenant));
    EHR_ASSIGN_OR_RETURN(std::vector<VersionRecord> found, Checked(pg::ReadCurrentMany(c_, tenant, keys)));
    for (const auto& [type, id] : keys) prefetched_[Key(tenant, type, id)] = std::nullopt;
    for (VersionRecord& r : found) {
      std::string key = Key(tenant, r.type, r.id);
      prefetched_[std::move(key)] = std::move(r);
    }
    return Status::Ok();
  }
  Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) override {
    EHR_RETURN_IF_ERROR(FlushIndex());  // the lookup sees this job's own writes
    EHR_RETURN_IF_ERROR(Enter(q.tenant));
    return Checked(pg::FindIdsByToken(c_, q));
  }
  Result<SearchPage> Search(const SearchQuery& q) override {
    EHR_RETURN_IF_ERROR(FlushIndex());  // the search sees this job's own writes
    EHR_RETURN_IF_ERROR(Enter(q.tenant));
    EHR_ASSIGN_OR_RETURN(SearchPage page, Checked(pg::Search(c_, q, Now())));
    pg::DataKeys keys(c_, batch_.key_memo);
    EHR_RETURN_IF_ERROR(Checked(OpenPage(*batch_.cipher, keys, q.tenant, page)));
    return page;
  }
  Status Put(const NewVersion& v) override { return Write(v, false); }
  Status PutLater(const NewVersion& v) override { return Write(v, true); }
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant, std::string_view key) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    EHR_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> r, Checked(pg::GetIdempotency(c_, tenant, key)));
    if (r) EHR_RETURN_IF_ERROR(Opened(tenant, IdempotencyAad(tenant, key), r->body));
    return r;
  }
  Status PutIdempotency(std::string_view tenant, std::string_view key, const IdempotencyRecord& r) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    IdempotencyRecord sealed = r;
    if (batch_.cipher->seals_all()) {
      pg::DataKeys keys(c_, batch_.key_memo);
      EHR_ASSIGN_OR_RETURN(sealed.body, Checked(batch_.cipher->Seal(keys, tenant, IdempotencyAad(tenant, key), r.body, true)));
    }
    Status st = Checked(pg::PutIdempotency(c_, tenant, key, sealed));
    if (st.ok()) written_.insert(std::string(tenant));
    return st;
  }
  Status ReplaceIndex(std::string_view tenant, std::string_view type, std::string_view id,
                      const IndexRows& rows) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    return Checked(pg::ReplaceIndexRows(c_, tenant, type, id, rows, index_));
  }
  // The detail (patient, resources, query) is sealed whenever the store has keys: a query
  // may name a sensitive identifier.
  Result<uint64_t> AppendAudit(const AuditAppend& e) override {
    if (!failure_.ok()) return failure_;
    if (!batch_.cipher->enabled() || e.detail.empty()) return pg::BufferAudit(*batch_.edge, e, audit_);
    // Sealing may have to make the tenant's data key: a statement, in the job's savepoint.
    AuditAppend sealed = e;
    pg::DataKeys keys(c_, batch_.key_memo, [this, &e] { return Enter(e.tenant); });
    EHR_ASSIGN_OR_RETURN(sealed.detail,
                         Checked(batch_.cipher->Seal(keys, e.tenant, AuditDetailAad(e.tenant, e.core), e.detail, true)));
    return pg::BufferAudit(*batch_.edge, sealed, audit_);
  }
  // Archiving reads the log: what this batch appended goes in first.
  Status ArchiveAudit(const AuditSegment& segment, uint64_t erased) override {
    EHR_RETURN_IF_ERROR(FlushAllAudit());
    return Checked(pg::ArchiveAudit(c_, segment, erased));
  }
  Status SetAuditSegmentDigest(uint64_t first, std::string_view sha256) override {
    EHR_RETURN_IF_ERROR(Begin());
    return Checked(pg::SetAuditSegmentDigest(c_, first, sha256));
  }
  Micros Now() override {
    if (!now_) {
      now_ = clock_.Next();
      batch_.newest = std::max(batch_.newest, *now_);
    }
    return *now_;
  }

  // For the store's own maintenance jobs (re-encryption) that go tenant by tenant.
  Status EnterTenant(std::string_view tenant) { return Enter(tenant); }
  // Writes the job's buffered index rows (before it searches, and when it ends), after
  // the rows of the versions sent without waiting have come.
  Status FlushIndex() {
    if (!failure_.ok()) return failure_;
    if (sent_puts_) {
      sent_puts_ = false;
      EHR_RETURN_IF_ERROR(Checked(c_.Sync()));
    }
    if (index_.empty()) return Status::Ok();
    return Checked(index_.Flush(c_, [this](std::string_view tenant) { return Enter(tenant); }));
  }

 private:
  // A new version, its body sealed when it must be; sent without waiting when `later`.
  Status Write(const NewVersion& v, bool later) {
    EHR_RETURN_IF_ERROR(Enter(v.tenant));
    prefetched_.erase(Key(v.tenant, v.type, v.id));  // read from the database from now on
    std::string sealed;
    const bool seals = !v.deleted && (batch_.cipher->seals_all() || (batch_.cipher->enabled() && v.sensitive));
    if (seals) {
      pg::DataKeys keys(c_, batch_.key_memo);
      EHR_ASSIGN_OR_RETURN(sealed, Checked(batch_.cipher->Seal(keys, v.tenant, BodyAad(v.tenant, v.type, v.id, v.version),
                                                               v.body, v.sensitive)));
    }
    const std::string_view body = seals ? std::string_view(sealed) : std::string_view(v.body);
    Status st = later ? Checked(pg::SendPut(c_, v, body, index_)) : Checked(pg::Put(c_, v, body, index_));
    if (st.ok()) written_.insert(v.tenant);
    sent_puts_ = sent_puts_ || (later && st.ok());
    return st;
  }
  Status Opened(std::string_view tenant, const std::string& aad, std::string& body) {
    pg::DataKeys keys(c_, batch_.key_memo);
    return Checked(batch_.cipher->Open(keys, tenant, aad, body));
  }
  // The entries of the batch's earlier jobs and this job's, inserted now, inside its
  // savepoint: if the job then fails, the batch fails with it (RunJob).
  Status FlushAllAudit() {
    EHR_RETURN_IF_ERROR(Begin());
    took_batch_audit_ = true;
    batch_.audit.Take(audit_);
    return Checked(pg::FlushAudit(c_, batch_.audit));
  }
  Status Enter(std::string_view tenant) {
    EHR_RETURN_IF_ERROR(Begin());
    if (tenant.empty()) return Status::Internal("storage: a tenant is required");
    if (batch_.tenant == tenant) return Status::Ok();
    EHR_RETURN_IF_ERROR(Checked(c_.Run("SELECT set_config('ehr.tenant', $1, true)", {tenant}).status()));
    batch_.tenant = tenant;
    return Status::Ok();
  }
  template <typename T>
  T Checked(T result) {
    if (failure_.ok() && c_.failed_transaction()) {
      failure_ = result.ok() ? Status::Internal("storage: the transaction failed") : StatusOf(result);
    }
    return result;
  }
  static Status StatusOf(const Status& s) { return s; }
  template <typename V>
  static Status StatusOf(const Result<V>& r) {
    return r.status();
  }

  Connection& c_;
  TxnClock& clock_;
  BatchState& batch_;
  std::optional<Micros> now_;
  pg::IndexBuffer index_;
  pg::AuditBuffer audit_;       // this job's entries
  bool own_savepoint_ = false;  // Begin() made this job's savepoint
  bool took_batch_audit_ = false;  // inserted the entries of earlier jobs (FlushAllAudit)
  bool sent_puts_ = false;  // PutLater sent versions whose rows may not have come yet
  // Prefetch: current versions (or their absence) not read yet, by Key; bodies as stored.
  std::unordered_map<std::string, std::optional<VersionRecord>> prefetched_;
  static std::string Key(std::string_view tenant, std::string_view type, std::string_view id) {
    std::string key;
    key.reserve(tenant.size() + type.size() + id.size() + 2);
    key.append(tenant).push_back('\0');
    key.append(type).push_back('\0');
    key.append(id);
    return key;
  }
  Status failure_;
  std::set<std::string> written_;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresOptions& options, std::unique_ptr<Connection> writer, Micros last_write)
      : options_(options),
        writer_(std::move(writer)),
        txn_clock_(options.clock != nullptr ? *options.clock : Clock::System(), last_write),
        cipher_(options.kek, options.encrypt_bodies) {}

  ~PostgresStore() override { group_.Stop(); }

  ReaderPool& readers() { return readers_; }
  pg::Replicas& replicas() { return replicas_; }
  void Start() { group_.Start(); }

  Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                   std::string_view id) override {
    return Routed(tenant, [&](Connection& c) -> Result<std::optional<VersionRecord>> {
      EHR_ASSIGN_OR_RETURN(std::optional<VersionRecord> r, pg::ReadCurrent(c, tenant, type, id));
      if (r) EHR_RETURN_IF_ERROR(OpenRecord(c, tenant, *r));
      return r;
    });
  }
  Result<std::optional<VersionRecord>> ReadVersion(std::string_view tenant, std::string_view type,
                                                   std::string_view id, int64_t version) override {
    return Routed(tenant, [&](Connection& c) -> Result<std::optional<VersionRecord>> {
      EHR_ASSIGN_OR_RETURN(std::optional<VersionRecord> r, pg::ReadVersion(c, tenant, type, id, version));
      if (r) EHR_RETURN_IF_ERROR(OpenRecord(c, tenant, *r));
      return r;
    });
  }
  Result<HistoryPage> History(const HistoryQuery& q) override {
    return Routed(q.tenant, [&](Connection& c) -> Result<HistoryPage> {
      EHR_ASSIGN_OR_RETURN(HistoryPage page, pg::History(c, q));
      for (VersionRecord& r : page.entries) EHR_RETURN_IF_ERROR(OpenRecord(c, q.tenant, r));
      return page;
    });
  }
  Result<std::vector<VersionRecord>> VersionsAfter(std::string_view tenant, std::string_view type, int64_t after_seq,
                                                   int limit) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
    EHR_ASSIGN_OR_RETURN(std::vector<VersionRecord> out, pg::VersionsAfter(*c, tenant, type, after_seq, limit));
    for (VersionRecord& r : out) EHR_RETURN_IF_ERROR(OpenRecord(*c, tenant, r));
    return out;
  }
  Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) override {
    return Routed(q.tenant, [&](Connection& c) { return pg::FindIdsByToken(c, q); });
  }
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant, std::string_view key) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
    EHR_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> r, pg::GetIdempotency(*c, tenant, key));
    if (r) {
      pg::DataKeys keys(*c, nullptr);
      EHR_RETURN_IF_ERROR(cipher_.Open(keys, tenant, IdempotencyAad(tenant, key), r->body));
    }
    return r;
  }
  Result<int64_t> CountCurrent(std::string_view tenant, std::string_view type) override {
    return Routed(tenant, [&](Connection& c) { return pg::CountCurrent(c, tenant, type); });
  }
  Result<SearchPage> Search(const SearchQuery& q) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(q.tenant));
    const Clock& clock = options_.clock != nullptr ? *options_.clock : Clock::System();
    EHR_ASSIGN_OR_RETURN(SearchPage page, pg::Search(*c, q, clock.Now()));
    pg::DataKeys keys(*c, nullptr);
    EHR_RETURN_IF_ERROR(OpenPage(cipher_, keys, q.tenant, page));
    return page;
  }

  // Tenant by tenant (row-level security shows one at a time), each in write order.
  Status ForEachCurrent(const std::function<Status(const std::string& tenant, VersionRecord&& rec)>& fn) override {
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
    for (const std::string& tenant : tenants) {
      int64_t after = 0;
      while (true) {
        std::vector<VersionRecord> page;
        {
          auto lease = readers_.Acquire();  // released between pages: fn may write
          EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
          EHR_ASSIGN_OR_RETURN(page, pg::ScanCurrent(*c, tenant, after, 500));
          for (VersionRecord& r : page) EHR_RETURN_IF_ERROR(OpenRecord(*c, tenant, r));
        }
        if (page.empty()) break;
        for (VersionRecord& rec : page) {
          after = rec.seq;
          EHR_RETURN_IF_ERROR(fn(tenant, std::move(rec)));
        }
      }
    }
    return Status::Ok();
  }

  // The audit log is one tree over every tenant (schema.cc, migration 3).
  Result<std::vector<AuditRow>> AuditSearch(const AuditQuery& q) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    EHR_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, pg::AuditSearch(*c, q));
    pg::DataKeys keys(*c, nullptr);
    for (AuditRow& r : rows) {
      if (r.detail) EHR_RETURN_IF_ERROR(cipher_.Open(keys, r.tenant, AuditDetailAad(r.tenant, r.core), *r.detail));
    }
    return rows;
  }
  Result<std::vector<AuditRow>> AuditRange(uint64_t from, int count) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    // For verification: a detail that does not decrypt (altered, or moved to another entry)
    // is returned as stored, so that the check of the core's digest names the entry.
    EHR_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, pg::AuditRange(*c, from, count));
    pg::DataKeys keys(*c, nullptr);
    for (AuditRow& r : rows) {
      if (!r.detail) continue;
      std::string detail = *r.detail;
      if (cipher_.Open(keys, r.tenant, AuditDetailAad(r.tenant, r.core), detail).ok()) r.detail = std::move(detail);
    }
    return rows;
  }
  Result<uint64_t> AuditSize() override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::AuditSize(*c);
  }
  Result<std::string> AuditNode(int level, uint64_t index) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::AuditNode(*c, level, index);
  }
  Result<std::optional<AuditHead>> LatestAuditHead() override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    EHR_ASSIGN_OR_RETURN(std::vector<AuditHead> heads, pg::AuditHeads(*c, true));
    if (heads.empty()) return std::optional<AuditHead>();
    return std::optional<AuditHead>(std::move(heads.front()));
  }
  Result<std::vector<AuditHead>> AuditHeads() override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::AuditHeads(*c, false);
  }
  Status PutAuditHead(const AuditHead& head) override {
    return Write([this, &head](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      return pg::PutAuditHead(*writer_, head);
    });
  }
  // Tenant by tenant (row-level security shows one at a time), in one write.
  Result<int64_t> ExpireIdempotency(Micros created_before, int limit) override {
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
    int64_t expired = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
      expired = 0;
      for (const std::string& tenant : tenants) {
        if (expired >= limit) break;
        EHR_RETURN_IF_ERROR(Entering(txn)(tenant));
        EHR_ASSIGN_OR_RETURN(int64_t n, pg::ExpireIdempotency(*writer_, tenant, created_before,
                                                              limit - static_cast<int>(expired)));
        expired += n;
      }
      return Status::Ok();
    }));
    return expired;
  }
  Result<int64_t> EraseAuditDetail(std::string_view tenant, std::string_view patient) override {
    int64_t erased = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      EHR_ASSIGN_OR_RETURN(erased, pg::EraseAuditDetail(*writer_, tenant, patient));
      return Status::Ok();
    }));
    return erased;
  }
  Result<std::vector<AuditSegment>> AuditSegments() override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::AuditSegments(*c);
  }

  Status Write(std::function<Status(WriteTxn&)> fn) override { return group_.Write(std::move(fn)); }
  void WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) override {
    group_.WriteAsync(std::move(fn), std::move(done));
  }

  Status Ready() override {
    {
      auto lease = readers_.Acquire();
      EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
      EHR_RETURN_IF_ERROR(c->Run("SELECT 1").status());
    }
    return Write([](WriteTxn&) { return Status::Ok(); });
  }

  // Envelope encryption (store/body_cipher.h; key_tables.h).
  Result<std::vector<KeyUse>> KeyUsage() override {
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::KeyUsage(*c, tenants, [&](std::string_view tenant) { return lease->For(tenant).status(); });
  }
  Result<std::vector<DataKeyRetirement>> RetireDataKeys(Micros superseded_before) override {
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
    std::vector<DataKeyRetirement> out;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      EHR_ASSIGN_OR_RETURN(out, pg::RetireDataKeys(*writer_, tenants, Entering(txn), superseded_before));
      return Status::Ok();
    }));
    return out;
  }
  Result<std::vector<std::string>> KekIdsInUse() override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::KekIdsInUse(*c);
  }
  Status RefreshKeys() override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    pg::DataKeys keys(*c, nullptr);
    return cipher_.Refresh(keys);
  }
  Result<int> RotateDataKeys() override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    int rotated = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      EHR_ASSIGN_OR_RETURN(rotated, pg::RotateDataKeys(*writer_, *options_.kek));
      return Status::Ok();
    }));
    EHR_RETURN_IF_ERROR(RefreshKeys());
    return rotated;
  }
  Result<ReencryptStep> Reencrypt(int64_t after_seq, int limit) override {
    if (options_.kek == nullptr) return ReencryptStep{after_seq, 0, after_seq, true, false};
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
    ReencryptStep step;
    std::string fingerprint;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      pg::DataKeys keys(*writer_, &key_memo_);
      EHR_ASSIGN_OR_RETURN(step, pg::Reencrypt(*writer_, keys, cipher_, tenants, Entering(txn), after_seq, limit,
                                               fingerprint));
      return Status::Ok();
    }));
    if (!step.done || step.unchanged) return step;
    // The bodies are done: then the responses kept for idempotency keys, in transactions of
    // `limit` (writes go on in between), and only then the mark of a complete pass.
    pg::IdempotencyCursor cursor;
    for (int seen = limit; seen >= limit;) {
      EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
        EHR_RETURN_IF_ERROR(Begun(txn));
        pg::DataKeys keys(*writer_, &key_memo_);
        EHR_ASSIGN_OR_RETURN(seen, pg::ReencryptIdempotency(*writer_, keys, cipher_, tenants, Entering(txn), cursor,
                                                            limit, step.rewritten));
        return Status::Ok();
      }));
    }
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      return pg::WriteReencryptMark(*writer_, fingerprint, step.max_seq);
    }));
    return step;
  }
  Result<std::string> Secret(std::string_view name, size_t size) override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    return FindOrMakeSecret(*this, name, size);
  }
  Status ImportSecret(std::string_view name, std::string_view bytes) override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    return Write([&](WriteTxn& txn) -> Status {
      EHR_RETURN_IF_ERROR(Begun(txn));
      return pg::InsertSecret(*writer_, *options_.kek, name, bytes);
    });
  }
  Result<std::optional<std::string>> FindSecret(std::string_view name) override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::ReadSecret(*c, *options_.kek, name);
  }

 private:
  using Job = GroupCommit::Job;

  // A record's body made plain (a deleted version has none).
  Status OpenRecord(Connection& c, std::string_view tenant, VersionRecord& r) {
    if (r.deleted) return Status::Ok();
    pg::DataKeys keys(c, nullptr);
    return cipher_.Open(keys, tenant, BodyAad(tenant, r.type, r.id, r.version), r.body);
  }
  // A maintenance job that runs statements on writer_ itself: its savepoint first.
  static Status Begun(WriteTxn& txn) { return static_cast<PgWriteTxn&>(txn).Begin(); }
  // The writer's tenant, as a maintenance job inside Write() moves from tenant to tenant.
  static pg::EnterTenant Entering(WriteTxn& txn) {
    return [&txn](std::string_view tenant) { return static_cast<PgWriteTxn&>(txn).EnterTenant(tenant); };
  }

  // A read a replica that has replayed every acknowledged write may serve (replicas.h);
  // else, or when the replica fails it (lost, or a query cancelled by recovery), the primary.
  template <typename F>
  auto Routed(std::string_view tenant, F&& read) -> decltype(read(std::declval<Connection&>())) {
    if (auto lease = replicas_.CaughtUp()) {
      auto c = (*lease)->For(tenant);
      if (c.ok()) {
        auto out = read(**c);
        const Code code = out.ok() ? Code::kOk : out.status().code();
        if (code != Code::kUnavailable && code != Code::kConflict) {
          replicas_.Counted();
          return out;
        }
      }
      replicas_.Failed(*lease);
    }
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
    return read(*c);
  }

  Result<std::vector<std::string>> Tenants() {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    EHR_ASSIGN_OR_RETURN(pg::Rows rows, c->Run("SELECT name FROM tenant ORDER BY name"));
    std::vector<std::string> out;
    for (int i = 0; i < rows.size(); ++i) out.push_back(rows.String(i, 0));
    return out;
  }

  // Runs every job of the batch in one transaction, each in its own savepoint, and commits
  // once; true when it committed. A job's result is its own status, or kUnavailable when
  // the shared transaction could not be committed (jobs that failed on their own keep
  // their error).
  bool RunBatch(const std::vector<Job*>& batch) {
    Connection& c = *writer_;
    auto fail_all = [&](const Status& why, size_t from) {
      for (size_t j = 0; j < batch.size(); ++j) {
        if (j >= from || batch[j]->result.ok()) batch[j]->result = why;
      }
      return false;
    };
    if (!c.healthy()) {
      if (Status st = c.Reconnect(); !st.ok()) return fail_all(st, 0);
    }
    // Statements between jobs cost no round trip of their own: a job's savepoint, and the
    // release of the one before, go with its first statement (PgWriteTxn::Begin), the last
    // release with the commit. The audit log's lock is taken with BEGIN, and the writer's edge of its tree made
    // current when another writer has appended since (audit_log.h).
    Status begun = [&]() -> Status {
      EHR_ASSIGN_OR_RETURN(uint64_t stored, pg::BeginAppending(c));
      if (edge_.valid && edge_.size == stored) return Status::Ok();
      return pg::LoadAuditEdge(c, stored, edge_);
    }();
    if (!begun.ok()) {
      log::Warn("store.begin_failed", {{"backend", "postgres"}, {"jobs", static_cast<int64_t>(batch.size())}});
      (void)c.Exec("ROLLBACK");
      edge_.valid = false;
      return fail_all(Unavailable(begun), 0);
    }
    BatchState state;
    state.edge = &edge_;
    state.cipher = &cipher_;
    state.key_memo = &key_memo_;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (Status txn_failure = RunJob(c, *batch[i], state); !txn_failure.ok()) {
        // The shared transaction is unusable: earlier successes are not durable, later jobs never ran.
        log::Error("store.batch_aborted", {{"backend", "postgres"}, {"jobs", static_cast<int64_t>(batch.size())}});
        (void)c.Exec("ROLLBACK");
        edge_.valid = false;
        key_memo_.clear();
        return fail_all(Unavailable(txn_failure), i + 1);
      }
    }
    Status committed = Finalize(c, state);
    if (!committed.ok()) {
      log::Error("store.commit_failed", {{"backend", "postgres"}, {"jobs", static_cast<int64_t>(batch.size())}});
      (void)c.Exec("ROLLBACK");
      edge_.valid = false;
      key_memo_.clear();
      return fail_all(Unavailable(committed), batch.size());
    }
    known_tenants_.insert(state.tenants.begin(), state.tenants.end());
    if (!replicas_.empty()) {
      // Where the primary's WAL is now, past this commit: replicas serve once they are there.
      auto lsn = c.Run("SELECT pg_current_wal_insert_lsn()::text");
      replicas_.Wrote(lsn.ok() && lsn->size() == 1 ? std::optional<uint64_t>(pg::ParseLsn(lsn->Text(0, 0)))
                                                   : std::nullopt);
    }
    return true;
  }

  static Status Unavailable(const Status& why) {
    return why.code() == Code::kUnavailable ? why : Status::Unavailable("storage: write transaction abandoned");
  }

  // The end of the last job's savepoint and the commit, with what goes before it: the
  // buffered audit entries, tenants seen for the first time, and the newest transaction time.
  Status Finalize(Connection& c, BatchState& state) {
    EHR_RETURN_IF_ERROR(pg::FlushAudit(c, state.audit));
    std::vector<std::string_view> fresh;
    for (const std::string& t : state.tenants) {
      if (!known_tenants_.contains(t)) fresh.push_back(t);
    }
    if (!fresh.empty()) {
      EHR_RETURN_IF_ERROR(c.Run("INSERT INTO tenant (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                                {pg::ArrayLiteral(fresh)})
                              .status());
    }
    std::string sql = state.savepoint_open ? "RELEASE SAVEPOINT job; " : "";
    // A number the store made, not a value from a request: written into the SQL as it is.
    if (state.newest > 0) {
      sql += "UPDATE store_clock SET last_write = greatest(last_write, " + std::to_string(state.newest) + "); ";
    }
    return c.Exec(sql + "COMMIT");
  }

  // Runs one job inside its savepoint (begun by the caller), leaving its status in
  // job.result. Returns an error only when the enclosing transaction can no longer be used.
  Status RunJob(Connection& c, Job& job, BatchState& state) {
    const std::string tenant_before = state.tenant;
    const Micros newest_before = state.newest;
    const pg::AuditEdge edge_before = edge_;
    PgWriteTxn txn(c, txn_clock_, state);
    try {
      job.result = job.fn(txn);
    } catch (const std::exception&) {
      job.result = Status::Internal("storage: the write function threw an exception");
    } catch (...) {
      job.result = Status::Internal("storage: the write function threw an exception");
    }
    if (job.result.ok()) job.result = txn.FlushIndex();
    // What the job sent and has not seen the end of (its index rows): one round trip.
    if (Status synced = c.Sync(); job.result.ok()) job.result = synced;
    if (job.result.ok() && !txn.failure().ok()) job.result = txn.failure();
    if (job.result.ok() && c.failed_transaction()) job.result = Status::Internal("storage: the transaction failed");
    if (!job.result.ok() && txn.took_batch_audit()) {
      return Status::Unavailable("storage: a job that read the audit log back failed");  // with the batch's entries
    }
    if (!job.result.ok()) {
      state.tenant = tenant_before;  // the setting rolls back with the savepoint
      state.newest = newest_before;
      edge_ = edge_before;  // the job's audit entries are gone with it, and its data keys
      key_memo_.clear();
      // Without a savepoint the job ran no statement, and wrote nothing.
      return txn.has_savepoint() ? c.Exec("ROLLBACK TO SAVEPOINT job") : Status::Ok();
    }
    state.audit.Take(txn.audit());
    state.tenants.insert(txn.written().begin(), txn.written().end());
    return Status::Ok();
  }

  const PostgresOptions options_;
  std::unique_ptr<Connection> writer_;  // writer thread only (and construction/destruction)
  TxnClock txn_clock_;                  // writer thread only
  std::set<std::string> known_tenants_; // writer thread only: in the tenant table
  pg::AuditEdge edge_;                  // writer thread only
  std::set<std::string> key_memo_;      // writer thread only: data keys its transaction holds
  BodyCipher cipher_;
  ReaderPool readers_;
  pg::Replicas replicas_;
  GroupCommit group_{options_.max_batch, [this](const std::vector<Job*>& batch) { return RunBatch(batch); }};
};

Status CheckRole(Connection& c) {
  EHR_ASSIGN_OR_RETURN(pg::Rows role, c.Query("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"));
  if (role.size() != 1 || role.Bool(0, 0)) {
    return Status::Invalid("postgres: the server's role is a superuser or bypasses row-level security; "
                           "give it a role of its own (see store/postgres/README.md)");
  }
  return Status::Ok();
}

}  // namespace

int64_t ReplicaReadsOf(Store& store) {
  auto* pg = dynamic_cast<PostgresStore*>(&store);
  return pg != nullptr ? pg->replicas().reads() : 0;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  if (options.conninfo.empty()) return Status::Invalid("postgres: no connection string configured");
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(options.conninfo));
  EHR_RETURN_IF_ERROR(CheckRole(*writer));
  if (!options.migrate_conninfo.empty()) {
    EHR_ASSIGN_OR_RETURN(pg::Rows role, writer->Query("SELECT current_user"));
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> owner, Connection::Open(options.migrate_conninfo));
    EHR_RETURN_IF_ERROR(pg::Migrate(*owner, role.String(0, 0)).status());
  }
  auto version = writer->Query("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!version.ok() || version->Int(0, 0) != pg::kSchemaVersion) {
    return Status::Invalid("postgres: the database schema is not at version " + std::to_string(pg::kSchemaVersion) +
                           "; migrate it as the database owner first");
  }
  EHR_ASSIGN_OR_RETURN(pg::Rows clock, writer->Query("SELECT last_write FROM store_clock"));
  const Micros last_write = clock.size() == 1 ? clock.Int(0, 0) : 0;

  auto store = std::make_unique<PostgresStore>(options, std::move(writer), last_write);
  for (int i = 0; i < std::max(options.readers, 1); ++i) {
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, Connection::Open(options.conninfo));
    store->readers().Add(std::make_unique<Reader>(Reader{std::move(reader), {}}));
  }
  for (const std::string& replica : options.replicas) {
    EHR_RETURN_IF_ERROR(store->replicas().Add(replica, std::max(options.readers, 1)));
  }
  store->Start();
  log::Info("store.opened", {{"backend", "postgres"}, {"readers", std::max(options.readers, 1)}});
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace ehr::store
