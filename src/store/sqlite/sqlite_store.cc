#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/secrets.h"
#include "store/connection_pool.h"
#include "store/group_commit.h"
#include "store/txn_clock.h"
#include "store/sqlite/audit_archive.h"
#include "store/sqlite/audit_log.h"
#include "store/sqlite/body_cipher.h"
#include "store/sqlite/key_tables.h"
#include "store/sqlite/db.h"
#include "store/sqlite/queries.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/wal_sync.h"

namespace ehr::store {
namespace {

using sqlite::Connection;

// Applies the pragmas shared by every connection. Page cache sizes are per connection:
// the writer gets more because it also carries index pages for updates.
Status Configure(Connection& c, const SqliteOptions& o, bool writer) {
  std::string pragmas = "PRAGMA busy_timeout = " + std::to_string(std::max(o.busy_timeout_ms, 0)) + ";";
  pragmas += "PRAGMA temp_store = MEMORY;";
  pragmas += writer ? "PRAGMA cache_size = -65536;" : "PRAGMA cache_size = -16384;";  // KiB
  if (writer) {
    // NORMAL: COMMIT writes the WAL without syncing it (SQLite syncs it at checkpoints).
    // Durable stores sync it themselves before acknowledging, off the writer (wal_sync.h).
    pragmas += "PRAGMA synchronous = NORMAL;";
    // Keep the WAL from staying large after a burst.
    pragmas += "PRAGMA journal_size_limit = 67108864;";
  } else {
    pragmas += "PRAGMA query_only = 1;";
  }
  // Memory-mapped I/O stays off: an I/O error on a mapped page would be a SIGBUS instead
  // of an error we can turn into kUnavailable.
  return c.ExecScript(pragmas, "configure connection");
}

using ReaderPool = ConnectionPool<Connection>;

class SqliteWriteTxn final : public WriteTxn {
 public:
  SqliteWriteTxn(Connection& conn, TxnClock& clock, sqlite::BodyCipher& cipher)
      : conn_(conn), clock_(clock), cipher_(cipher) {}

  Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                   std::string_view id) override {
    EHR_ASSIGN_OR_RETURN(std::optional<VersionRecord> r, sqlite::ReadCurrent(conn_, tenant, type, id));
    if (r) EHR_RETURN_IF_ERROR(sqlite::OpenRecord(cipher_, conn_, tenant, *r));
    return r;
  }
  Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) override {
    return sqlite::FindIdsByToken(conn_, q);
  }
  Result<SearchPage> Search(const SearchQuery& q) override {
    EHR_RETURN_IF_ERROR(sqlite::FlushTextRows(conn_));  // the search sees this job's own writes
    sqlite::SearchOptions options;
    options.now = Now();
    EHR_ASSIGN_OR_RETURN(SearchPage page, sqlite::Search(conn_, q, options));
    EHR_RETURN_IF_ERROR(sqlite::OpenPage(cipher_, conn_, q.tenant, page));
    return page;
  }
  Status Put(const NewVersion& v) override {
    if (v.deleted || !cipher_.enabled()) return sqlite::Put(conn_, v, v.body);
    EHR_ASSIGN_OR_RETURN(std::string stored,
                         cipher_.Seal(conn_, v.tenant, sqlite::BodyAad(v.tenant, v.type, v.id, v.version), v.body,
                                      v.sensitive));
    return sqlite::Put(conn_, v, stored);
  }
  // The detail (patient, resources, query) is sealed whenever the store has keys: a query
  // may name a sensitive identifier.
  Result<uint64_t> AppendAudit(const AuditAppend& e) override {
    if (!cipher_.enabled() || e.detail.empty()) return sqlite::AppendAudit(conn_, e);
    AuditAppend sealed = e;
    EHR_ASSIGN_OR_RETURN(sealed.detail,
                         cipher_.Seal(conn_, e.tenant, sqlite::AuditDetailAad(e.tenant, e.core), e.detail, true));
    return sqlite::AppendAudit(conn_, sealed);
  }
  Status ArchiveAudit(const AuditSegment& segment, uint64_t erased) override {
    return sqlite::ArchiveAudit(conn_, segment, erased);
  }
  Status SetAuditSegmentDigest(uint64_t first, std::string_view sha256) override {
    return sqlite::SetAuditSegmentDigest(conn_, first, sha256);
  }
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant, std::string_view key) override {
    EHR_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> r, sqlite::GetIdempotency(conn_, tenant, key));
    if (r) EHR_RETURN_IF_ERROR(cipher_.Open(conn_, tenant, sqlite::IdempotencyAad(tenant, key), r->body));
    return r;
  }
  Status PutIdempotency(std::string_view tenant, std::string_view key, const IdempotencyRecord& r) override {
    if (!cipher_.seals_all()) return sqlite::PutIdempotency(conn_, tenant, key, r);
    IdempotencyRecord sealed = r;
    EHR_ASSIGN_OR_RETURN(sealed.body, cipher_.Seal(conn_, tenant, sqlite::IdempotencyAad(tenant, key), r.body, true));
    return sqlite::PutIdempotency(conn_, tenant, key, sealed);
  }
  Status ReplaceIndex(std::string_view tenant, std::string_view type, std::string_view id,
                      const IndexRows& rows) override {
    return sqlite::ReplaceIndexRows(conn_, tenant, type, id, rows);
  }
  // One timestamp per job, taken on first use.
  Micros Now() override {
    if (!now_) now_ = clock_.Next();
    return *now_;
  }

 private:
  Connection& conn_;
  TxnClock& clock_;
  sqlite::BodyCipher& cipher_;
  std::optional<Micros> now_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::unique_ptr<Connection> writer, Micros last_write)
      : options_(options),
        writer_conn_(std::move(writer)),
        txn_clock_(options.clock != nullptr ? *options.clock : Clock::System(), last_write),
        cipher_(options.kek, options.encrypt_bodies),
        wal_sync_(options.path) {}

  ~SqliteStore() override {
    // Queued writes still run, and are answered once synced: the syncer stops after them.
    group_.Stop();
    {
      std::lock_guard lock(sync_mu_);
      sync_stop_ = true;
    }
    sync_work_.notify_one();
    if (syncer_thread_.joinable()) syncer_thread_.join();
    checkpointer_.reset();  // before the writer connection it hooks into
    // Lets SQLite refresh planner statistics for tables that changed a lot.
    if (writer_conn_) (void)writer_conn_->ExecScript("PRAGMA optimize;", "optimize");
  }

  ReaderPool& readers() { return readers_; }
  void SetCheckpointer(std::unique_ptr<sqlite::Checkpointer> c) { checkpointer_ = std::move(c); }
  sqlite3* writer_handle() { return writer_conn_->raw(); }
  void Start() {
    group_.Start();
    if (options_.durable) syncer_thread_ = std::thread([this] { SyncLoop(); });
  }
  SqliteDurability Durability() {
    std::lock_guard lock(sync_mu_);
    return SqliteDurability{commits_, synced_};
  }

  Result<std::optional<VersionRecord>> ReadCurrent(std::string_view tenant, std::string_view type,
                                                   std::string_view id) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::optional<VersionRecord> r, sqlite::ReadCurrent(*conn, tenant, type, id));
    if (r) EHR_RETURN_IF_ERROR(sqlite::OpenRecord(cipher_, *conn, tenant, *r));
    return r;
  }
  Result<std::optional<VersionRecord>> ReadVersion(std::string_view tenant, std::string_view type,
                                                   std::string_view id, int64_t version) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::optional<VersionRecord> r, sqlite::ReadVersion(*conn, tenant, type, id, version));
    if (r) EHR_RETURN_IF_ERROR(sqlite::OpenRecord(cipher_, *conn, tenant, *r));
    return r;
  }
  Result<HistoryPage> History(const HistoryQuery& q) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(HistoryPage page, sqlite::History(*conn, q));
    for (VersionRecord& r : page.entries) EHR_RETURN_IF_ERROR(sqlite::OpenRecord(cipher_, *conn, q.tenant, r));
    return page;
  }
  Result<std::vector<VersionRecord>> VersionsAfter(std::string_view tenant, std::string_view type, int64_t after_seq,
                                                   int limit) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::vector<VersionRecord> out, sqlite::VersionsAfter(*conn, tenant, type, after_seq, limit));
    for (VersionRecord& r : out) EHR_RETURN_IF_ERROR(sqlite::OpenRecord(cipher_, *conn, tenant, r));
    return out;
  }
  Result<std::vector<std::string>> FindIdsByToken(const TokenQuery& q) override {
    auto conn = readers_.Acquire();
    return sqlite::FindIdsByToken(*conn, q);
  }
  Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view tenant, std::string_view key) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> r, sqlite::GetIdempotency(*conn, tenant, key));
    if (r) EHR_RETURN_IF_ERROR(cipher_.Open(*conn, tenant, sqlite::IdempotencyAad(tenant, key), r->body));
    return r;
  }
  Result<int64_t> CountCurrent(std::string_view tenant, std::string_view type) override {
    auto conn = readers_.Acquire();
    return sqlite::CountCurrent(*conn, tenant, type);
  }
  Status ForEachCurrent(const std::function<Status(const std::string& tenant, VersionRecord&& rec)>& fn) override {
    int64_t after = 0;
    while (true) {
      std::vector<std::pair<std::string, VersionRecord>> page;
      {
        auto conn = readers_.Acquire();  // released between pages: fn may write
        EHR_ASSIGN_OR_RETURN(page, sqlite::ScanCurrent(*conn, after, 500));
        for (auto& [tenant, rec] : page) EHR_RETURN_IF_ERROR(sqlite::OpenRecord(cipher_, *conn, tenant, rec));
      }
      if (page.empty()) return Status::Ok();
      for (auto& [tenant, rec] : page) {
        after = rec.seq;
        EHR_RETURN_IF_ERROR(fn(tenant, std::move(rec)));
      }
    }
  }
  Result<SearchPage> Search(const SearchQuery& q) override {
    auto conn = readers_.Acquire();
    sqlite::SearchOptions search_options;
    search_options.now = (options_.clock != nullptr ? *options_.clock : Clock::System()).Now();
    EHR_ASSIGN_OR_RETURN(SearchPage page, sqlite::Search(*conn, q, search_options));
    EHR_RETURN_IF_ERROR(sqlite::OpenPage(cipher_, *conn, q.tenant, page));
    return page;
  }

  Result<std::vector<AuditRow>> AuditSearch(const AuditQuery& q) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, sqlite::AuditSearch(*conn, q));
    for (AuditRow& r : rows) {
      if (r.detail) EHR_RETURN_IF_ERROR(cipher_.Open(*conn, r.tenant, sqlite::AuditDetailAad(r.tenant, r.core), *r.detail));
    }
    return rows;
  }
  // For verification: a detail that does not decrypt (altered, or moved to another entry)
  // is returned as stored, so that the check of the core's digest names the entry.
  Result<std::vector<AuditRow>> AuditRange(uint64_t from, int count) override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, sqlite::AuditRange(*conn, from, count));
    for (AuditRow& r : rows) {
      if (!r.detail) continue;
      std::string detail = *r.detail;
      if (cipher_.Open(*conn, r.tenant, sqlite::AuditDetailAad(r.tenant, r.core), detail).ok()) r.detail = std::move(detail);
    }
    return rows;
  }
  Result<std::vector<std::string>> VerifyAuditIndexes(size_t max) override {
    auto conn = readers_.Acquire();
    return sqlite::VerifyAuditPatients(*conn, max);
  }
  Result<uint64_t> AuditSize() override {
    auto conn = readers_.Acquire();
    return sqlite::AuditSize(*conn);
  }
  Result<std::string> AuditNode(int level, uint64_t index) override {
    auto conn = readers_.Acquire();
    return sqlite::AuditNode(*conn, level, index);
  }
  Result<std::optional<AuditHead>> LatestAuditHead() override {
    auto conn = readers_.Acquire();
    EHR_ASSIGN_OR_RETURN(std::vector<AuditHead> heads, sqlite::AuditHeads(*conn, true));
    if (heads.empty()) return std::optional<AuditHead>();
    return std::optional<AuditHead>(std::move(heads.front()));
  }
  Result<std::vector<AuditHead>> AuditHeads() override {
    auto conn = readers_.Acquire();
    return sqlite::AuditHeads(*conn, false);
  }
  Status PutAuditHead(const AuditHead& head) override {
    return Write([this, &head](WriteTxn&) { return sqlite::PutAuditHead(*writer_conn_, head); });
  }
  Result<std::vector<AuditSegment>> AuditSegments() override {
    auto conn = readers_.Acquire();
    return sqlite::AuditSegments(*conn);
  }
  Result<int64_t> ExpireIdempotency(Micros created_before, int limit) override {
    int64_t expired = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
      EHR_ASSIGN_OR_RETURN(expired, sqlite::ExpireIdempotency(*writer_conn_, created_before, limit));
      return Status::Ok();
    }));
    return expired;
  }
  Result<int64_t> EraseAuditDetail(std::string_view tenant, std::string_view patient) override {
    int64_t erased = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
      EHR_ASSIGN_OR_RETURN(erased, sqlite::EraseAuditDetail(*writer_conn_, tenant, patient));
      return Status::Ok();
    }));
    return erased;
  }

  Status Write(std::function<Status(WriteTxn&)> fn) override { return group_.Write(std::move(fn)); }
  void WriteAsync(std::function<Status(WriteTxn&)> fn, std::function<void(Status)> done) override {
    group_.WriteAsync(std::move(fn), std::move(done));
  }

  Status Ready() override {
    {
      std::lock_guard lock(sync_mu_);
      if (sync_failed_) return SyncFailure();
    }
    {
      auto conn = readers_.Acquire();
      EHR_RETURN_IF_ERROR(conn->Run("SELECT 1", "readiness read"));
    }
    // An empty write takes the write lock and commits nothing: it proves the writer thread
    // runs and the database accepts write transactions.
    return Write([](WriteTxn&) { return Status::Ok(); });
  }

  Result<std::vector<KeyUse>> KeyUsage() override {
    auto conn = readers_.Acquire();
    return sqlite::KeyUsage(*conn);
  }
  Result<std::vector<DataKeyRetirement>> RetireDataKeys(Micros superseded_before) override {
    std::vector<DataKeyRetirement> out;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
      EHR_ASSIGN_OR_RETURN(out, sqlite::RetireDataKeys(*writer_conn_, superseded_before));
      return Status::Ok();
    }));
    return out;
  }
  Result<std::vector<std::string>> KekIdsInUse() override {
    auto conn = readers_.Acquire();
    return sqlite::KekIdsInUse(*conn);
  }
  Status RefreshKeys() override {
    auto conn = readers_.Acquire();
    return cipher_.Refresh(*conn);
  }
  Result<int> RotateDataKeys() override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    int rotated = 0;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
      EHR_ASSIGN_OR_RETURN(rotated, sqlite::RotateDataKeys(*writer_conn_, *options_.kek));
      return Status::Ok();
    }));
    EHR_RETURN_IF_ERROR(RefreshKeys());
    return rotated;
  }
  Result<ReencryptStep> Reencrypt(int64_t after_seq, int limit) override {
    if (options_.kek == nullptr) return ReencryptStep{after_seq, 0, after_seq, true};
    ReencryptStep step;
    std::string fingerprint;
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
      EHR_ASSIGN_OR_RETURN(step, sqlite::Reencrypt(*writer_conn_, cipher_, after_seq, limit, fingerprint));
      return Status::Ok();
    }));
    if (!step.done || step.unchanged) return step;
    // The bodies are done: then the responses kept for idempotency keys, in transactions of
    // `limit` (writes go on in between), and only then the mark of a complete pass.
    sqlite::IdempotencyCursor cursor;
    for (int seen = limit; seen >= limit;) {
      EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) -> Status {
        EHR_ASSIGN_OR_RETURN(seen, sqlite::ReencryptIdempotency(*writer_conn_, cipher_, cursor, limit, step.rewritten));
        return Status::Ok();
      }));
    }
    EHR_RETURN_IF_ERROR(Write([&](WriteTxn&) { return sqlite::WriteReencryptMark(*writer_conn_, fingerprint, step.max_seq); }));
    return step;
  }
  Result<std::string> Secret(std::string_view name, size_t size) override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    return FindOrMakeSecret(*this, name, size);
  }
  Status ImportSecret(std::string_view name, std::string_view bytes) override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    return Write([&](WriteTxn&) { return sqlite::InsertSecret(*writer_conn_, *options_.kek, name, bytes); });
  }
  Result<std::optional<std::string>> FindSecret(std::string_view name) override {
    if (options_.kek == nullptr) return Status::Unavailable("encryption: no key store is configured");
    auto conn = readers_.Acquire();
    return sqlite::ReadSecret(*conn, *options_.kek, name);
  }

 private:
  using Job = GroupCommit::Job;

  // The writer thread's batch: run, counted when committed; on an exception of our own
  // code (e.g. bad_alloc) the transaction is abandoned before GroupCommit fails the batch.
  bool RunCounted(const std::vector<Job*>& batch) {
    bool committed = false;
    try {
      committed = RunBatch(batch);
    } catch (...) {
      writer_conn_->key_memo().clear();  // keys made in the transaction are gone
      if (!writer_conn_->InAutocommit()) (void)writer_conn_->Run("ROLLBACK", "roll back batch");
      throw;
    }
    if (committed) {
      std::lock_guard lock(sync_mu_);
      ++commits_;
    }
    return committed;
  }

  // Durable mode: a committed batch waits for the syncer thread, which answers it.
  void HoldForSync(std::vector<Job*>& batch) {
    {
      std::lock_guard lock(sync_mu_);
      unsynced_.insert(unsynced_.end(), batch.begin(), batch.end());
    }
    sync_work_.notify_one();
  }

  static Status SyncFailure() {
    return Status::Unavailable("storage: the write-ahead log could not be synced to disk; restart the server");
  }

  // Syncs the WAL for the batches the writer committed, then answers their Write() calls.
  // After a failed sync nothing is acknowledged again until a restart: Linux may have
  // dropped the unwritten pages, so a later successful fsync would prove nothing.
  void SyncLoop() {
    std::vector<Job*> jobs;
    while (true) {
      int64_t through = 0;
      bool failed = false;
      {
        std::unique_lock lock(sync_mu_);
        sync_work_.wait(lock, [&] { return sync_stop_ || !unsynced_.empty(); });
        if (unsynced_.empty()) return;  // stopping, and every committed write is answered
        jobs.swap(unsynced_);
        through = commits_;  // every one of them committed before this point
        failed = sync_failed_;
      }
      Status synced = failed ? SyncFailure() : wal_sync_.Sync();
      if (!synced.ok() && !failed) log::Error("store.sync_failed", {{"error", synced.message()}});
      {
        std::lock_guard lock(sync_mu_);
        if (synced.ok()) {
          synced_ = through;
        } else {
          sync_failed_ = true;
        }
      }
      for (Job* job : jobs) {
        if (!synced.ok() && job->result.ok()) job->result = SyncFailure();
      }
      group_.Answer(jobs);
      jobs.clear();
    }
  }

  // Runs every job of the batch in one transaction, each inside its own savepoint, and
  // commits once; true when it committed. Each job's result is its own status, or
  // kUnavailable when the shared transaction could not be committed (jobs that failed on
  // their own keep their error).
  bool RunBatch(const std::vector<Job*>& batch) {
    Connection& c = *writer_conn_;
    {
      std::lock_guard lock(sync_mu_);
      if (sync_failed_) {
        for (Job* job : batch) job->result = SyncFailure();
        return false;
      }
    }
    Status begun = c.Run("BEGIN IMMEDIATE", "begin write transaction");
    if (!begun.ok()) {
      log::Warn("store.begin_failed", {{"jobs", static_cast<int64_t>(batch.size())}});
      for (Job* job : batch) job->result = begun;
      return false;
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      Job* job = batch[i];
      Status txn_failure = RunJob(c, *job);
      if (!txn_failure.ok()) {
        // The shared transaction is unusable: abandon it; earlier successes are not durable
        // and later jobs never ran.
        log::Error("store.batch_aborted", {{"jobs", static_cast<int64_t>(batch.size())}});
        c.key_memo().clear();
        if (!c.InAutocommit()) (void)c.Run("ROLLBACK", "roll back batch");
        if (txn_failure.code() != Code::kUnavailable) {
          txn_failure = Status::Unavailable("storage: write transaction abandoned");
        }
        for (size_t j = 0; j < batch.size(); ++j) {
          if (j > i || batch[j]->result.ok()) batch[j]->result = txn_failure;
        }
        return false;
      }
    }
    // A step of indexing the audit log by patient (audit_log.h), with the batch.
    IndexAuditPatients(c);
    // The batch's full-text rows in one statement (queries.h); those of failed jobs went
    // with their savepoints.
    Status committed = sqlite::FlushTextRows(c);
    if (committed.ok()) committed = c.Run("COMMIT", "commit write transaction");
    if (!committed.ok()) {
      log::Error("store.commit_failed", {{"jobs", static_cast<int64_t>(batch.size())}});
      c.key_memo().clear();
      if (!c.InAutocommit()) (void)c.Run("ROLLBACK", "roll back batch");
      Status unavailable = committed.code() == Code::kUnavailable
                               ? committed
                               : Status::Unavailable("storage: commit write transaction failed");
      for (Job* job : batch) {
        if (job->result.ok()) job->result = unavailable;
      }
      return false;
    }
    return true;
  }

  // Runs one job inside a savepoint, leaving its status in job.result. Returns an error
  // only when the enclosing transaction can no longer be used.
  Status RunJob(Connection& c, Job& job) {
    EHR_RETURN_IF_ERROR(c.Run("SAVEPOINT job", "begin write"));
    SqliteWriteTxn txn(c, txn_clock_, cipher_);
    try {
      job.result = job.fn(txn);
    } catch (const std::exception&) {
      job.result = Status::Internal("storage: the write function threw an exception");
    } catch (...) {
      job.result = Status::Internal("storage: the write function threw an exception");
    }
    // Some errors (full disk, I/O) make SQLite roll the whole transaction back itself.
    if (c.InAutocommit()) {
      c.key_memo().clear();
      return Status::Unavailable("storage: the write transaction was rolled back");
    }
    if (!job.result.ok()) {
      c.key_memo().clear();  // keys the job made are rolled back with it
      EHR_RETURN_IF_ERROR(c.Run("ROLLBACK TO job", "roll back write"));
    }
    return c.Run("RELEASE job", "end write");
  }

  const SqliteOptions options_;
  std::unique_ptr<Connection> writer_conn_;  // writer thread only (and construction/destruction)
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  TxnClock txn_clock_;                       // writer thread only
  // Indexing the audit log by patient in cycles (audit_log.h; writer thread only): a cycle
  // begins once SqliteOptions::audit_index_backlog entries wait, or audit_index_every after
  // the last one began, and moves audit_index_slice entries with each batch. Larger cycles share more index pages between
  // the entries of a patient (an audited read: 78 us of CPU with an index entry per append,
  // 62 us with cycles of ~20,000); slices keep a batch from waiting for a whole cycle.
  struct PatientIndexCycle {
    bool active = false;
    uint64_t through = 0;  // the entries up to it, when it ends
    int64_t done = 0;      // rows of its table moved
  };
  PatientIndexCycle cycle_;
  std::chrono::steady_clock::time_point last_cycle_{};

  // In the batch's transaction, in a savepoint of its own: a failure leaves the entries to
  // a later cycle (searches scan them meanwhile).
  void IndexAuditPatients(Connection& c) {
    Status st = c.Run("SAVEPOINT patient_index", "begin audit patient index");
    if (st.ok()) st = AuditPatientStep(c);
    if (!st.ok()) {
      log::Warn("store.audit_patient_index_failed", {{"error", st.message()}});
      cycle_ = {};
      if (!c.InAutocommit()) (void)c.Run("ROLLBACK TO patient_index", "roll back audit patient index");
    }
    if (!c.InAutocommit()) (void)c.Run("RELEASE patient_index", "end audit patient index");
  }

  Status AuditPatientStep(Connection& c) {
    if (!cycle_.active) {
      const auto now = std::chrono::steady_clock::now();
      EHR_ASSIGN_OR_RETURN(auto backlog, sqlite::AuditPatientBacklog(c));
      const uint64_t waiting = backlog.second - backlog.first;
      if (waiting == 0 || (waiting < options_.audit_index_backlog &&
                           now - last_cycle_ < std::chrono::microseconds(options_.audit_index_every))) {
        return Status::Ok();
      }
      last_cycle_ = now;
      const uint64_t through = std::min(backlog.second, backlog.first + options_.audit_index_max_cycle);
      EHR_ASSIGN_OR_RETURN(int64_t rows, sqlite::BeginAuditPatientCycle(c, through));
      if (rows == 0) return sqlite::EndAuditPatientCycle(c, through);
      cycle_ = {true, through, 0};
      return Status::Ok();  // its slices with the next batches
    }
    EHR_ASSIGN_OR_RETURN(bool more, sqlite::IndexAuditPatientSlice(c, cycle_.done, options_.audit_index_slice));
    cycle_.done += options_.audit_index_slice;
    if (more) return Status::Ok();
    EHR_RETURN_IF_ERROR(sqlite::EndAuditPatientCycle(c, cycle_.through));
    cycle_ = {};
    return Status::Ok();
  }
  sqlite::BodyCipher cipher_;
  ReaderPool readers_;

  GroupCommit group_{options_.max_batch, [this](const std::vector<Job*>& batch) { return RunCounted(batch); },
                     options_.durable ? GroupCommit::Hold([this](std::vector<Job*>& batch) { HoldForSync(batch); })
                                      : GroupCommit::Hold()};

  // Durable mode (wal_sync.h): committed batches wait in unsynced_ for the syncer thread.
  std::mutex sync_mu_;
  std::condition_variable sync_work_;  // unsynced_ gained jobs, or sync_stop_ was set
  std::vector<Job*> unsynced_;          // guarded by sync_mu_
  bool sync_stop_ = false;              // guarded by sync_mu_
  bool sync_failed_ = false;            // guarded by sync_mu_; sticky
  int64_t commits_ = 0;                 // guarded by sync_mu_; batches committed
  int64_t synced_ = 0;                  // guarded by sync_mu_; of those, how many are known durable
  sqlite::WalSync wal_sync_;            // syncer thread only
  std::thread syncer_thread_;
};

}  // namespace

SqliteDurability DurabilityOf(Store& store) {
  auto* sqlite = dynamic_cast<SqliteStore*>(&store);
  return sqlite != nullptr ? sqlite->Durability() : SqliteDurability{};
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  if (options.path.empty()) return Status::Internal("storage: no database path configured");
  Clock& clock = options.clock != nullptr ? *options.clock : Clock::System();

  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                       Connection::Open(options.path, sqlite::OpenMode::kReadWriteCreate));
  EHR_RETURN_IF_ERROR(Configure(*writer, options, /*writer=*/true));
  // WAL lets readers proceed while the writer commits; the setting is stored in the file.
  EHR_ASSIGN_OR_RETURN(std::string mode, writer->QueryText("PRAGMA journal_mode = WAL", "enable WAL"));
  if (mode != "wal") return Status::Unavailable("storage: the database cannot use WAL mode");
  EHR_RETURN_IF_ERROR(sqlite::Migrate(*writer, sqlite::Migrations(), clock.Now()));
  EHR_RETURN_IF_ERROR(sqlite::OpenWriteSession(*writer));
  EHR_ASSIGN_OR_RETURN(Micros last_write, sqlite::LastWriteTime(*writer));

  auto store = std::make_unique<SqliteStore>(options, std::move(writer), last_write);
  for (int i = 0; i < std::max(options.readers, 1); ++i) {
    EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                         Connection::Open(options.path, sqlite::OpenMode::kReadWrite));
    EHR_RETURN_IF_ERROR(Configure(*reader, options, /*writer=*/false));
    store->readers().Add(std::move(reader));
  }
  // WAL checkpoints run beside the writer once the WAL holds ~8 MB of new pages; past
  // ~256 MB the writer restarts it.
  EHR_ASSIGN_OR_RETURN(std::unique_ptr<Connection> checkpoint_conn,
                       Connection::Open(options.path, sqlite::OpenMode::kReadWrite));
  EHR_RETURN_IF_ERROR(checkpoint_conn->ExecScript(
      "PRAGMA busy_timeout = " + std::to_string(std::max(options.busy_timeout_ms, 0)) +
          "; PRAGMA journal_mode = WAL;",  // also makes this connection open the WAL it checkpoints
      "configure checkpointer"));
  store->SetCheckpointer(
      std::make_unique<sqlite::Checkpointer>(store->writer_handle(), std::move(checkpoint_conn),
                                            options.checkpoint_pages, options.wal_restart_pages));
  store->Start();
  log::Info("store.opened", {{"backend", "sqlite"}, {"readers", std::max(options.readers, 1)},
                             {"durable", options.durable ? "true" : "false"}});
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace ehr::store
