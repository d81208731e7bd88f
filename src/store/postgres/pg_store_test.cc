// The PostgreSQL store's own behaviour (its contract with the rest of the server is
// store_contract_test): the role it refuses to run as, a schema it must not touch, and a
// server that crashes under load: requests fail cleanly with kUnavailable while it is
// down, the store recovers without being reopened, and no acknowledged write is lost.
#include "store/postgres/pg_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
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

// A version's words are numbers in its text_index row (schema migration 8), each once per
// field: updates, a deletion, and an update with the same words leave exactly the current
// versions' words.
TEST_F(PostgresStoreTest, ANewVersionReplacesTheOldOnesWords) {
  auto opened = OpenPostgresStore(options_);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  auto put = [&](const std::string& id, int64_t version, const std::string& narrative, const std::string& content,
                 bool deleted = false) {
    NewVersion v = Version(id, version);
    v.index.narrative = narrative;
    v.index.content = content;
    if (deleted) {
      v.deleted = true;
      v.body.clear();
      v.index = {};
    }
    return store->Write([&](WriteTxn& txn) {
      v.last_updated = txn.Now();
      return txn.Put(v);
    });
  };
  auto rows = [&] {
    auto admin = pg::Connection::Open(server_.ConnectionString("postgres", "ehr"));
    EXPECT_TRUE(admin.ok());
    auto n = (*admin)->Query("SELECT coalesce(sum(cardinality(words)), 0) FROM text_index");
    EXPECT_TRUE(n.ok()) << n.status().message();
    return n.ok() ? n->Int(0, 0) : -1;
  };
  ASSERT_TRUE(put("a", 1, "Heart rate high", "alpha beta beta " + std::string(300, 'x')).ok());
  ASSERT_TRUE(put("b", 1, "", "alpha").ok());
  EXPECT_EQ(rows(), 3 + 3 + 1) << "each word of a version once per field (a long word cut)";
  ASSERT_TRUE(put("a", 2, "heart", "gamma").ok());
  EXPECT_EQ(rows(), 2 + 1);
  ASSERT_TRUE(put("a", 3, "heart", "gamma").ok());
  EXPECT_EQ(rows(), 2 + 1) << "the same words again";
  ASSERT_TRUE(put("a", 4, "", "", true).ok());
  EXPECT_EQ(rows(), 1);
  ASSERT_TRUE(put("b", 2, "caf\xc3\xa9", "").ok());
  EXPECT_EQ(rows(), 1);
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

namespace ehr::store {
namespace {

std::vector<std::string> Everything(Store& store) {
  std::vector<std::string> out;
  Status st = store.ForEachCurrent([&](const std::string& tenant, VersionRecord&& r) {
    out.push_back(tenant + "/" + r.type + "/" + r.id + "/" + std::to_string(r.version) + "/" + r.body);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  for (const std::string tenant : {"t", "u"}) {
    HistoryQuery q;
    q.tenant = tenant;
    q.count = 1000;
    auto page = store.History(q);
    EXPECT_TRUE(page.ok());
    if (!page.ok()) continue;
    for (const VersionRecord& r : page->entries) {
      out.push_back("history " + tenant + "/" + r.id + "/" + std::to_string(r.version) + "/" + r.method + "/" + r.body);
    }
  }
  auto audit = store.AuditRange(0, 1000);
  EXPECT_TRUE(audit.ok());
  if (audit.ok()) {
    for (const AuditRow& a : *audit) out.push_back("audit " + a.core + "/" + a.leaf + "/" + a.detail.value_or("-"));
  }
  for (int level = 0; level < 5; ++level) {
    for (uint64_t i = 0; i < 40; ++i) {
      auto node = store.AuditNode(level, i);
      if (node.ok()) out.push_back("node " + std::to_string(level) + "/" + std::to_string(i) + "/" + *node);
    }
  }
  auto heads = store.AuditHeads();
  EXPECT_TRUE(heads.ok());
  if (heads.ok()) {
    for (const AuditHead& h : *heads) out.push_back("head " + std::to_string(h.size) + "/" + h.root + "/" + h.signature);
  }
  auto key = store.GetIdempotency("u", "key-1");
  EXPECT_TRUE(key.ok() && key->has_value());
  if (key.ok() && key->has_value()) out.push_back("idempotency " + (*key)->body);
  return out;
}

// The restore drill (scripts/pg-restore-drill.sh) backs the database up with pg_dump,
// restores it into a scratch database and compares every table with the source; the store
// then opened on the copy returns every resource version, the audit log and its tree as the
// source does.
TEST_F(PostgresStoreTest, TheRestoreDrillRestoresEveryResourceAndTheAuditLog) {
  auto opened = OpenPostgresStore(options_);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);
  for (int i = 0; i < 30; ++i) {
    NewVersion v = Version("p" + std::to_string(i), 1);
    if (i % 2 == 1) v.tenant = "u";
    ASSERT_TRUE(store->Write([&](WriteTxn& txn) -> Status {
                  EHR_RETURN_IF_ERROR(txn.Put(v));
                  AuditAppend e{v.tenant, 1000 + i, "C", "user", v.id, R"({"n":)" + std::to_string(i) + "}", "detail"};
                  return txn.AppendAudit(e).status();
                }).ok());
  }
  NewVersion updated = Version("p2", 2);
  updated.body = std::string("{\"binary\":\"\0\xff\",\"v\":2}", 20);
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.Put(updated); }).ok());
  NewVersion deleted = Version("p4", 2);
  deleted.deleted = true;
  deleted.body.clear();
  deleted.method = "DELETE";
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.Put(deleted); }).ok());
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) {
                     return txn.PutIdempotency("u", "key-1", IdempotencyRecord{"h", 201, "{}", "response", 5});
                   }).ok());
  ASSERT_TRUE(store->PutAuditHead({30, std::string(32, 'r'), 7, std::string(64, 's'), "k1"}).ok());
  ASSERT_TRUE(store->EraseAuditDetail("t", "p6").ok());
  const std::vector<std::string> source = Everything(*store);
  ASSERT_GT(source.size(), 100u);

  const std::string script = std::string(EHR_SOURCE_TREE) + "/scripts/pg-restore-drill.sh";
  const std::string command = "EHR_DRILL_KEEP=1 EHR_DRILL_DATABASE=restored '" + script + "' '" +
                              server_.ConnectionString("postgres", "ehr") + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  PostgresOptions copy = options_;
  copy.conninfo = server_.ConnectionString("ehr_app", "restored", "app-secret-1");
  copy.migrate_conninfo.clear();  // the copy's schema is current: nothing to migrate
  auto restored = OpenPostgresStore(copy);
  ASSERT_TRUE(restored.ok()) << restored.status().message();
  EXPECT_EQ(Everything(**restored), source);
  // The copy is a working database: writes go on after the restored ones.
  EXPECT_TRUE((*restored)->Write([&](WriteTxn& txn) { return txn.Put(Version("p2", 3)); }).ok());
}

}  // namespace
}  // namespace ehr::store

namespace ehr::store {
namespace {

// Reads go to a streaming replica (made with pg_basebackup) once it has replayed every
// acknowledged write: a writer reads its write at once whatever the replica's lag, row-level
// security holds on the replica too, and a replica that stops leaves the reads to the primary.
TEST_F(PostgresStoreTest, ReadsGoToACaughtUpReplicaAndWritersReadTheirWrites) {
  {
    auto migrated = OpenPostgresStore(options_);  // the schema and grants, before the base backup
    ASSERT_TRUE(migrated.ok()) << migrated.status().message();
  }
  std::unique_ptr<ehr::testing::PostgresServer> replica = ehr::testing::PostgresServer::ReplicaOf(server_);
  PostgresOptions with_replica = options_;
  with_replica.migrate_conninfo.clear();
  with_replica.replicas = {replica->ConnectionString("ehr_app", "ehr", "app-secret-1") + " connect_timeout=2"};
  auto opened = OpenPostgresStore(with_replica);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(*opened);

  for (int i = 0; i < 200; ++i) {
    const std::string id = "p" + std::to_string(i);
    ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.Put(Version(id, 1)); }).ok());
    auto read = store->ReadCurrent("t", "Patient", id);
    ASSERT_TRUE(read.ok()) << read.status().message();
    ASSERT_TRUE(read->has_value()) << "the writer must read its write: " << id;
  }
  // Quiet: the replica catches up and serves.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t before = ReplicaReadsOf(*store);
  for (int i = 0; i < 50; ++i) {
    auto read = store->ReadCurrent("t", "Patient", "p" + std::to_string(i));
    ASSERT_TRUE(read.ok() && read->has_value());
  }
  EXPECT_EQ(ReplicaReadsOf(*store) - before, 50) << "every read went to the replica";
  HistoryQuery q;
  q.tenant = "t";
  q.count = 500;
  EXPECT_EQ(store->History(q)->entries.size(), 200u);
  auto other_tenant = store->ReadCurrent("u", "Patient", "p1");
  ASSERT_TRUE(other_tenant.ok());
  EXPECT_FALSE(other_tenant->has_value()) << "row-level security on the replica";
  EXPECT_EQ(ReplicaReadsOf(*store) - before, 52);

  // The replica stops: reads go on from the primary.
  replica->Crash();
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.Put(Version("after", 1)); }).ok());
  for (int i = 0; i < 20; ++i) {
    auto read = store->ReadCurrent("t", "Patient", i == 0 ? "after" : "p" + std::to_string(i));
    ASSERT_TRUE(read.ok()) << read.status().message();
    EXPECT_TRUE(read->has_value());
  }
}

}  // namespace
}  // namespace ehr::store
