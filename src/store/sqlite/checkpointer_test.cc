#include "store/sqlite/checkpointer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "store/sqlite/sqlite_store.h"

namespace ehr::store {
namespace {

// One transaction of `rows` Basic resources of about 3 KB each.
Status WriteBatch(Store& store, int batch, int rows) {
  const std::string body = "{\"n\":\"" + std::string(3000, 'x') + "\"}";
  return store.Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < rows; ++i) {
      NewVersion v;
      v.tenant = "t";
      v.type = "Basic";
      v.id = std::to_string(batch) + "-" + std::to_string(i);
      v.last_updated = txn.Now();
      v.method = "POST";
      v.body = body;
      EHR_RETURN_IF_ERROR(txn.Put(v));
    }
    return Status::Ok();
  });
}

// Writes go to the WAL; only a checkpoint moves them into the database file. With the
// background checkpointer the database file grows while the store is open.
TEST(Checkpointer, MovesWalPagesIntoTheDatabaseWhileOpen) {
  char dir[] = "/tmp/ehr-ckpt-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/ehr.db";
  {
    SqliteOptions o;
    o.path = path;
    o.durable = false;
    auto store = OpenSqliteStore(o);
    ASSERT_TRUE(store.ok());
    auto size_before = std::filesystem::file_size(path);
    for (int batch = 0; batch < 20; ++batch) {
      Status st = WriteBatch(**store, batch, 200);
      ASSERT_TRUE(st.ok()) << st.message();
    }
    // 4,000 rows of 3 KB: about 12 MB, far past the 1,000-page threshold.
    bool grew = false;
    for (int i = 0; i < 100 && !grew; ++i) {
      grew = std::filesystem::file_size(path) > size_before + 8 * 1024 * 1024;
      if (!grew) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(grew) << "database file did not grow: no checkpoint ran while the store was open";
    EXPECT_LT(std::filesystem::file_size(path + "-wal"), 64u * 1024 * 1024);
    EXPECT_EQ(*(*store)->CountCurrent("t", "Basic"), 4000);
  }
  std::filesystem::remove_all(dir);
}

// A writer that never pauses (a bulk import) outruns background checkpoints, which then
// never let the WAL restart. Here background checkpoints are off altogether: only the
// writer's restarts keep the WAL from holding every page ever written.
TEST(Checkpointer, WriterRestartsTheWalPastItsLimit) {
  char dir[] = "/tmp/ehr-ckpt-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/ehr.db";
  {
    SqliteOptions o;
    o.path = path;
    o.durable = false;
    o.checkpoint_pages = 1 << 30;  // never
    o.wal_restart_pages = 1000;    // ~4 MB
    auto store = OpenSqliteStore(o);
    ASSERT_TRUE(store.ok());
    uintmax_t largest = 0;
    for (int batch = 0; batch < 60; ++batch) {
      Status st = WriteBatch(**store, batch, 100);
      ASSERT_TRUE(st.ok()) << st.message();
      largest = std::max(largest, std::filesystem::file_size(path + "-wal"));
    }
    // 6,000 rows of 3 KB: 18 MB of pages and more of index pages, in a WAL restarted at
    // ~4 MB and truncated to journal_size_limit (64 MB) at most.
    EXPECT_LT(largest, 12u * 1024 * 1024);
    EXPECT_EQ(*(*store)->CountCurrent("t", "Basic"), 6000);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ehr::store
