// The contract of store::Store, run against every backend (issue 8: SQLite and PostgreSQL
// must behave alike; a difference is a bug). The PostgreSQL backend is a real server the
// test starts (support/store_backends.h). Backend-specific behaviour (SQLite's WAL sync and
// file locks, PostgreSQL's row-level security) is tested beside each backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/store.h"
#include "support/store_backends.h"

namespace ehr::store {
namespace {

constexpr Micros kStart = 1'700'000'000'000'000;

NewVersion Version(std::string tenant, std::string type, std::string id, int64_t version, std::string body,
                   Micros last_updated = 0) {
  NewVersion v;
  v.tenant = std::move(tenant);
  v.type = std::move(type);
  v.id = std::move(id);
  v.version = version;
  v.last_updated = last_updated;
  v.method = version == 1 ? "POST" : "PUT";
  v.body = std::move(body);
  return v;
}

NewVersion Deletion(std::string tenant, std::string type, std::string id, int64_t version, Micros last_updated = 0) {
  NewVersion v = Version(std::move(tenant), std::move(type), std::move(id), version, "", last_updated);
  v.method = "DELETE";
  v.deleted = true;
  return v;
}

Status PutOne(Store& store, const NewVersion& v) {
  return store.Write([&](WriteTxn& txn) { return txn.Put(v); });
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  StoreContractTest() : clock_(kStart), backend_(ehr::testing::MakeStoreBackend(GetParam())) { Reopen(); }

  void Reopen() {
    store_.reset();
    store_ = backend_->Open(&clock_, readers_);
    ASSERT_NE(store_, nullptr);
  }

  std::vector<std::string> Ids(const TokenQuery& q) {
    auto ids = store_->FindIdsByToken(q);
    EXPECT_TRUE(ids.ok()) << ids.status().message();
    if (!ids.ok()) return {};
    std::sort(ids->begin(), ids->end());
    return *ids;
  }

  HistoryPage History(HistoryQuery q) {
    auto page = store_->History(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    return page.ok() ? *page : HistoryPage{};
  }

  ManualClock clock_;
  int readers_ = 4;
  std::unique_ptr<ehr::testing::StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

TokenQuery Token(std::string tenant, std::string type, std::string param, std::optional<std::string> system,
                 std::string code, int limit = 10) {
  TokenQuery q;
  q.tenant = std::move(tenant);
  q.type = std::move(type);
  q.param = std::move(param);
  q.system = std::move(system);
  q.code = std::move(code);
  q.limit = limit;
  return q;
}

std::vector<std::string> Keys(const HistoryPage& page) {
  std::vector<std::string> keys;
  for (const auto& e : page.entries) keys.push_back(e.type + "/" + e.id + "/" + std::to_string(e.version));
  return keys;
}

TEST_P(StoreContractTest, ReadsCurrentAndEarlierVersions) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "p1", 1, R"({"v":1})", 10)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "p1", 2, R"({"v":2})", 20)).ok());

  auto current = store_->ReadCurrent("t", "Patient", "p1");
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(current->has_value());
  EXPECT_EQ((*current)->version, 2);
  EXPECT_EQ((*current)->body, R"({"v":2})");
  EXPECT_EQ((*current)->method, "PUT");
  EXPECT_EQ((*current)->last_updated, 20);
  EXPECT_FALSE((*current)->deleted);

  auto first = store_->ReadVersion("t", "Patient", "p1", 1);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->body, R"({"v":1})");
  EXPECT_EQ((*first)->method, "POST");
  EXPECT_LT((*first)->seq, (*current)->seq);

  auto missing_version = store_->ReadVersion("t", "Patient", "p1", 3);
  ASSERT_TRUE(missing_version.ok());
  EXPECT_FALSE(missing_version->has_value());
  auto missing = store_->ReadCurrent("t", "Patient", "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto other_type = store_->ReadCurrent("t", "Observation", "p1");
  ASSERT_TRUE(other_type.ok());
  EXPECT_FALSE(other_type->has_value());
}

TEST_P(StoreContractTest, BodiesAreReturnedByteForByte) {
  std::string body = std::string("{\"a\":\"") + std::string("\0\xff\x01 é", 6) + "\"}";
  ASSERT_TRUE(PutOne(*store_, Version("t", "Binary", "b", 1, body)).ok());
  Reopen();
  auto read = store_->ReadCurrent("t", "Binary", "b");
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->body, body);
}

TEST_P(StoreContractTest, DeletionIsAVersionWithoutBody) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "p1", 1, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Deletion("t", "Patient", "p1", 2)).ok());
  EXPECT_EQ(*store_->CountCurrent("t", "Patient"), 0);

  auto current = store_->ReadCurrent("t", "Patient", "p1");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_TRUE((*current)->deleted);
  EXPECT_EQ((*current)->version, 2);
  EXPECT_EQ((*current)->method, "DELETE");
  EXPECT_TRUE((*current)->body.empty());
  auto before = store_->ReadVersion("t", "Patient", "p1", 1);
  ASSERT_TRUE(before.ok() && before->has_value());
  EXPECT_EQ((*before)->body, "{}");

  // Recreating after a delete continues the version sequence.
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "p1", 3, R"({"back":true})")).ok());
  EXPECT_EQ(*store_->CountCurrent("t", "Patient"), 1);
  EXPECT_FALSE((*store_->ReadCurrent("t", "Patient", "p1"))->deleted);
}

TEST_P(StoreContractTest, PutRejectsExistingAndOlderVersions) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "secret-id", 1, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "secret-id", 2, R"({"name":"secret-body"})")).ok());
  for (int64_t v : {1, 2}) {
    Status st = PutOne(*store_, Version("t", "Patient", "secret-id", v, R"({"name":"secret-body"})"));
    EXPECT_EQ(st.code(), Code::kConflict);
    EXPECT_EQ(st.message().find("secret"), std::string::npos) << "PHI in: " << st.message();
  }
  EXPECT_EQ((*store_->ReadCurrent("t", "Patient", "secret-id"))->version, 2);
  // Gaps are allowed: the caller decides the next version.
  EXPECT_TRUE(PutOne(*store_, Version("t", "Patient", "secret-id", 5, "{}")).ok());
}

TEST_P(StoreContractTest, PutRejectsMalformedVersions) {
  NewVersion deleted_with_body = Deletion("t", "Patient", "p", 1);
  deleted_with_body.body = "{}";
  EXPECT_EQ(PutOne(*store_, deleted_with_body).code(), Code::kInternal);
  EXPECT_EQ(PutOne(*store_, Version("t", "Patient", "", 1, "{}")).code(), Code::kInternal);
  EXPECT_EQ(PutOne(*store_, Version("t", "Patient", "p", 0, "{}")).code(), Code::kInternal);
  EXPECT_FALSE(store_->ReadCurrent("t", "Patient", "p")->has_value());
}

TEST_P(StoreContractTest, TransactionSeesItsOwnEarlierPuts) {
  Status st = store_->Write([](WriteTxn& txn) -> Status {
    NewVersion v = Version("t", "Patient", "p1", 1, R"({"v":1})");
    v.index.tokens = {{"identifier", "urn:mrn", "42", ""}};
    EHR_RETURN_IF_ERROR(txn.Put(v));
    EHR_ASSIGN_OR_RETURN(auto current, txn.ReadCurrent("t", "Patient", "p1"));
    if (!current || current->version != 1) return Status::Internal("first put not visible");
    EHR_ASSIGN_OR_RETURN(auto ids, txn.FindIdsByToken(Token("t", "Patient", "identifier", "urn:mrn", "42")));
    if (ids != std::vector<std::string>{"p1"}) return Status::Internal("token not visible");
    EHR_RETURN_IF_ERROR(txn.Put(Version("t", "Patient", "p1", 2, R"({"v":2})")));
    EHR_ASSIGN_OR_RETURN(current, txn.ReadCurrent("t", "Patient", "p1"));
    if (!current || current->version != 2) return Status::Internal("second put not visible");
    EHR_ASSIGN_OR_RETURN(ids, txn.FindIdsByToken(Token("t", "Patient", "identifier", "urn:mrn", "42")));
    if (!ids.empty()) return Status::Internal("replaced token still visible");
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ((*store_->ReadCurrent("t", "Patient", "p1"))->version, 2);
}

// PutLater (transaction Bundles) is Put whose failure may come later in the job: what a
// job sees, and what it leaves, are those of Put; a failure fails the whole job.
TEST_P(StoreContractTest, PutLaterWritesAsPutAndFailsTheWholeJob) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "old", 1, "{}")).ok());
  Status st = store_->Write([](WriteTxn& txn) -> Status {
    NewVersion v1 = Version("t", "Patient", "p1", 1, R"({"v":1})");
    v1.index.tokens = {{"identifier", "urn:mrn", "first", ""}};
    EHR_RETURN_IF_ERROR(txn.PutLater(v1));
    NewVersion v2 = Version("t", "Patient", "p1", 2, R"({"v":2})");
    v2.index.tokens = {{"identifier", "urn:mrn", "second", ""}};
    EHR_RETURN_IF_ERROR(txn.PutLater(v2));
    EHR_ASSIGN_OR_RETURN(auto current, txn.ReadCurrent("t", "Patient", "p1"));
    if (!current || current->version != 2 || current->body != R"({"v":2})") return Status::Internal("p1/2 not visible");
    EHR_ASSIGN_OR_RETURN(auto ids, txn.FindIdsByToken(Token("t", "Patient", "identifier", "urn:mrn", "first")));
    if (!ids.empty()) return Status::Internal("replaced token still visible");
    EHR_ASSIGN_OR_RETURN(ids, txn.FindIdsByToken(Token("t", "Patient", "identifier", "urn:mrn", "second")));
    if (ids != std::vector<std::string>{"p1"}) return Status::Internal("token not visible");
    for (int i = 0; i < 50; ++i) {
      NewVersion many = Version("t", "Observation", "o" + std::to_string(i), 1, "{}");
      many.index.tokens = {{"code", "http://loinc.org", "8302-2", ""}};
      EHR_RETURN_IF_ERROR(txn.PutLater(many));
    }
    return txn.PutLater(Deletion("t", "Patient", "old", 2));
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:mrn", "second")), std::vector<std::string>{"p1"});
  EXPECT_EQ(*store_->CountCurrent("t", "Observation"), 50);
  EXPECT_EQ(Ids(Token("t", "Observation", "code", "http://loinc.org", "8302-2", 100)).size(), 50u);
  EXPECT_TRUE((*store_->ReadCurrent("t", "Patient", "old"))->deleted);

  // A version that exists already, then one that would be new: the job fails with the
  // conflict and leaves nothing, whichever call reported it.
  st = store_->Write([](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.PutLater(Version("t", "Patient", "p1", 2, R"({"again":true})")));
    return txn.PutLater(Version("t", "Patient", "fresh", 1, "{}"));
  });
  EXPECT_EQ(st.code(), Code::kConflict) << st.message();
  EXPECT_FALSE(store_->ReadCurrent("t", "Patient", "fresh")->has_value());
  EXPECT_EQ((*store_->ReadCurrent("t", "Patient", "p1"))->body, R"({"v":2})");
}

// Prefetch changes nothing ReadCurrent answers: prefetched, absent, deleted, and after the
// job's own writes of a prefetched resource.
TEST_P(StoreContractTest, PrefetchedReadsAnswerAsReadsDo) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", 1, R"({"a":1})")).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "gone", 1, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Deletion("t", "Patient", "gone", 2)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("u", "Patient", "a", 1, R"({"other tenant":1})")).ok());
  Status st = store_->Write([](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Prefetch("t", {{"Patient", "a"}, {"Patient", "new"}, {"Patient", "gone"}}));
    EHR_ASSIGN_OR_RETURN(auto a, txn.ReadCurrent("t", "Patient", "a"));
    if (!a || a->version != 1 || a->body != R"({"a":1})") return Status::Internal("a/1 not read");
    EHR_RETURN_IF_ERROR(txn.PutLater(Version("t", "Patient", "a", 2, R"({"a":2})")));
    EHR_ASSIGN_OR_RETURN(a, txn.ReadCurrent("t", "Patient", "a"));
    if (!a || a->version != 2 || a->body != R"({"a":2})") return Status::Internal("a/2 not seen after the write");
    EHR_ASSIGN_OR_RETURN(auto fresh, txn.ReadCurrent("t", "Patient", "new"));
    if (fresh) return Status::Internal("an absent resource read as present");
    EHR_RETURN_IF_ERROR(txn.PutLater(Version("t", "Patient", "new", 1, "{}")));
    EHR_ASSIGN_OR_RETURN(fresh, txn.ReadCurrent("t", "Patient", "new"));
    if (!fresh || fresh->version != 1) return Status::Internal("new/1 not seen after the write");
    EHR_ASSIGN_OR_RETURN(auto gone, txn.ReadCurrent("t", "Patient", "gone"));
    if (!gone || !gone->deleted || gone->version != 2) return Status::Internal("the deletion not read");
    EHR_ASSIGN_OR_RETURN(auto other, txn.ReadCurrent("u", "Patient", "a"));
    if (!other || other->body != R"({"other tenant":1})") return Status::Internal("another tenant's a not read");
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ((*store_->ReadCurrent("t", "Patient", "a"))->version, 2);
}

TEST_P(StoreContractTest, CountsCurrentLiveResources) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", 1, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", 2, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "b", 1, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "c", 1, "{}")).ok());
  ASSERT_TRUE(PutOne(*store_, Deletion("t", "Patient", "c", 2)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Observation", "o", 1, "{}")).ok());
  EXPECT_EQ(*store_->CountCurrent("t", "Patient"), 2);
  EXPECT_EQ(*store_->CountCurrent("t", "Observation"), 1);
  EXPECT_EQ(*store_->CountCurrent("t", "Encounter"), 0);
  EXPECT_EQ(*store_->CountCurrent("t", ""), 3);
}

TEST_P(StoreContractTest, HistoryAtInstanceTypeAndSystemLevel) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", 1, "{}", 100)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Observation", "o", 1, "{}", 200)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "b", 1, "{}", 300)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", 2, "{}", 400)).ok());
  ASSERT_TRUE(PutOne(*store_, Deletion("t", "Patient", "a", 3, 500)).ok());

  HistoryQuery q;
  q.tenant = "t";
  EXPECT_EQ(Keys(History(q)), (std::vector<std::string>{"Patient/a/3", "Patient/a/2", "Patient/b/1",
                                                         "Observation/o/1", "Patient/a/1"}));
  q.type = "Patient";
  EXPECT_EQ(Keys(History(q)),
            (std::vector<std::string>{"Patient/a/3", "Patient/a/2", "Patient/b/1", "Patient/a/1"}));
  q.id = "a";
  HistoryPage instance = History(q);
  EXPECT_EQ(Keys(instance), (std::vector<std::string>{"Patient/a/3", "Patient/a/2", "Patient/a/1"}));
  EXPECT_FALSE(instance.more);
  EXPECT_TRUE(instance.entries[0].deleted);
  EXPECT_TRUE(instance.entries[0].body.empty());
  EXPECT_EQ(instance.entries[1].body, "{}");

  q.since = 400;  // inclusive
  EXPECT_EQ(Keys(History(q)), (std::vector<std::string>{"Patient/a/3", "Patient/a/2"}));
  q.id.clear();
  q.type.clear();
  q.since = 250;
  EXPECT_EQ(Keys(History(q)), (std::vector<std::string>{"Patient/a/3", "Patient/a/2", "Patient/b/1"}));
  q.since = 501;
  EXPECT_TRUE(History(q).entries.empty());

  HistoryQuery none;
  none.tenant = "t";
  none.type = "Encounter";
  EXPECT_TRUE(History(none).entries.empty());
  EXPECT_FALSE(History(none).more);
}

TEST_P(StoreContractTest, VersionsAfterFollowOneTypeOldestFirst) {
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", 1, R"({"n":1})", 100)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Observation", "o", 1, "{}", 200)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("u", "Patient", "x", 1, "{}", 250)).ok());
  ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "b", 1, "{}", 300)).ok());
  ASSERT_TRUE(PutOne(*store_, Deletion("t", "Patient", "a", 2, 400)).ok());
  auto all = store_->VersionsAfter("t", "Patient", 0, 10);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id + "/" + std::to_string((*all)[0].version), "a/1");
  EXPECT_EQ((*all)[0].body, R"({"n":1})");
  EXPECT_EQ((*all)[1].id, "b");
  EXPECT_TRUE((*all)[2].deleted);
  EXPECT_LT((*all)[0].seq, (*all)[1].seq);
  auto rest = store_->VersionsAfter("t", "Patient", (*all)[0].seq, 1);  // a cursor and a limit
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].id, "b");
  auto none = store_->VersionsAfter("t", "Patient", (*all)[2].seq, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreContractTest, HistoryCountAndMore) {
  for (int v = 1; v <= 5; ++v) ASSERT_TRUE(PutOne(*store_, Version("t", "Patient", "a", v, "{}")).ok());
  HistoryQuery q;
  q.tenant = "t";
  q.count = 5;
  EXPECT_FALSE(History(q).more);
  q.count = 4;
  HistoryPage page = History(q);
  EXPECT_EQ(page.entries.size(), 4u);
  EXPECT_TRUE(page.more);
  q.count = 0;
  page = History(q);
  EXPECT_TRUE(page.entries.empty());
  EXPECT_TRUE(page.more);
}

// Pages follow the seq cursor, so writes that arrive between page requests neither shift
// older entries into a later page (duplicates) nor out of it (gaps).
TEST_P(StoreContractTest, HistoryKeysetPagingIsStableUnderNewWrites) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(PutOne(*store_, Version("t", i % 2 ? "Patient" : "Observation", "r" + std::to_string(i), 1, "{}"))
                    .ok());
  }
  int writes = 0;
  for (std::string type : {"", "Patient"}) {
    HistoryQuery q;
    q.tenant = "t";
    q.type = type;
    q.count = 1000;
    std::vector<int64_t> expected;  // the whole history before the walk starts
    for (const auto& e : History(q).entries) expected.push_back(e.seq);
    ASSERT_GE(expected.size(), 12u);
    EXPECT_TRUE(std::is_sorted(expected.rbegin(), expected.rend())) << "newest first";

    q.count = 4;
    std::vector<int64_t> seqs;
    int pages = 0;
    while (true) {
      HistoryPage page = History(q);
      ++pages;
      for (const auto& e : page.entries) {
        if (!type.empty()) {
          EXPECT_EQ(e.type, type);
        }
        seqs.push_back(e.seq);
      }
      // New writes (of both types) between pages must not disturb the walk.
      for (int k = 0; k < 3; ++k) {
        ASSERT_TRUE(PutOne(*store_, Version("t", k % 2 ? "Patient" : "Observation", "new" + std::to_string(writes++),
                                            1, "{}"))
                        .ok());
      }
      if (!page.more) break;
      q.before_seq = page.entries.back().seq;
    }
    // Exactly the entries that existed when the walk began: no duplicates, no gaps.
    EXPECT_EQ(seqs, expected) << "type=" << type;
    EXPECT_EQ(pages, static_cast<int>((expected.size() + 3) / 4));
  }
}

TEST_P(StoreContractTest, TokenLookupsWithAndWithoutSystem) {
  NewVersion a = Version("t", "Patient", "a", 1, "{}");
  a.index.tokens = {{"identifier", "urn:mrn", "1", ""}, {"identifier", "urn:ssn", "9", ""}, {"gender", "", "female", ""},
              {"identifier", "urn:mrn", "1", ""}};  // a repeated token is stored once
  NewVersion b = Version("t", "Patient", "b", 1, "{}");
  b.index.tokens = {{"identifier", "urn:other", "1", ""}, {"gender", "http://hl7.org/fhir/administrative-gender", "female", ""}};
  ASSERT_TRUE(PutOne(*store_, a).ok());
  ASSERT_TRUE(PutOne(*store_, b).ok());

  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:mrn", "1")), std::vector<std::string>{"a"});
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", std::nullopt, "1")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:ssn", "1")), std::vector<std::string>{});
  EXPECT_EQ(Ids(Token("t", "Patient", "gender", "", "female")), std::vector<std::string>{"a"});  // no system
  EXPECT_EQ(Ids(Token("t", "Patient", "gender", std::nullopt, "female")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(Token("t", "Patient", "gender", std::nullopt, "male")), std::vector<std::string>{});
  EXPECT_EQ(Ids(Token("t", "Observation", "identifier", std::nullopt, "1")), std::vector<std::string>{});
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", std::nullopt, "1", 1)).size(), 1u);
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", std::nullopt, "1", 0)).size(), 0u);
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", std::nullopt, "1", -1)).size(), 0u);
}

TEST_P(StoreContractTest, TokenRowsFollowTheCurrentVersion) {
  NewVersion v1 = Version("t", "Patient", "a", 1, "{}");
  v1.index.tokens = {{"identifier", "urn:mrn", "old", ""}};
  ASSERT_TRUE(PutOne(*store_, v1).ok());
  NewVersion v2 = Version("t", "Patient", "a", 2, "{}");
  v2.index.tokens = {{"identifier", "urn:mrn", "new", ""}};
  ASSERT_TRUE(PutOne(*store_, v2).ok());
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:mrn", "old")), std::vector<std::string>{});
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:mrn", "new")), std::vector<std::string>{"a"});

  NewVersion deletion = Deletion("t", "Patient", "a", 3);
  deletion.index.tokens = {{"identifier", "urn:mrn", "new", ""}};  // ignored: a deleted version has no index rows
  ASSERT_TRUE(PutOne(*store_, deletion).ok());
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:mrn", "new")), std::vector<std::string>{});

  NewVersion back = Version("t", "Patient", "a", 4, "{}");
  back.index.tokens = {{"identifier", "urn:mrn", "back", ""}};
  ASSERT_TRUE(PutOne(*store_, back).ok());
  EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:mrn", "back")), std::vector<std::string>{"a"});
}

TEST_P(StoreContractTest, IdempotencyRecords) {
  IdempotencyRecord r{"hash-1", 201, R"({"Location":"Patient/1/_history/1"})", R"({"resourceType":"Patient"})",
                      kStart};
  EXPECT_FALSE(store_->GetIdempotency("t", "key-1")->has_value());
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    EHR_ASSIGN_OR_RETURN(auto existing, txn.GetIdempotency("t", "key-1"));
    if (existing) return Status::Internal("unexpected record");
    EHR_RETURN_IF_ERROR(txn.PutIdempotency("t", "key-1", r));
    EHR_ASSIGN_OR_RETURN(existing, txn.GetIdempotency("t", "key-1"));
    if (!existing) return Status::Internal("own record not visible");
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();

  auto got = store_->GetIdempotency("t", "key-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->request_hash, "hash-1");
  EXPECT_EQ((*got)->status, 201);
  EXPECT_EQ((*got)->headers_json, r.headers_json);
  EXPECT_EQ((*got)->body, r.body);
  EXPECT_EQ((*got)->created, kStart);

  IdempotencyRecord newer{"hash-2", 200, "{}", "later", kStart + 1};
  Status again = store_->Write([&](WriteTxn& txn) { return txn.PutIdempotency("t", "key-1", newer); });
  EXPECT_TRUE(again.ok()) << again.message();
  EXPECT_EQ((*store_->GetIdempotency("t", "key-1"))->request_hash, "hash-2");  // replaced
  // A failed write leaves no record behind.
  Status failed = store_->Write([&](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.PutIdempotency("t", "key-2", r));
    return Status::Invalid("later step failed");
  });
  EXPECT_EQ(failed.code(), Code::kInvalid);
  EXPECT_FALSE(store_->GetIdempotency("t", "key-2")->has_value());
}

TEST_P(StoreContractTest, ExpiringIdempotencyRecordsTakesTheOldestOfEveryTenant) {
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < 4; ++i) {
      for (const char* tenant : {"a", "b"}) {
        IdempotencyRecord r{"hash", 201, "{}", "kept response", kStart + i * 10 + (tenant[0] == 'b')};
        EHR_RETURN_IF_ERROR(txn.PutIdempotency(tenant, "key-" + std::to_string(i), r));
      }
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  // Made before kStart + 20: keys 0 and 1 of both tenants (4 records), 3 at a time.
  auto first = store_->ExpireIdempotency(kStart + 20, 3);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, 3);
  auto second = store_->ExpireIdempotency(kStart + 20, 3);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, 1);
  EXPECT_EQ(*store_->ExpireIdempotency(kStart + 20, 3), 0);
  for (const char* tenant : {"a", "b"}) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(store_->GetIdempotency(tenant, "key-" + std::to_string(i))->has_value(), i >= 2) << tenant << i;
    }
  }
}

// Tenant B's data is written with the same types, ids, versions, tokens and keys as A's,
// and must be invisible to every call made for tenant A.
TEST_P(StoreContractTest, TenantsNeverSeeEachOther) {
  for (std::string tenant : {"A", "B"}) {
    NewVersion v = Version(tenant, "Patient", "same", 1, R"({"tenant":")" + tenant + R"("})");
    v.index.tokens = {{"identifier", "urn:mrn", "1", ""}};
    ASSERT_TRUE(PutOne(*store_, v).ok()) << "versions are per tenant";
  }
  NewVersion only_b = Version("B", "Patient", "only-b", 1, "{}");
  only_b.index.tokens = {{"identifier", "urn:mrn", "1", ""}};
  ASSERT_TRUE(PutOne(*store_, only_b).ok());
  ASSERT_TRUE(PutOne(*store_, Version("B", "Patient", "same", 2, R"({"tenant":"B"})")).ok());
  ASSERT_TRUE(store_->Write([](WriteTxn& txn) {
                      return txn.PutIdempotency("B", "k", IdempotencyRecord{"h", 200, "{}", "b", 0});
                    }).ok());

  auto current = store_->ReadCurrent("A", "Patient", "same");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->version, 1);
  EXPECT_EQ((*current)->body, R"({"tenant":"A"})");
  EXPECT_FALSE(store_->ReadCurrent("A", "Patient", "only-b")->has_value());
  EXPECT_FALSE(store_->ReadVersion("A", "Patient", "same", 2)->has_value());
  EXPECT_FALSE(store_->ReadVersion("A", "Patient", "only-b", 1)->has_value());
  EXPECT_EQ(Ids(Token("A", "Patient", "identifier", std::nullopt, "1")), std::vector<std::string>{"same"});
  EXPECT_EQ(Ids(Token("A", "Patient", "identifier", "urn:mrn", "1")), std::vector<std::string>{"same"});
  EXPECT_EQ(*store_->CountCurrent("A", "Patient"), 1);
  EXPECT_EQ(*store_->CountCurrent("A", ""), 1);
  EXPECT_FALSE(store_->GetIdempotency("A", "k")->has_value());
  for (auto [type, id] : {std::pair<std::string, std::string>{"", ""}, {"Patient", ""}, {"Patient", "same"}}) {
    HistoryQuery q;
    q.tenant = "A";
    q.type = type;
    q.id = id;
    HistoryPage page = History(q);
    ASSERT_EQ(page.entries.size(), 1u) << type << "/" << id;
    EXPECT_EQ(page.entries[0].body, R"({"tenant":"A"})");
    EXPECT_FALSE(page.more);
  }
  Status in_txn = store_->Write([&](WriteTxn& txn) -> Status {
    EHR_ASSIGN_OR_RETURN(auto cur, txn.ReadCurrent("A", "Patient", "same"));
    if (!cur || cur->version != 1) return Status::Internal("wrong tenant's version in transaction");
    EHR_ASSIGN_OR_RETURN(auto other, txn.ReadCurrent("A", "Patient", "only-b"));
    if (other) return Status::Internal("other tenant visible in transaction");
    EHR_ASSIGN_OR_RETURN(auto ids, txn.FindIdsByToken(Token("A", "Patient", "identifier", std::nullopt, "1")));
    if (ids != std::vector<std::string>{"same"}) return Status::Internal("other tenant's tokens visible");
    EHR_ASSIGN_OR_RETURN(auto key, txn.GetIdempotency("A", "k"));
    if (key) return Status::Internal("other tenant's idempotency key visible");
    // A delete in A leaves B's resource and tokens alone.
    return txn.Put(Deletion("A", "Patient", "same", 2));
  });
  EXPECT_TRUE(in_txn.ok()) << in_txn.message();
  EXPECT_EQ(Ids(Token("B", "Patient", "identifier", std::nullopt, "1")), (std::vector<std::string>{"only-b"}));
  EXPECT_EQ(*store_->CountCurrent("B", ""), 2);
  EXPECT_FALSE((*store_->ReadCurrent("B", "Patient", "same"))->deleted);
}

TEST_P(StoreContractTest, NowIsStrictlyIncreasingAcrossJobsAndRestarts) {
  std::vector<Micros> seen;
  auto record_now = [&](WriteTxn& txn) {
    Micros first = txn.Now();
    EXPECT_EQ(txn.Now(), first) << "one timestamp per transaction";
    seen.push_back(first);
    return txn.Put(Version("t", "Patient", "p" + std::to_string(seen.size()), 1, "{}", first));
  };
  ASSERT_TRUE(store_->Write(record_now).ok());
  ASSERT_TRUE(store_->Write(record_now).ok());  // clock has not moved
  clock_.Set(kStart - 1'000'000);                // clock went backwards
  ASSERT_TRUE(store_->Write(record_now).ok());
  clock_.Set(kStart + 5'000'000);
  ASSERT_TRUE(store_->Write(record_now).ok());
  EXPECT_EQ(seen, (std::vector<Micros>{kStart, kStart + 1, kStart + 2, kStart + 5'000'000}));

  // After a restart with a clock behind the newest stored version, time still moves on.
  clock_.Set(kStart);
  Reopen();
  ASSERT_TRUE(store_->Write(record_now).ok());
  EXPECT_EQ(seen.back(), kStart + 5'000'001);
}

// Jobs that share a batch are isolated by savepoints: failures (error, exception, conflict)
// undo only their own changes and the others commit.
TEST_P(StoreContractTest, FailingJobsInABatchDoNotAffectOthers) {
  constexpr int kThreads = 40;
  std::atomic<bool> gate_running{false};
  std::thread gate([&] {
    // Holds the writer so the jobs below queue up and run as one batch.
    Status st = store_->Write([&](WriteTxn& txn) {
      gate_running = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return txn.Put(Version("t", "Patient", "dup", 1, "{}"));
    });
    EXPECT_TRUE(st.ok());
  });
  while (!gate_running) std::this_thread::yield();

  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = store_->Write([i](WriteTxn& txn) -> Status {
        std::string id = "r" + std::to_string(i);
        NewVersion v = Version("t", "Patient", id, 1, "{}");
        v.index.tokens = {{"identifier", "urn:job", id, ""}};
        EHR_RETURN_IF_ERROR(txn.Put(v));
        EHR_RETURN_IF_ERROR(txn.PutIdempotency("t", id, IdempotencyRecord{"h", 201, "{}", "", 0}));
        // An earlier failed job's rows must not be visible to a later job of the batch.
        for (int j = 0; j < i; ++j) {
          if (j % 4 == 0) continue;
          EHR_ASSIGN_OR_RETURN(auto failed, txn.ReadCurrent("t", "Patient", "r" + std::to_string(j)));
          if (failed) return Status::Internal("failed job's write visible");
        }
        switch (i % 4) {
          case 1: return Status::Invalid("rejected");
          case 2: throw std::runtime_error("boom");
          case 3: return txn.Put(Version("t", "Patient", "dup", 1, "{}"));  // conflict
          default: return Status::Ok();
        }
      });
    });
  }
  for (auto& t : threads) t.join();
  gate.join();

  for (int i = 0; i < kThreads; ++i) {
    std::string id = "r" + std::to_string(i);
    const Code expected[] = {Code::kOk, Code::kInvalid, Code::kInternal, Code::kConflict};
    EXPECT_EQ(results[i].code(), expected[i % 4]) << i << ": " << results[i].message();
    const bool committed = i % 4 == 0;
    EXPECT_EQ(store_->ReadCurrent("t", "Patient", id)->has_value(), committed) << i;
    EXPECT_EQ(Ids(Token("t", "Patient", "identifier", "urn:job", id)).size(), committed ? 1u : 0u) << i;
    EXPECT_EQ(store_->GetIdempotency("t", id)->has_value(), committed) << i;
  }
  EXPECT_EQ(*store_->CountCurrent("t", "Patient"), 1 + kThreads / 4);
  EXPECT_TRUE(store_->Ready().ok());
}

TEST_P(StoreContractTest, ThrowingFunctionBecomesInternalError) {
  Status st = store_->Write([](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Put(Version("t", "Patient", "p", 1, "{}")));
    throw 42;  // not even a std::exception
  });
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_FALSE(store_->ReadCurrent("t", "Patient", "p")->has_value());
  EXPECT_TRUE(PutOne(*store_, Version("t", "Patient", "p", 1, "{}")).ok());
}

TEST_P(StoreContractTest, NestedWriteIsRefused) {
  Status inner;
  Status outer = store_->Write([&](WriteTxn&) {
    inner = store_->Write([](WriteTxn&) { return Status::Ok(); });
    return Status::Ok();
  });
  EXPECT_TRUE(outer.ok());
  EXPECT_EQ(inner.code(), Code::kInternal);
}

TEST_P(StoreContractTest, ShutdownFinishesQueuedWrites) {
  std::atomic<bool> gate_running{false};
  std::atomic<bool> release_gate{false};
  Store* store = store_.get();  // the threads must not read store_ while it is reset
  std::thread gate([&] {
    EXPECT_TRUE(store->Write([&](WriteTxn&) {
                        gate_running = true;
                        while (!release_gate) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                        return Status::Ok();
                      }).ok());
  });
  while (!gate_running) std::this_thread::yield();
  constexpr int kWriters = 16;
  std::vector<Status> results(kWriters);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back(
        [&, i] { results[i] = PutOne(*store, Version("t", "Patient", "q" + std::to_string(i), 1, "{}")); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let every writer queue up
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    release_gate = true;
  });
  store_.reset();  // blocks until the queue has drained
  releaser.join();
  gate.join();
  for (auto& t : writers) t.join();

  Reopen();
  for (int i = 0; i < kWriters; ++i) {
    EXPECT_TRUE(results[i].ok()) << i << ": " << results[i].message();
    EXPECT_TRUE(store_->ReadCurrent("t", "Patient", "q" + std::to_string(i))->has_value()) << i;
  }
}

// 16 writers increment versions of shared resources while 8 readers check what they see.
TEST_P(StoreContractTest, ConcurrentWritersAndReaders) {
  readers_ = 8;
  Reopen();
  constexpr int kWriters = 16;
  constexpr int kReaders = 8;
  constexpr int kResources = 10;
  constexpr int kWritesPerThread = 40;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> reader_errors{0};
  std::vector<std::thread> threads;
  std::vector<std::map<int, int>> writes_per_resource(kWriters);

  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; n < kWritesPerThread; ++n) {
        const int r = (w * 7 + n) % kResources;
        const std::string id = "r" + std::to_string(r);
        Status st = store_->Write([&](WriteTxn& txn) -> Status {
          EHR_ASSIGN_OR_RETURN(auto current, txn.ReadCurrent("t", "Patient", id));
          const int64_t next = current ? current->version + 1 : 1;
          NewVersion v = Version("t", "Patient", id, next, R"({"version":)" + std::to_string(next) + "}", txn.Now());
          v.index.tokens = {{"version", "", std::to_string(next), ""}};
          return txn.Put(v);
        });
        EXPECT_TRUE(st.ok()) << st.message();
        if (st.ok()) ++writes_per_resource[w][r];
      }
      --writers_left;
    });
  }
  for (int rd = 0; rd < kReaders; ++rd) {
    threads.emplace_back([&, rd] {
      std::map<std::string, int64_t> last_seen;
      while (writers_left > 0) {
        const std::string id = "r" + std::to_string(rd % kResources);
        auto cur = store_->ReadCurrent("t", "Patient", id);
        if (!cur.ok()) {
          ++reader_errors;
          continue;
        }
        if (!cur->has_value()) continue;
        const VersionRecord& rec = **cur;
        if (rec.body != R"({"version":)" + std::to_string(rec.version) + "}") ++reader_errors;
        if (rec.version < last_seen[id]) ++reader_errors;  // versions never go backwards
        last_seen[id] = rec.version;

        HistoryQuery q;
        q.tenant = "t";
        q.type = "Patient";
        q.count = 20;
        auto page = store_->History(q);
        if (!page.ok()) {
          ++reader_errors;
          continue;
        }
        for (size_t i = 1; i < page->entries.size(); ++i) {
          if (page->entries[i].seq >= page->entries[i - 1].seq) ++reader_errors;
          if (page->entries[i].last_updated >= page->entries[i - 1].last_updated) ++reader_errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(reader_errors.load(), 0);

  int total = 0;
  for (int r = 0; r < kResources; ++r) {
    int expected = 0;
    for (const auto& per_thread : writes_per_resource) {
      auto it = per_thread.find(r);
      if (it != per_thread.end()) expected += it->second;
    }
    total += expected;
    const std::string id = "r" + std::to_string(r);
    auto cur = store_->ReadCurrent("t", "Patient", id);
    ASSERT_TRUE(cur.ok() && cur->has_value());
    EXPECT_EQ((*cur)->version, expected) << id;
    // Only the current version's token row exists.
    auto has_token = [&](int64_t version) {
      auto ids = Ids(Token("t", "Patient", "version", "", std::to_string(version), 100));
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    EXPECT_TRUE(has_token(expected)) << id;
    EXPECT_FALSE(has_token(expected - 1)) << id;
  }
  EXPECT_EQ(total, kWriters * kWritesPerThread);
  HistoryQuery all;
  all.tenant = "t";
  all.count = total + 10;
  EXPECT_EQ(History(all).entries.size(), static_cast<size_t>(total));
  EXPECT_EQ(*store_->CountCurrent("t", "Patient"), kResources);
}


INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::ValuesIn(ehr::testing::StoreBackendNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace ehr::store
