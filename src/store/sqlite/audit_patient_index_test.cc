// The audit log's entries by patient, indexed behind the log in cycles (audit_log.h,
// migration 11): a search by patient finds each entry whether it is indexed, in a cycle
// under way, or not reached yet; erasure removes the patient from all three; archived
// entries leave the index; a search by patient looks entries up by seq.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "store/sqlite/db.h"
#include "store/sqlite/test_util.h"

namespace ehr::store {
namespace {

AuditAppend Entry(int i, std::string patient, std::string tenant = "t1") {
  AuditAppend e;
  e.tenant = std::move(tenant);
  e.recorded = 1000 + i;
  e.action = "R";
  e.agent = "dr";
  e.patient = std::move(patient);
  e.core = "{\"n\":" + std::to_string(i) + "}";
  return e;
}

std::string Raw(const std::string& path, const std::string& sql) {
  auto conn = sqlite::Connection::Open(path, sqlite::OpenMode::kReadWrite);
  if (!conn.ok()) return "open failed";
  auto text = (*conn)->QueryText(sql, "test");
  return text.ok() ? *text : text.status().message();
}

std::set<uint64_t> Found(Store& store, const std::string& patient, std::string tenant = "t1") {
  AuditQuery q;
  q.tenant = std::move(tenant);
  q.patient = patient;
  q.count = 1000;
  std::set<uint64_t> out;
  auto rows = store.AuditSearch(q);
  EXPECT_TRUE(rows.ok()) << rows.status().message();
  if (!rows.ok()) return out;
  for (const AuditRow& r : *rows) {
    EXPECT_EQ(r.patient, patient);
    out.insert(r.index);
  }
  return out;
}

TEST(AuditPatientIndex, EveryEntryIsFoundAndErasureReachesEveryPart) {
  testing::TempDir dir;
  SqliteOptions o;
  o.path = dir.File("ehr.db");
  o.durable = false;
  o.audit_index_backlog = 6;               // a cycle once 6 entries wait
  o.audit_index_every = 3'600'000'000LL;  // and not by time
  o.audit_index_slice = 4;                 // 4 entries a batch
  o.audit_index_max_cycle = 10;            // and at most 10 a cycle
  auto store = testing::OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  std::map<std::string, std::set<uint64_t>> expected;
  auto append = [&](int i, const std::string& patient, const std::string& tenant = "t1") {
    uint64_t index = 0;
    ASSERT_TRUE(store->Write([&](WriteTxn& txn) -> Status {
                  EHR_ASSIGN_OR_RETURN(index, txn.AppendAudit(Entry(i, patient, tenant)));
                  return Status::Ok();
                }).ok());
    if (!patient.empty() && tenant == "t1") expected[patient].insert(index);
  };
  const char* patients[] = {"pa", "pb", "pc"};
  for (int i = 0; i < 40; ++i) {
    append(i, i % 7 == 6 ? "" : patients[i % 3]);
    // Found at every step: indexed, in the cycle's table, or after the mark.
    ASSERT_EQ(Found(*store, "pa"), expected["pa"]) << "after entry " << i;
  }
  append(40, "pa", "t2");  // another tenant's patient of the same id is not found
  EXPECT_EQ(Found(*store, "pb"), expected["pb"]);
  EXPECT_EQ(Found(*store, "pc"), expected["pc"]);
  EXPECT_EQ(Found(*store, "pa", "t2").size(), 1u);
  store.reset();
  // Most entries are in the index by now, the rest after its mark.
  const std::string indexed = Raw(o.path, "SELECT count(*) FROM audit_patient WHERE tenant = 't1'");
  const std::string mark = Raw(o.path, "SELECT through FROM audit_patient_mark");
  EXPECT_GE(std::stoi(indexed), 20) << indexed;
  EXPECT_GE(std::stoi(mark), 20) << mark;

  // Erasure in the middle of a cycle: nothing of pb is left in the index, the cycle's table
  // or the entries.
  store = testing::OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  for (int i = 41; i < 50; ++i) append(i, patients[i % 3]);  // a cycle begins and goes on
  auto erased = store->EraseAuditDetail("t1", "pb");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(static_cast<size_t>(*erased), expected["pb"].size());
  for (int i = 50; i < 70; ++i) append(i, i % 2 ? "pa" : "pc");  // cycles finish
  EXPECT_TRUE(Found(*store, "pb").empty());
  EXPECT_EQ(Found(*store, "pa"), expected["pa"]);
  EXPECT_EQ(Found(*store, "pc"), expected["pc"]);
  store.reset();
  EXPECT_EQ(Raw(o.path, "SELECT count(*) FROM audit_patient WHERE patient = 'pb'"), "0");
  EXPECT_EQ(Raw(o.path, "SELECT count(*) FROM audit_entry WHERE patient = 'pb'"), "0");
  // A search by patient looks entries up by seq, not through every entry of the tenant.
  auto conn = sqlite::Connection::Open(o.path, sqlite::OpenMode::kReadWrite);
  ASSERT_TRUE(conn.ok());
  auto plan = (*conn)->Prepare("EXPLAIN QUERY PLAN SELECT seq FROM audit_entry WHERE +tenant = 't1' AND patient = "
                               "'pa' AND seq IN (SELECT seq FROM audit_patient WHERE tenant = 't1' AND patient = 'pa' "
                               "UNION ALL SELECT seq FROM audit_entry WHERE seq > (SELECT through FROM "
                               "audit_patient_mark)) ORDER BY seq DESC LIMIT 50",
                               "test");
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_TRUE(*plan->Step());
  EXPECT_EQ(plan->ColumnText(3), "SEARCH audit_entry USING INTEGER PRIMARY KEY (rowid=?)");
}

// Archived entries leave the index by patient with them (their file names the patients), so
// that the index and the entries still agree.
TEST(AuditPatientIndex, ArchivedEntriesLeaveTheIndex) {
  testing::TempDir dir;
  SqliteOptions o;
  o.path = dir.File("ehr.db");
  o.durable = false;
  o.audit_index_backlog = 1;
  o.audit_index_slice = 64;
  auto store = testing::OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(store->Write([&](WriteTxn& txn) { return txn.AppendAudit(Entry(i, i % 2 ? "pa" : "pb")).status(); })
                    .ok());
  }
  ASSERT_GE(std::stoi(Raw(o.path, "SELECT count(*) FROM audit_patient WHERE seq <= 16")), 8) << "indexed by now";
  auto subtree = store->AuditNode(4, 0);
  ASSERT_TRUE(subtree.ok());
  ASSERT_TRUE(store->Write([&](WriteTxn& txn) {
                return txn.ArchiveAudit(AuditSegment{0, 16, "segment-0.gz", std::string(32, 'x'), *subtree, 1}, 0);
              }).ok());
  auto problems = store->VerifyAuditIndexes(10);
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty()) << problems->front();
  store.reset();
  EXPECT_EQ(Raw(o.path, "SELECT count(*) FROM audit_patient WHERE seq <= 16"), "0");
  EXPECT_NE(Raw(o.path, "SELECT count(*) FROM audit_patient WHERE seq > 16"), "0");
}

}  // namespace
}  // namespace ehr::store
