// Archived segments of the audit log, on every store backend (SQLite migration 10,
// PostgreSQL migration 3): recording a segment deletes its
// entries and nothing else; the database refuses any other deletion, a segment that is not
// a complete subtree before the newest entry, a segment recorded twice or changed later
// (its digest excepted); the log's size, later appends, searches and the stored subtrees
// (roots and proofs of later entries) are as before.
#include <gtest/gtest.h>

#include <bit>

#include "audit/merkle.h"
#include "support/store_backends.h"

namespace ehr::store {
namespace {

AuditAppend Entry(int i) {
  AuditAppend e;
  e.tenant = "default";
  e.recorded = 1000 + i;
  e.action = "R";
  e.agent = "user";
  e.patient = i % 2 == 0 ? "p" : "";
  e.core = "{\"n\":" + std::to_string(i) + "}";
  e.detail = "detail " + std::to_string(i);
  return e;
}

class AuditArchiveStore : public ::testing::TestWithParam<std::string> {
 protected:
  AuditArchiveStore() : backend_(ehr::testing::MakeStoreBackend(GetParam())) {}
  void SetUp() override {
    store_ = backend_->Open(nullptr);
    ASSERT_TRUE(store_);
    for (int i = 0; i < 24; ++i) Append(i);
  }

  void Append(int i) {
    ASSERT_TRUE(store_->Write([&](WriteTxn& txn) { return txn.AppendAudit(Entry(i)).status(); }).ok());
  }

  AuditSegment Segment(uint64_t first, uint64_t count) {
    AuditSegment s;
    s.first = first;
    s.count = count;
    s.file = "f" + std::to_string(first);
    s.sha256 = std::string(32, 'd');
    const int level = std::countr_zero(count);
    auto subtree = store_->AuditNode(level, first >> level);
    if (subtree.ok()) s.subtree = *subtree;
    return s;
  }

  Status Archive(const AuditSegment& s, uint64_t erased = 0) {
    return store_->Write([&](WriteTxn& txn) {
      AuditSegment recorded = s;
      recorded.archived_at = txn.Now();
      return txn.ArchiveAudit(recorded, erased);
    });
  }

  // SQL run on the database directly as the server's account, as another program could.
  Status Sql(const std::string& sql) { return backend_->Exec(sql); }

  std::unique_ptr<ehr::testing::StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

TEST_P(AuditArchiveStore, ArchivingDeletesTheSegmentsEntriesAndKeepsItsSubtrees) {
  audit::Frontier all;
  for (int i = 0; i < 24; ++i) all.Append(audit::LeafHash(Entry(i).core));
  ASSERT_TRUE(Archive(Segment(0, 8)).ok());
  ASSERT_TRUE(Archive(Segment(8, 4)).ok());
  auto rows = store_->AuditRange(0, 100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 12u);
  EXPECT_EQ(rows->front().index, 12u);
  AuditQuery q;
  q.tenant = "default";
  q.patient = "p";
  auto found = store_->AuditSearch(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 6u) << "12, 14, ..., 22: archived entries are not searched";
  auto segments = store_->AuditSegments();
  ASSERT_TRUE(segments.ok());
  ASSERT_EQ(segments->size(), 2u);
  EXPECT_EQ((*segments)[1].first, 8u);
  EXPECT_EQ((*segments)[1].count, 4u);
  EXPECT_EQ((*segments)[1].file, "f8");
  EXPECT_GT((*segments)[1].archived_at, 0);

  // The size, the root and proofs of later entries are as before.
  EXPECT_EQ(*store_->AuditSize(), 24u);
  Status missing;
  audit::NodeAt nodes = [&](int level, uint64_t index) {
    auto hash = store_->AuditNode(level, index);
    if (!hash.ok()) missing = hash.status();
    return hash.ok() ? *hash : std::string(32, '\0');
  };
  EXPECT_EQ(audit::RootOf(24, nodes), all.Root());
  for (uint64_t index = 12; index < 24; ++index) {
    EXPECT_TRUE(
        audit::VerifyInclusion(index, 24, nodes(0, index), audit::InclusionProof(index, 24, nodes), all.Root()).ok())
        << index;
  }
  EXPECT_TRUE(missing.ok()) << missing.message();
  EXPECT_EQ(store_->AuditNode(0, 3).status().code(), Code::kNotFound) << "an archived leaf is not in the store";
  // Appends go on at the next index.
  uint64_t index = 0;
  ASSERT_TRUE(store_
                  ->Write([&](WriteTxn& txn) -> Status {
                    EHR_ASSIGN_OR_RETURN(index, txn.AppendAudit(Entry(24)));
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(index, 24u);
}

TEST_P(AuditArchiveStore, OnlyCompleteSubtreesBeforeTheNewestEntryAreArchivedOnce) {
  EXPECT_EQ(Archive(Segment(0, 6)).code(), Code::kInvalid) << "not a power of two";
  EXPECT_EQ(Archive(Segment(4, 8)).code(), Code::kInvalid) << "not aligned";
  EXPECT_EQ(Archive(Segment(20, 1)).code(), Code::kInvalid) << "a single leaf";
  EXPECT_EQ(Archive(Segment(22, 2)).code(), Code::kConflict) << "the newest entry (23) stays";
  AuditSegment wrong = Segment(0, 8);
  wrong.subtree = std::string(32, 'x');
  EXPECT_EQ(Archive(wrong).code(), Code::kConflict) << "not the stored subtree";
  EXPECT_EQ(Archive(Segment(0, 8), 1).code(), Code::kConflict) << "an erasure since the file was written";
  ASSERT_TRUE(Archive(Segment(0, 8)).ok());
  EXPECT_EQ(Archive(Segment(0, 8)).code(), Code::kConflict) << "archived already: its entries are gone";
  EXPECT_EQ(Archive(Segment(0, 16)).code(), Code::kConflict) << "overlaps";
  auto rows = store_->AuditRange(0, 1);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->front().index, 8u) << "failed attempts deleted nothing";
  // The database itself refuses a segment that overlaps another, even with its entries.
  EXPECT_FALSE(Sql("INSERT INTO audit_archive VALUES (0, 2, 'x', '0', '0', 0)").ok());
  EXPECT_FALSE(Sql("INSERT INTO audit_archive VALUES (16, 8, 'x', '0', '0', 0)").ok()) << "the newest entry";
  EXPECT_FALSE(Sql("INSERT INTO audit_archive VALUES (12, 8, 'x', '0', '0', 0)").ok()) << "not aligned";
}

TEST_P(AuditArchiveStore, TheDatabaseRefusesEveryOtherDeletionAndChange) {
  ASSERT_TRUE(Archive(Segment(0, 8)).ok());
  EXPECT_FALSE(Sql("DELETE FROM audit_entry WHERE seq = 9").ok()) << "entry 8 is not archived";
  EXPECT_FALSE(Sql("DELETE FROM audit_entry").ok());
  EXPECT_FALSE(Sql("DELETE FROM audit_archive").ok());
  EXPECT_FALSE(Sql("UPDATE audit_archive SET count = 4").ok());
  EXPECT_FALSE(Sql("UPDATE audit_archive SET subtree = '0'").ok());
  EXPECT_FALSE(Sql("UPDATE audit_archive SET file = 'other'").ok());
  EXPECT_FALSE(Sql("DELETE FROM audit_node WHERE level = 3").ok()) << "subtrees are never deleted";
  EXPECT_EQ(*store_->AuditSize(), 24u);
  // A segment recorded by hand allows deleting its entries, and only those.
  ASSERT_TRUE(Sql("INSERT INTO audit_archive VALUES (8, 4, 'f8', '0', '0', 0)").ok());
  EXPECT_FALSE(Sql("DELETE FROM audit_entry WHERE seq = 13").ok()) << "entry 12";
  EXPECT_TRUE(Sql("DELETE FROM audit_entry WHERE seq > 8 AND seq <= 12").ok());
  // The digest is the one column that changes (an erasure rewrote the file).
  EXPECT_TRUE(store_->Write([](WriteTxn& txn) { return txn.SetAuditSegmentDigest(0, std::string(32, 'e')); }).ok());
  EXPECT_EQ(store_->Write([](WriteTxn& txn) { return txn.SetAuditSegmentDigest(4, std::string(32, 'e')); }).code(),
            Code::kNotFound);
  auto segments = store_->AuditSegments();
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(segments->front().sha256, std::string(32, 'e'));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditArchiveStore, ::testing::ValuesIn(ehr::testing::StoreBackendNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace ehr::store
