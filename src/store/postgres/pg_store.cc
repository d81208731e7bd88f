#include "store/postgres/pg_store.h"

#include <algorithm>
#include <exception>
#include <set>
#include <utility>
#include <vector>

#include "core/log.h"
#include "store/connection_pool.h"
#include "store/group_commit.h"
#include "store/postgres/audit_log.h"
#include "store/postgres/pg.h"
#include "store/postgres/queries.h"
#include "store/postgres/reader.h"
#include "store/postgres/replicas.h"
#include "store/postgres/schema.h"
#include "store/txn_clock.h"

namespace ehr::store {
namespace {

using pg::Connection;
using pg::Param;

Status NotYet(std::string_view what) {
  return Status::Unavailable("storage: " + std::string(what) + " is not yet available on PostgreSQL");
}

using pg::Reader;
using ReaderPool = ConnectionPool<Reader>;

// What the writer's transaction holds across the jobs of a batch.
struct BatchState {
  std::string tenant;                 // the transaction's ehr.tenant ('' when unset)
  std::set<std::string> tenants;      // written by the jobs that succeeded
  Micros newest = 0;                  // the newest transaction time handed out
  pg::AuditEdge* edge = nullptr;      // the store's, kept across batches
};

class PgWriteTxn final : public WriteTxn {
 public:
  PgWriteTxn(Connection& c, TxnClock& clock, BatchState& batch) : c_(c), clock_(clock), batch_(batch) {}

  // A statement that failed aborts PostgreSQL's transaction up to the job's savepoint: the
  // job cannot go on, and its result is that failure whatever it returns.
  const Status& failure() const { return failure_; }
  const std::set<std::string>& written() const { return written_; }

  Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                   std::string_view id) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    return Checked(pg::ReadCurrent(c_, tenant, type, id));
  }
  Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) override {
    EHR_RETURN_IF_ERROR(Enter(q.tenant));
    return Checked(pg::FindIdsByToken(c_, q));
  }
  Result<SearchPage> Search(const SearchQuery&) override { return NotYet("search"); }
  Status Put(const NewVersion& v) override {
    EHR_RETURN_IF_ERROR(Enter(v.tenant));
    Status st = Checked(pg::Put(c_, v));
    if (st.ok()) written_.insert(v.tenant);
    return st;
  }
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant, std::string_view key) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    return Checked(pg::GetIdempotency(c_, tenant, key));
  }
  Status PutIdempotency(std::string_view tenant, std::string_view key, const IdempotencyRecord& r) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    Status st = Checked(pg::PutIdempotency(c_, tenant, key, r));
    if (st.ok()) written_.insert(std::string(tenant));
    return st;
  }
  Status ReplaceIndex(std::string_view tenant, std::string_view type, std::string_view id,
                      const IndexRows& rows) override {
    EHR_RETURN_IF_ERROR(Enter(tenant));
    return Checked(pg::ReplaceIndexRows(c_, tenant, type, id, rows));
  }
  Result<uint64_t> AppendAudit(const AuditAppend& e) override {
    if (!failure_.ok()) return failure_;
    return Checked(pg::AppendAudit(c_, *batch_.edge, e));
  }
  Status ArchiveAudit(const AuditSegment& segment, uint64_t erased) override {
    if (!failure_.ok()) return failure_;
    return Checked(pg::ArchiveAudit(c_, segment, erased));
  }
  Status SetAuditSegmentDigest(uint64_t first, std::string_view sha256) override {
    if (!failure_.ok()) return failure_;
    return Checked(pg::SetAuditSegmentDigest(c_, first, sha256));
  }
  Micros Now() override {
    if (!now_) {
      now_ = clock_.Next();
      batch_.newest = std::max(batch_.newest, *now_);
    }
    return *now_;
  }

 private:
  Status Enter(std::string_view tenant) {
    if (!failure_.ok()) return failure_;
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
  Status failure_;
  std::set<std::string> written_;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresOptions& options, std::unique_ptr<Connection> writer, Micros last_write)
      : options_(options),
        writer_(std::move(writer)),
        txn_clock_(options.clock != nullptr ? *options.clock : Clock::System(), last_write) {}

  ~PostgresStore() override { group_.Stop(); }

  ReaderPool& readers() { return readers_; }
  pg::Replicas& replicas() { return replicas_; }
  void Start() { group_.Start(); }

  Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                   std::string_view id) override {
    return Routed(tenant, [&](Connection& c) { return pg::ReadCurrent(c, tenant, type, id); });
  }
  Result<std::optional<VersionRecord>> ReadVersion(std::string_view tenant, std::string_view type,
                                                   std::string_view id, int64_t version) override {
    return Routed(tenant, [&](Connection& c) { return pg::ReadVersion(c, tenant, type, id, version); });
  }
  Result<HistoryPage> History(const HistoryQuery& q) override {
    return Routed(q.tenant, [&](Connection& c) { return pg::History(c, q); });
  }
  Result<std::vector<VersionRecord>> VersionsAfter(std::string_view tenant, std::string_view type, int64_t after_seq,
                                                   int limit) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
    return pg::VersionsAfter(*c, tenant, type, after_seq, limit);
  }
  Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) override {
    return Routed(q.tenant, [&](Connection& c) { return pg::FindIdsByToken(c, q); });
  }
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant, std::string_view key) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
    return pg::GetIdempotency(*c, tenant, key);
  }
  Result<int64_t> CountCurrent(std::string_view tenant, std::string_view type) override {
    return Routed(tenant, [&](Connection& c) { return pg::CountCurrent(c, tenant, type); });
  }
  Result<SearchPage> Search(const SearchQuery&) override { return NotYet("search"); }

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
    return pg::AuditSearch(*c, q);
  }
  Result<std::vector<AuditRow>> AuditRange(uint64_t from, int count) override {
    auto lease = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(Connection * c, lease->Shared());
    return pg::AuditRange(*c, from, count);
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
    return Write([this, &head](WriteTxn&) { return pg::PutAuditHead(*writer_, head); });
  }
  Result<int64_t> EraseAuditDetail(std::string_view tenant, std::string_view patient) override {
    int64_t erased = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
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

  // Without envelope encryption on PostgreSQL yet, every body is plain (key version 0).
  Result<std::vector<KeyUse>> KeyUsage() override {
    EHR_ASSIGN_OR_RETURN(std::vector<std::string> tenants, Tenants());
    std::vector<KeyUse> out;
    for (const std::string& tenant : tenants) {
      auto lease = readers_.Acquire();
      EHR_ASSIGN_OR_RETURN(Connection * c, lease->For(tenant));
      EHR_ASSIGN_OR_RETURN(pg::Rows rows, c->Run("SELECT count(*) FROM resource_version WHERE tenant = $1 AND NOT deleted",
                                                 {tenant}));
      if (rows.Int(0, 0) > 0) out.push_back(KeyUse{tenant, 0, rows.Int(0, 0)});
    }
    return out;
  }
  Status RefreshKeys() override { return Status::Ok(); }
  Result<int> RotateDataKeys() override { return NotYet("encryption at rest"); }
  Result<ReencryptStep> Reencrypt(int64_t after_seq, int) override {
    return ReencryptStep{after_seq, 0, after_seq, true, false};
  }
  Result<std::string> Secret(std::string_view, size_t) override { return NotYet("the key store"); }
  Status ImportSecret(std::string_view, std::string_view) override { return NotYet("the key store"); }
  Result<std::optional<std::string>> FindSecret(std::string_view) override { return NotYet("the key store"); }

 private:
  using Job = GroupCommit::Job;

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
    if (Status begun = c.Exec("BEGIN"); !begun.ok()) {
      log::Warn("store.begin_failed", {{"backend", "postgres"}, {"jobs", static_cast<int64_t>(batch.size())}});
      return fail_all(Unavailable(begun), 0);
    }
    BatchState state;
    state.edge = &edge_;
    for (size_t i = 0; i < batch.size(); ++i) {
      Status txn_failure = RunJob(c, *batch[i], state);
      if (!txn_failure.ok()) {
        // The shared transaction is unusable: earlier successes are not durable, later jobs never ran.
        log::Error("store.batch_aborted", {{"backend", "postgres"}, {"jobs", static_cast<int64_t>(batch.size())}});
        (void)c.Exec("ROLLBACK");
        edge_.valid = false;
        return fail_all(Unavailable(txn_failure), i + 1);
      }
    }
    Status committed = Finalize(c, state);
    if (committed.ok()) committed = c.Exec("COMMIT");
    if (!committed.ok()) {
      log::Error("store.commit_failed", {{"backend", "postgres"}, {"jobs", static_cast<int64_t>(batch.size())}});
      (void)c.Exec("ROLLBACK");
      edge_.valid = false;
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

  // Before the commit: tenants seen for the first time, and the newest transaction time.
  Status Finalize(Connection& c, const BatchState& state) {
    std::vector<std::string_view> fresh;
    for (const std::string& t : state.tenants) {
      if (!known_tenants_.contains(t)) fresh.push_back(t);
    }
    if (!fresh.empty()) {
      EHR_RETURN_IF_ERROR(c.Run("INSERT INTO tenant (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
                                {pg::ArrayLiteral(fresh)})
                              .status());
    }
    if (state.newest > 0) {
      EHR_RETURN_IF_ERROR(c.Run("UPDATE store_clock SET last_write = greatest(last_write, $1::bigint)",
                                {Param::Int(state.newest)})
                              .status());
    }
    return Status::Ok();
  }

  // Runs one job inside a savepoint, leaving its status in job.result. Returns an error
  // only when the enclosing transaction can no longer be used.
  Status RunJob(Connection& c, Job& job, BatchState& state) {
    EHR_RETURN_IF_ERROR(c.Exec("SAVEPOINT job"));
    const std::string tenant_before = state.tenant;
    const Micros newest_before = state.newest;
    PgWriteTxn txn(c, txn_clock_, state);
    try {
      job.result = job.fn(txn);
    } catch (const std::exception&) {
      job.result = Status::Internal("storage: the write function threw an exception");
    } catch (...) {
      job.result = Status::Internal("storage: the write function threw an exception");
    }
    if (job.result.ok() && !txn.failure().ok()) job.result = txn.failure();
    if (job.result.ok() && c.failed_transaction()) job.result = Status::Internal("storage: the transaction failed");
    if (!job.result.ok()) {
      state.tenant = tenant_before;  // the setting rolls back with the savepoint
      state.newest = newest_before;
      edge_.valid = false;  // the job's audit entries are gone with it
      EHR_RETURN_IF_ERROR(c.Exec("ROLLBACK TO SAVEPOINT job"));
    } else {
      state.tenants.insert(txn.written().begin(), txn.written().end());
    }
    return c.Exec("RELEASE SAVEPOINT job");
  }

  const PostgresOptions options_;
  std::unique_ptr<Connection> writer_;  // writer thread only (and construction/destruction)
  TxnClock txn_clock_;                  // writer thread only
  std::set<std::string> known_tenants_; // writer thread only: in the tenant table
  pg::AuditEdge edge_;                  // writer thread only
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
  // The writer's statements are the same few, with parameters: planned once, not per call
  // (a Put is one statement of seventeen parts).
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                       Connection::Open(options.conninfo, "SET plan_cache_mode = force_generic_plan"));
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
