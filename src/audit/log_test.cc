// The audit log over a real SQLite store: heads published and verified, then each kind of
// tampering someone with the database file could do (the triggers dropped first), and what
// `VerifyLog` says of it: a byte flipped, a leaf recomputed to match, a detail changed, an
// entry removed, two entries swapped, the log truncated after a head, a head forged.
#include "audit/log.h"

#include <gtest/gtest.h>

#include "audit/entry.h"
#include "core/clock.h"
#include "core/secrets.h"
#include "store/sqlite/db.h"
#include "store/sqlite/test_util.h"

namespace ehr::audit {
namespace {

using store::testing::TempDir;

constexpr Micros kFirst = 1'700'000'000'000'000;
constexpr Micros kApart = 600'000'000;  // ten minutes

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("ehr.db");
    Open();
    auto signer = TreeSigner::FromSeed(std::string(32, 'k'));
    ASSERT_TRUE(signer.ok());
    publisher_ = std::make_unique<TreeHeadPublisher>(*store_, std::move(*signer), clock_);
    for (int i = 0; i < 20; ++i) {
      Append(i);
      if (i == 6 || i == 15) ASSERT_TRUE(publisher_->Publish().ok());
    }
  }

  void Open() {
    store_.reset();
    // The index by patient in cycles as soon as an entry waits (store/sqlite/audit_log.h).
    store_ = store::testing::OpenOrDie({.path = path_, .audit_index_backlog = 1});
    ASSERT_TRUE(store_);
  }

  // Entry i is recorded i * 10 minutes after the first (further apart than kRecordingSkew), or at
  // `recorded` when given.
  void Append(int i, Micros recorded = 0) {
    Event e;
    e.subtype = "read";
    e.action = "R";
    e.recorded = recorded != 0 ? recorded : kFirst + i * kApart;
    e.tenant = "default";
    e.user = "u" + std::to_string(i % 3);
    e.patient = "p" + std::to_string(i % 4);
    const Encoded enc = Encode(e);
    store::AuditAppend a{e.tenant, e.recorded, e.action, e.user, e.patient, enc.core, enc.detail};
    ASSERT_TRUE(store_->Write([&](store::WriteTxn& txn) { return txn.AppendAudit(a).status(); }).ok());
  }

  // Runs SQL as an attacker with the file would, the append-only triggers dropped.
  void Tamper(const std::string& sql) {
    auto db = store::sqlite::Connection::Open(path_, store::sqlite::OpenMode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->ExecScript("DROP TRIGGER IF EXISTS audit_entry_no_update; DROP TRIGGER IF EXISTS "
                                 "audit_entry_no_delete; DROP TRIGGER IF EXISTS audit_head_no_delete; "
                                 "DROP TRIGGER IF EXISTS audit_head_no_update; DROP TRIGGER IF EXISTS "
                                 "audit_node_no_update; " + sql,
                                 "tamper")
                    .ok())
        << sql;
  }

  VerifyReport Verify() {
    auto report = VerifyLog(*store_, publisher_->public_key());
    EXPECT_TRUE(report.ok()) << report.status().message();
    return report.ok() ? *report : VerifyReport{};
  }

  static std::string First(const VerifyReport& r) { return r.problems.empty() ? "" : r.problems.front(); }

  TempDir dir_;
  std::string path_;
  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TreeHeadPublisher> publisher_;
};

TEST_F(AuditLogTest, AnUntouchedLogVerifiesAndPublishingTwiceSignsOnce) {
  auto again = publisher_->Publish();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size, 20u);
  auto same = publisher_->Publish();
  EXPECT_EQ(same->timestamp_ms, again->timestamp_ms);
  EXPECT_EQ(store_->AuditHeads()->size(), 3u);
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << First(r);
  EXPECT_EQ(r.entries, 20u);
  EXPECT_EQ(r.heads, 3u);
  // Another key's view of the same heads: every signature is refused.
  auto other = TreeSigner::FromSeed(std::string(32, 'o'));
  auto foreign = VerifyLog(*store_, other->public_key());
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->problems.size(), 3u);
  // Erasure of a patient's personal part is no tampering.
  EXPECT_EQ(*store_->EraseAuditDetail("default", "p1"), 5);
  const VerifyReport after = Verify();
  EXPECT_TRUE(after.ok()) << First(after);
  EXPECT_EQ(after.erased, 5u);
}

TEST_F(AuditLogTest, AFlippedByteIsNamed) {
  Tamper("UPDATE audit_entry SET core = replace(core, '\"u1\"', '\"u4\"') WHERE seq = 5");
  const VerifyReport r = Verify();
  EXPECT_NE(First(r).find("entry 4 was altered"), std::string::npos) << First(r);
}

TEST_F(AuditLogTest, AnAlteredEntryWithARecomputedLeafIsCaughtByTheTree) {
  std::string core = (*store_->AuditRange(8, 1))[0].core;
  core.replace(core.find("\"u2\""), 4, "\"u0\"");
  const std::string leaf = HexEncode(LeafHash(core));
  Tamper("UPDATE audit_entry SET core = '" + core + "', agent = 'u0', leaf = X'" + leaf + "' WHERE seq = 9");
  const VerifyReport r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(First(r).find("entries 8 to 9"), std::string::npos) << First(r);
  bool head_named = false;
  for (const std::string& p : r.problems) head_named |= p.find("tree head signed") != std::string::npos;
  EXPECT_TRUE(head_named);
}

TEST_F(AuditLogTest, AChangedDetailIsNamed) {
  Tamper("UPDATE audit_entry SET detail = replace(detail, '\"p2\"', '\"p3\"'), patient = 'p3' WHERE seq = 3");
  EXPECT_NE(First(Verify()).find("entry 2 was altered: audit entry: the detail is not"), std::string::npos);
}

TEST_F(AuditLogTest, AnEntryReplacedWithInsertOrReplaceIsNamed) {
  Tamper("INSERT OR REPLACE INTO audit_entry (seq, tenant, recorded, action, agent, core, leaf) "
         "SELECT seq, tenant, recorded, action, 'u9', replace(core, '\"u2\"', '\"u9\"'), leaf FROM audit_entry "
         "WHERE seq = 3");
  EXPECT_NE(First(Verify()).find("entry 2 was altered"), std::string::npos) << First(Verify());
}

TEST_F(AuditLogTest, ARemovedEntryIsNamed) {
  Tamper("DELETE FROM audit_entry WHERE seq = 11");
  EXPECT_NE(First(Verify()).find("entry 10 is missing"), std::string::npos) << First(Verify());
}

// The index by patient is kept apart from the entries (SQLite): removing an entry from it
// would hide the entry from a search by its patient, and moving it would show it under
// another; both are named.
TEST_F(AuditLogTest, ATamperedIndexByPatientIsNamed) {
  auto db = store::sqlite::Connection::Open(path_, store::sqlite::OpenMode::kReadWrite);
  ASSERT_TRUE(db.ok());
  ASSERT_GT(std::stoi(*(*db)->QueryText("SELECT count(*) FROM audit_patient", "test")), 5);
  EXPECT_TRUE(Verify().problems.empty()) << First(Verify());
  Tamper("DELETE FROM audit_patient WHERE seq = 3");
  EXPECT_NE(First(Verify()).find("entry 2 is missing from the index by patient"), std::string::npos) << First(Verify());
  Tamper("INSERT INTO audit_patient VALUES ('default', 'p9', 5)");
  bool named = false;
  for (const std::string& p : Verify().problems) named |= p.find("names entry 4 under a patient") != std::string::npos;
  EXPECT_TRUE(named) << First(Verify());
}

TEST_F(AuditLogTest, SwappedEntriesAreNamed) {
  Tamper(
      "UPDATE audit_entry SET seq = -1 WHERE seq = 4; UPDATE audit_entry SET seq = 4 WHERE seq = 5; "
      "UPDATE audit_entry SET seq = 5 WHERE seq = -1;");
  const VerifyReport r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(First(r).find("entries 2 to 3"), std::string::npos) << First(r);
  bool order_named = false;
  for (const std::string& p : r.problems) order_named |= p.find("entry 4 is out of order") != std::string::npos;
  EXPECT_TRUE(order_named);
}

// Concurrent reads recorded microseconds apart commit in either order, as does a read
// recorded during a long write: not tampering. Beyond kRecordingSkew it is named.
TEST_F(AuditLogTest, EntriesCommittedOutOfRecordedOrderWithinTheSkewAreNotTampering) {
  const Micros last = kFirst + 19 * kApart;
  Append(20, last + 5'000);
  Append(21, last + 2'000);                         // recorded 3 ms before its predecessor
  Append(22, last + 5'000 - kRecordingSkew + 1);    // just within the skew of the latest
  EXPECT_TRUE(Verify().ok()) << First(Verify());
  Append(23, last + 5'000 - kRecordingSkew - 1);    // beyond it
  const VerifyReport r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(First(r).find("entry 23 is out of order"), std::string::npos) << First(r);
}

TEST_F(AuditLogTest, ALogTruncatedAfterASignedHeadIsNamed) {
  Tamper("DELETE FROM audit_entry WHERE seq > 12");
  const VerifyReport r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(First(r).find("covers 16 entries, but the log holds 12"), std::string::npos) << First(r);
}

TEST_F(AuditLogTest, AForgedHeadIsNamed) {
  Tamper("UPDATE audit_head SET timestamp = timestamp + 1 WHERE size = 7");
  EXPECT_NE(First(Verify()).find("tree head of 7 entries"), std::string::npos);
}

}  // namespace
}  // namespace ehr::audit
