// SQLite's own behaviour behind store::Store: file locks held by another process, and the
// WAL synced off the writer before a write is acknowledged. The contract every backend
// keeps is store/store_contract_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/sqlite/test_util.h"

namespace ehr::store {
namespace {

using testing::OpenOrDie;
using testing::PutOne;
using testing::TempDir;
using testing::Version;

constexpr Micros kStart = 1'700'000'000'000'000;

class SqliteStoreTest : public ::testing::Test {
 protected:
  SqliteStoreTest() : clock_(kStart) {
    options_.path = dir_.File("ehr.db");
    options_.clock = &clock_;
    options_.readers = 4;
    store_ = OpenOrDie(options_);
  }

  void Reopen() {
    store_.reset();
    store_ = OpenOrDie(options_);
  }

  TempDir dir_;
  ManualClock clock_;
  SqliteOptions options_;
  std::unique_ptr<Store> store_;
};

// Another process holding the write lock: writes time out as kUnavailable, reads go on.
TEST_F(SqliteStoreTest, LockedDatabaseMakesWritesUnavailableButNotReads) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "p", 1, "{}")).ok());
  options_.busy_timeout_ms = 50;
  Reopen();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(options_.path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE resource_version SET method = method", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);

  Status st = PutOne(*store_, Version("t", "Patient", "p", 2, "{}"));
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.message();
  EXPECT_EQ(store_->Ready().code(), Code::kUnavailable);
  auto read = store_->ReadCurrent("t", "Patient", "p");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ((*read)->version, 1);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(PutOne(*store_, Version("t", "Patient", "p", 2, "{}")).ok());
  EXPECT_TRUE(store_->Ready().ok());
}

// A durable store syncs the WAL off the writer thread (wal_sync.h); a Write() may return
// only after the batch that committed it is synced. Each job notes how many batches were
// committed before its own; once its Write() returns, at least one more must be synced.
TEST_F(SqliteStoreTest, DurableWritesReturnOnlyOnceTheirBatchIsSynced) {
  ASSERT_TRUE(options_.durable);
  constexpr int kThreads = 8;
  constexpr int kWrites = 40;
  std::atomic<int> early{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < kWrites; ++n) {
        int64_t committed_before = -1;
        Status st = store_->Write([&](WriteTxn& txn) -> Status {
          committed_before = DurabilityOf(*store_).commits;
          return txn.Put(Version("t", "Patient", "p" + std::to_string(t) + "-" + std::to_string(n), 1, "{}",
                                 txn.Now()));
        });
        ASSERT_TRUE(st.ok()) << st.message();
        if (DurabilityOf(*store_).synced < committed_before + 1) ++early;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(early.load(), 0);
  SqliteDurability d = DurabilityOf(*store_);
  EXPECT_EQ(d.synced, d.commits);
  EXPECT_GE(d.commits, 1);
  EXPECT_LE(d.commits, kThreads * kWrites);
  EXPECT_EQ(*store_->CountCurrent("t", "Patient"), kThreads * kWrites);
}

// Without durability nothing waits for a sync, and none is claimed.
TEST_F(SqliteStoreTest, NonDurableStoreCommitsWithoutSyncing) {
  options_.durable = false;
  Reopen();
  for (int n = 0; n < 5; ++n) ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "p" + std::to_string(n), 1, "{}")).ok());
  SqliteDurability d = DurabilityOf(*store_);
  EXPECT_EQ(d.commits, 5);
  EXPECT_EQ(d.synced, 0);
}

TEST(SqliteStoreOpen, RejectsEmptyPathAndUnopenableFile) {
  SqliteOptions options;
  EXPECT_FALSE(OpenSqliteStore(options).ok());
  options.path = "/nonexistent-dir/for/sure/ehr.db";
  auto opened = OpenSqliteStore(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace ehr::store
