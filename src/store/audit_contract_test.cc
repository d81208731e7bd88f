// The audit log of every store backend (SQLite, PostgreSQL): appends in write transactions
// (with the transaction or without a trace), the stored Merkle subtrees against a
// recomputation, what keeps the log append-only whatever SQL the server's own database
// account runs (erasure of the personal part excepted), and WriteAsync.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "audit/merkle.h"
#include "store/sqlite/sqlite_store.h"
#include "support/store_backends.h"

namespace ehr::store {
namespace {

class AuditLog : public ::testing::TestWithParam<std::string> {
 protected:
  AuditLog() : backend_(ehr::testing::MakeStoreBackend(GetParam())) {}
  std::unique_ptr<Store> Open() { return backend_->Open(nullptr); }
  std::unique_ptr<ehr::testing::StoreBackend> backend_;
};

AuditAppend Entry(int i, std::string patient = "") {
  AuditAppend e;
  e.tenant = i % 3 == 0 ? "other" : "default";
  e.recorded = 1000 + i;
  e.action = i % 2 == 0 ? "R" : "U";
  e.agent = "user" + std::to_string(i % 4);
  e.patient = std::move(patient);
  e.core = "{\"n\":" + std::to_string(i) + "}";
  e.detail = "detail " + std::to_string(i);
  return e;
}

// Queues every job at once (WriteAsync: they commit together as far as the writer takes
// them so) and waits for all; each job's result.
std::vector<Code> WriteTogether(Store& store, int jobs, const std::function<Status(int job, WriteTxn&)>& fn) {
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  std::vector<Code> codes(static_cast<size_t>(jobs), Code::kOk);
  for (int job = 0; job < jobs; ++job) {
    store.WriteAsync([job, &fn](WriteTxn& txn) { return fn(job, txn); },
                     [&, job](Status st) {
                       std::lock_guard lock(mu);
                       codes[static_cast<size_t>(job)] = st.code();
                       ++answered;
                       cv.notify_one();
                     });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return answered == jobs; });
  return codes;
}

Status AppendOne(Store& store, const AuditAppend& e, uint64_t* index = nullptr) {
  return store.Write([&](WriteTxn& txn) -> Status {
    EHR_ASSIGN_OR_RETURN(uint64_t i, txn.AppendAudit(e));
    if (index) *index = i;
    return Status::Ok();
  });
}

TEST_P(AuditLog, EntriesGetDenseIndexesAndTheStoredTreeIsTheRecomputedOne) {
  auto store = Open();
  ASSERT_TRUE(store);
  audit::Frontier frontier;
  for (int i = 0; i < 37; ++i) {
    uint64_t index = 99;
    ASSERT_TRUE(AppendOne(*store, Entry(i, i % 5 == 0 ? "p1" : ""), &index).ok());
    EXPECT_EQ(index, static_cast<uint64_t>(i));
    frontier.Append(audit::LeafHash(Entry(i).core), [&](int level, uint64_t idx, const std::string& hash) {
      auto stored = store->AuditNode(level, idx);
      ASSERT_TRUE(stored.ok()) << level << "/" << idx;
      EXPECT_EQ(*stored, hash);
    });
  }
  // A write that fails after appending leaves no entry and no hole.
  Status failed = store->Write([&](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.AppendAudit(Entry(100)).status());
    return Status::Invalid("the action failed");
  });
  EXPECT_EQ(failed.code(), Code::kInvalid);
  ASSERT_EQ(*store->AuditSize(), 37u);
  uint64_t index = 0;
  ASSERT_TRUE(AppendOne(*store, Entry(37), &index).ok());
  EXPECT_EQ(index, 37u);
  frontier.Append(audit::LeafHash(Entry(37).core));

  const audit::NodeAt node = [&](int level, uint64_t i) {
    auto h = store->AuditNode(level, i);
    return h.ok() ? *h : std::string();
  };
  EXPECT_EQ(audit::RootOf(38, node), frontier.Root());
  EXPECT_EQ(store->AuditNode(5, 1).status().code(), Code::kNotFound) << "leaves 32..63 are not all there";

  auto all = store->AuditRange(0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 38u);
  EXPECT_EQ((*all)[5].index, 5u);
  EXPECT_EQ((*all)[5].leaf, audit::LeafHash(Entry(5).core));
  EXPECT_EQ((*all)[5].patient, std::optional<std::string>("p1"));
  EXPECT_EQ((*all)[6].patient, std::nullopt);
  auto tail = store->AuditRange(30, 100);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->front().index, 30u);

  AuditQuery q;
  q.tenant = "default";
  q.patient = "p1";
  auto p1 = store->AuditSearch(q);
  ASSERT_TRUE(p1.ok());
  ASSERT_FALSE(p1->empty());
  for (const AuditRow& r : *p1) EXPECT_EQ(r.tenant, "default");
  EXPECT_GT(p1->front().index, p1->back().index) << "newest first";
  q.patient.reset();
  q.agent = "user1";
  q.before = 20;
  q.count = 2;
  auto page = store->AuditSearch(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_LT(page->front().index, 20u);
  EXPECT_EQ(page->front().agent, "user1");
}

TEST_P(AuditLog, NoPathUpdatesOrDeletesTheLogButErasureOfItsPersonalPart) {
  auto store = Open();
  ASSERT_TRUE(store);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(AppendOne(*store, Entry(i, "p9")).ok());
  ASSERT_TRUE(store->PutAuditHead({2, std::string(32, 'r'), 5, std::string(64, 's'), "k1"}).ok());

  std::vector<std::string> tampering = {
      "DELETE FROM audit_entry WHERE seq = 2", "UPDATE audit_entry SET core = 'x' WHERE seq = 1",
      "UPDATE audit_entry SET leaf = core",    "UPDATE audit_entry SET detail = 'y'",
      "UPDATE audit_entry SET patient = 'p10'", "UPDATE audit_entry SET seq = seq + 10",
      "UPDATE audit_node SET hash = 'z'",      "DELETE FROM audit_node",
      "DELETE FROM audit_head",                "UPDATE audit_head SET size = 3",
      "INSERT INTO audit_archive (first, count, file, sha256, subtree, archived_at) VALUES (0, 4, 'f', 'h', 's', 1)"};  // would hold the newest entry
  tampering.push_back(GetParam() == "sqlite"
                          ? "INSERT OR REPLACE INTO audit_head (size, timestamp, root, signature, key_id) "
                            "VALUES (2, 1, 'r', 's', 'k')"
                          : "INSERT INTO audit_head (size, timestamp, root, signature, key_id) "
                            "VALUES (2, 1, 'r', 's', 'k') ON CONFLICT (size) DO UPDATE SET root = 'r'");
  for (const std::string& sql : tampering) {
    Status st = backend_->Exec(sql);
    EXPECT_FALSE(st.ok()) << sql;
  }
  auto rows = store->AuditRange(0, 10);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].core, Entry(0).core);

  auto erased = store->EraseAuditDetail("default", "p9");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(*erased, 2);  // entries 1 and 2 are of tenant default; 0 and 3 of another
  rows = store->AuditRange(0, 10);
  EXPECT_EQ((*rows)[1].detail, std::nullopt);
  EXPECT_EQ((*rows)[1].patient, std::nullopt);
  EXPECT_EQ((*rows)[1].core, Entry(1).core) << "the hashed part stays";
  EXPECT_EQ((*rows)[0].detail, std::optional<std::string>(Entry(0).detail)) << "another tenant's entry";
  auto heads = store->AuditHeads();
  ASSERT_TRUE(heads.ok());
  ASSERT_EQ(heads->size(), 1u);
  EXPECT_EQ(heads->front().size, 2u);
  EXPECT_EQ(heads->front().key_id, "k1");
}

TEST_P(AuditLog, WriteAsyncAnswersOnceDurable) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, failed = 0;
  constexpr int kWrites = 200;
  for (int i = 0; i < kWrites; ++i) {
    store->WriteAsync(
        [i](WriteTxn& txn) -> Status {
          if (i % 10 == 9) return Status::Invalid("refused");
          return txn.AppendAudit(Entry(i)).status();
        },
        [&](Status st) {
          std::lock_guard lock(mu);
          ++answered;
          if (!st.ok()) ++failed;
          cv.notify_one();
        });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return answered == kWrites; });
  EXPECT_EQ(failed, kWrites / 10);
  EXPECT_EQ(*store->AuditSize(), static_cast<uint64_t>(kWrites - kWrites / 10));
  if (GetParam() == "sqlite") {
    EXPECT_GE(DurabilityOf(*store).synced, 1);
  }
}

// Every stored subtree and the root are those of a recomputation from the entries.
void ExpectStoredTreeIsRecomputed(Store& store) {
  auto rows = store.AuditRange(0, 1000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), *store.AuditSize());
  audit::Frontier frontier;
  for (const AuditRow& row : *rows) {
    EXPECT_EQ(row.leaf, audit::LeafHash(row.core)) << row.index;
    frontier.Append(row.leaf, [&](int level, uint64_t idx, const std::string& hash) {
      auto stored = store.AuditNode(level, idx);
      ASSERT_TRUE(stored.ok()) << level << "/" << idx;
      EXPECT_EQ(*stored, hash) << level << "/" << idx;
    });
  }
  const audit::NodeAt node = [&](int level, uint64_t i) {
    auto h = store.AuditNode(level, i);
    return h.ok() ? *h : std::string();
  };
  EXPECT_EQ(audit::RootOf(rows->size(), node), frontier.Root());
}

// The writer keeps the right edge of the tree in memory (sqlite/db.h, postgres/audit_log.h): it must follow
// appends rolled back with their job (an error, an exception) and appends by another
// writer of the same database.
TEST_P(AuditLog, TheWritersTreeEdgeFollowsRollbacksAndOtherWriters) {
  auto store = Open();
  ASSERT_TRUE(store);
  int next = 0;
  auto append = [&](Store& s, int n) {
    return s.Write([&](WriteTxn& txn) -> Status {
      for (int i = 0; i < n; ++i) EHR_RETURN_IF_ERROR(txn.AppendAudit(Entry(next++)).status());
      return Status::Ok();
    });
  };
  ASSERT_TRUE(append(*store, 5).ok());
  // Jobs committed together: one appends three entries and fails, one throws after two.
  const std::vector<Code> codes = WriteTogether(*store, 4, [](int job, WriteTxn& txn) -> Status {
    for (int i = 0; i < 3; ++i) EHR_RETURN_IF_ERROR(txn.AppendAudit(Entry(100 + job * 10 + i)).status());
    if (job == 1) return Status::Invalid("the action failed");
    if (job == 2) throw std::runtime_error("a bug");
    return Status::Ok();
  });
  EXPECT_EQ(codes, (std::vector<Code>{Code::kOk, Code::kInvalid, Code::kInternal, Code::kOk}));
  ASSERT_EQ(*store->AuditSize(), 11u);
  ASSERT_TRUE(append(*store, 3).ok());
  ExpectStoredTreeIsRecomputed(*store);

  {  // another writer (a second process, an ehr command) appends behind the first one's back
    auto other = Open();
    ASSERT_TRUE(other);
    ASSERT_TRUE(append(*other, 7).ok());
  }
  ASSERT_TRUE(append(*store, 6).ok());
  ASSERT_EQ(*store->AuditSize(), 27u);
  ExpectStoredTreeIsRecomputed(*store);
}

// Jobs committed together that append and also write resources, some failing: each
// succeeding job's entries get the next indexes, in job order; a failed job's entries and
// resource are gone, and the stored tree is the one its entries make. (On PostgreSQL, a job
// that only appends runs without a savepoint, its entries inserted with the batch's:
// postgres/pg_store.cc.)
TEST_P(AuditLog, AppendsOfJobsThatAlsoWriteFollowTheirJobsFailures) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(AppendOne(*store, Entry(0)).ok());
  constexpr int kJobs = 8;
  std::vector<std::vector<uint64_t>> indexes(kJobs);
  const std::vector<Code> codes = WriteTogether(*store, kJobs, [&indexes](int job, WriteTxn& txn) -> Status {
    if (job % 2 == 1) {  // writes a resource too
      NewVersion v;
      v.tenant = "default";
      v.type = "Patient";
      v.id = "p" + std::to_string(job);
      v.version = 1;
      v.method = "POST";
      v.body = R"({"resourceType":"Patient"})";
      v.last_updated = txn.Now();
      EHR_RETURN_IF_ERROR(txn.Put(v));
    }
    for (int i = 0; i < 2; ++i) {
      EHR_ASSIGN_OR_RETURN(uint64_t index, txn.AppendAudit(Entry(10 * job + i)));
      indexes[job].push_back(index);
    }
    if (job % 4 == 3) return Status::Invalid("the action failed");  // wrote, then failed
    if (job == 2) throw std::runtime_error("a bug");                 // appended only, then threw
    return Status::Ok();
  });
  std::vector<std::string> expected_cores = {Entry(0).core};
  for (int job = 0; job < kJobs; ++job) {
    const bool fails = job % 4 == 3 || job == 2;
    EXPECT_EQ(codes[job], fails ? (job == 2 ? Code::kInternal : Code::kInvalid) : Code::kOk) << job;
    auto patient = store->ReadCurrent("default", "Patient", "p" + std::to_string(job));
    ASSERT_TRUE(patient.ok());
    EXPECT_EQ(patient->has_value(), job % 2 == 1 && !fails) << job;
    if (fails) continue;
    ASSERT_EQ(indexes[job].size(), 2u);
    EXPECT_EQ(indexes[job][0], expected_cores.size()) << job;
    EXPECT_EQ(indexes[job][1], expected_cores.size() + 1) << job;
    for (int i = 0; i < 2; ++i) expected_cores.push_back(Entry(10 * job + i).core);
  }
  auto rows = store->AuditRange(0, 100);
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> cores;
  for (const AuditRow& row : *rows) cores.push_back(row.core);
  EXPECT_EQ(cores, expected_cores);
  ASSERT_TRUE(AppendOne(*store, Entry(99)).ok());
  ExpectStoredTreeIsRecomputed(*store);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLog, ::testing::ValuesIn(ehr::testing::StoreBackendNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace ehr::store
