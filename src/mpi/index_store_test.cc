#include "mpi/index_store.h"

#include <gtest/gtest.h>

#include "store/sqlite/db.h"
#include "store/sqlite/test_util.h"

namespace ehr::mpi {
namespace {

using store::testing::TempDir;

constexpr Micros kStart = 1'800'000'000'000'000;
const std::string kP1(64, '1');
const std::string kP2(64, '2');
const std::string kP3(64, '3');

class IndexStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_.reset();
    auto opened = OpenIndexStore(dir_.File("mpi.db"), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened).value();
  }

  std::vector<Link> Lookup(std::string_view pseudonym) {
    auto r = store_->Lookup(pseudonym);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<Link>{};
  }
  std::vector<LinkChange> History(std::string_view region, std::string_view patient) {
    auto r = store_->History(region, patient);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<LinkChange>{};
  }
  std::vector<Link> LinksOfRegion(std::string_view region) {
    auto r = store_->LinksOfRegion(region);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<Link>{};
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<IndexStore> store_;
};

TEST_F(IndexStoreTest, RegisterAndLookup) {
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}, {"kvnr", kP2}}).ok());
  std::vector<Link> found = Lookup(kP1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pseudonym, kP1);
  EXPECT_EQ(found[0].region, "uk");
  EXPECT_EQ(found[0].patient, "p-1");
  EXPECT_EQ(found[0].type, "nhs");
  EXPECT_EQ(found[0].updated, kStart);
  ASSERT_EQ(Lookup(kP2).size(), 1u);
  EXPECT_EQ(Lookup(kP2)[0].type, "kvnr");
  EXPECT_TRUE(Lookup(kP3).empty());

  std::vector<LinkChange> history = History("uk", "p-1");
  ASSERT_EQ(history.size(), 2u);
  for (const LinkChange& c : history) {
    EXPECT_EQ(c.op, "add");
    EXPECT_EQ(c.at, kStart);
    EXPECT_EQ(c.link.region, "uk");
    EXPECT_EQ(c.link.patient, "p-1");
  }
  EXPECT_LT(history[0].seq, history[1].seq);
}

TEST_F(IndexStoreTest, RegisteringTheSameAgainChangesNothing) {
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}}).ok());
  clock_.Advance(1'000'000);
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}}).ok());
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}, {"nhs", kP1}}).ok()) << "a repeat in one call";
  EXPECT_EQ(History("uk", "p-1").size(), 1u);
  ASSERT_EQ(Lookup(kP1).size(), 1u);
  EXPECT_EQ(Lookup(kP1)[0].updated, kStart) << "kept, not rewritten";
}

TEST_F(IndexStoreTest, MoveReplacesTheLinks) {
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}, {"kvnr", kP2}}).ok());
  clock_.Advance(5'000'000);
  // The patient's KVNR was corrected in the vault: one link kept, one removed, one added.
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}, {"kvnr", kP3}}).ok());
  EXPECT_TRUE(Lookup(kP2).empty());
  ASSERT_EQ(Lookup(kP3).size(), 1u);
  EXPECT_EQ(Lookup(kP3)[0].updated, kStart + 5'000'000);
  EXPECT_EQ(Lookup(kP1)[0].updated, kStart);

  std::vector<LinkChange> history = History("uk", "p-1");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[2].op, "remove");
  EXPECT_EQ(history[2].link.pseudonym, kP2);
  EXPECT_EQ(history[2].at, kStart + 5'000'000);
  EXPECT_EQ(history[3].op, "add");
  EXPECT_EQ(history[3].link.pseudonym, kP3);
  EXPECT_EQ(history[3].link.type, "kvnr");
}

TEST_F(IndexStoreTest, RemoveLeavesNothing) {
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}, {"kvnr", kP2}}).ok());
  ASSERT_TRUE(store_->Register("uk", "p-2", {{"nhs", kP3}}).ok());
  ASSERT_TRUE(store_->Register("uk", "p-1", {}).ok());
  EXPECT_TRUE(Lookup(kP1).empty());
  EXPECT_TRUE(Lookup(kP2).empty());
  EXPECT_EQ(Lookup(kP3).size(), 1u) << "another patient untouched";
  std::vector<LinkChange> history = History("uk", "p-1");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[2].op, "remove");
  EXPECT_EQ(history[3].op, "remove");
  ASSERT_TRUE(store_->Register("uk", "p-1", {}).ok());
  EXPECT_EQ(History("uk", "p-1").size(), 4u) << "removing again changes nothing";
}

// A traveller: registered by the vaults of two regions under one NHS number.
TEST_F(IndexStoreTest, LookupAcrossRegions) {
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}}).ok());
  ASSERT_TRUE(store_->Register("fr", "f-9", {{"nhs", kP1}, {"nir", kP2}}).ok());
  std::vector<Link> found = Lookup(kP1);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].region, "fr");
  EXPECT_EQ(found[0].patient, "f-9");
  EXPECT_EQ(found[1].region, "uk");
  EXPECT_EQ(found[1].patient, "p-1");
  EXPECT_TRUE(History("fr", "p-1").empty()) << "history is per region and patient";
}

TEST_F(IndexStoreTest, LinksOfRegion) {
  ASSERT_TRUE(store_->Register("uk", "b", {{"nhs", kP2}}).ok());
  ASSERT_TRUE(store_->Register("uk", "a", {{"nhs", kP1}, {"kvnr", kP3}}).ok());
  ASSERT_TRUE(store_->Register("de", "c", {{"kvnr", kP3}}).ok());
  std::vector<Link> uk = LinksOfRegion("uk");
  ASSERT_EQ(uk.size(), 3u);
  EXPECT_EQ(uk[0].patient, "a");
  EXPECT_EQ(uk[0].pseudonym, kP1);
  EXPECT_EQ(uk[1].patient, "a");
  EXPECT_EQ(uk[1].pseudonym, kP3);
  EXPECT_EQ(uk[2].patient, "b");
  for (const Link& l : uk) EXPECT_EQ(l.region, "uk");
  EXPECT_EQ(LinksOfRegion("de").size(), 1u);
  EXPECT_TRUE(LinksOfRegion("us").empty());
}

TEST_F(IndexStoreTest, RefusesContradictions) {
  EXPECT_EQ(store_->Register("uk", "p-1", {{"nhs", kP1}, {"kvnr", kP1}}).code(), Code::kInvalid);
  EXPECT_EQ(store_->Register("", "p-1", {{"nhs", kP1}}).code(), Code::kInvalid);
  EXPECT_EQ(store_->Register("uk", "p-1", {{"", kP1}}).code(), Code::kInvalid);
  EXPECT_TRUE(Lookup(kP1).empty());
  EXPECT_TRUE(History("uk", "p-1").empty());
}

TEST_F(IndexStoreTest, ReopenKeepsEverything) {
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP1}}).ok());
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP2}}).ok());
  Open();
  ASSERT_EQ(Lookup(kP2).size(), 1u);
  EXPECT_TRUE(Lookup(kP1).empty());
  EXPECT_EQ(History("uk", "p-1").size(), 3u);
  ASSERT_TRUE(store_->Register("uk", "p-1", {{"nhs", kP2}, {"nhs", kP3}}).ok());
  std::vector<LinkChange> history = History("uk", "p-1");
  ASSERT_EQ(history.size(), 4u);
  EXPECT_LT(history[2].seq, history[3].seq);
}

TEST_F(IndexStoreTest, DurableWalWithASchemaVersion) {
  store_.reset();
  auto conn = store::sqlite::Connection::Open(dir_.File("mpi.db"), store::sqlite::OpenMode::kReadWrite);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(*(*conn)->QueryText("PRAGMA journal_mode", "read journal mode"), "wal");
  EXPECT_EQ(*(*conn)->QueryText("SELECT max(version) FROM schema_version", "read schema version"), "2");  // 2: the witnessed heads
}

}  // namespace
}  // namespace ehr::mpi
