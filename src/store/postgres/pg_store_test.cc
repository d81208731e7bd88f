// The PostgreSQL store's own behaviour (its contract with the rest of the server is
// store_contract_test): the role it refuses to run as, a schema it must not touch, and a
// server that crashes under load: requests fail cleanly with kUnavailable while it is
// down, the store recovers without being reopened, and no acknowledged write is lost.
#include "store/postgres/pg_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "store/postgres/pg.h"
#include "support/postgres_server.h"

namespace ehr::store {
namespace {

NewVersion Version(const std::string& id, int64_t version) {
  NewVersion v;
  v.tenant = "t";
  v.type = "Patient";
  v.id = id;
  v.version = version;
  v.method = version == 1 ? "POST" : "PUT";
  v.body = R"({"resourceType":"Patient","id":")" + id + R"("})";
  v.index.tokens = {{"identifier", "urn:test", id, ""}};
  return v;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto admin = pg::Connection::Open(server_.ConnectionString());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    ASSERT_TRUE((*admin)->Exec("CREATE ROLE ehr_app LOGIN PASSWORD 'app-secret-1'").ok());
    ASSERT_TRUE((*admin)->Exec("CREATE DATABASE ehr").ok());
    options_.conninfo = server_.ConnectionString("ehr_app", "ehr", "app-secret-1") + " connect_timeout=2";
    options_.migrate_conninfo = server_.ConnectionString("postgres", "ehr");
    options_.readers = 4;
  }

  ehr::testing::PostgresServer server_;
  PostgresOptions options_;
};

TEST_F(PostgresStoreTest, RefusesARoleThatBypassesRowLevelSecurityAndAnOldSchema) {
  PostgresOptions superuser = options_;
  superuser.conninfo = server_.ConnectionString("postgres", "ehr");
  auto refused = OpenPostgresStore(superuser);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalid);
  EXPECT_NE(refused.status().message().find("row-level security"), std::string::npos);

  PostgresOptions unmigrated = options_;
  unmigrated.migrate_conninfo.clear();
  auto old = OpenPostgresStore(unmigrated);
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("migrate"), std::string::npos) << old.status().message();

  auto opened = OpenPostgresStore(options_);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_TRUE((*opened)->Ready().ok());
  EXPECT_EQ(OpenPostgresStore(PostgresOptions{}).status().code(), Code::kInvalid);
}

// Eight writers create resources while the server crashes (`pg_ctl stop -m immediate`)
// and comes back. Every write either succeeds or fails with kUnavailable; every
// acknowledged one is there after the restart; the same store instance serves again.
TEST_F(PostgresStoreTest, ACrashUnderLoadLosesNoAcknowledgedWriteAndTheStoreRecovers) {
  auto opened = OpenPostgresStore(options_);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<int> unavailable{0}, other_errors{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; !stop; ++n) {
        const std::string id = "w" + std::to_string(w) + "-" + std::to_string(n);
        Status st = store->Write([&](WriteTxn& txn) { return txn.Put(Version(id, 1)); });
        if (st.ok()) {
          std::lock_guard lock(mu);
          acknowledged.push_back(id);
        } else if (st.code() == Code::kUnavailable) {
          ++unavailable;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } else {
          ++other_errors;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server_.Crash();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // While it is down: reads and readiness fail cleanly.
  auto read = store->ReadCurrent("t", "Patient", "w0-0");
  EXPECT_EQ(read.status().code(), Code::kUnavailable) << read.status().message();
  EXPECT_EQ(store->Ready().code(), Code::kUnavailable);
  const size_t before_restart = [&] {
    std::lock_guard lock(mu);
    return acknowledged.size();
  }();
  server_.Restart();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  stop = true;
  for (auto& t : writers) t.join();

  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(unavailable.load(), 0) << "the crash was seen";
  EXPECT_GT(before_restart, 0u);
  EXPECT_GT(acknowledged.size(), before_restart) << "writes went on after the restart, with the same store";
  // Reads recover too (a reader connection may need one failed attempt to notice).
  for (int i = 0; i < 8 && !store->Ready().ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(store->Ready().ok());
  for (const std::string& id : acknowledged) {
    Result<std::optional<VersionRecord>> got = store->ReadCurrent("t", "Patient", id);
    for (int attempt = 0; attempt < 4 && !got.ok(); ++attempt) got = store->ReadCurrent("t", "Patient", id);
    ASSERT_TRUE(got.ok()) << got.status().message();
    ASSERT_TRUE(got->has_value()) << "acknowledged write lost: " << id;
  }
  auto count = store->CountCurrent("t", "Patient");
  ASSERT_TRUE(count.ok());
  EXPECT_GE(*count, static_cast<int64_t>(acknowledged.size()));
}

}  // namespace
}  // namespace ehr::store
