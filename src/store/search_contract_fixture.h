// The fixture of the search tests run on every backend (issue 8: the same queries give the
// same answers on SQLite and PostgreSQL): a fresh store per test (support/store_backends.h)
// with hand-written index rows (the indexer is not involved), searched through
// store::Store::Search, whose `now` is the fixture's clock.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/search_test_builders.h"
#include "store/sqlite/test_util.h"
#include "store/store.h"
#include "support/store_backends.h"

namespace ehr::store::testing {

class SearchTest : public ::testing::TestWithParam<std::string> {
 protected:
  SearchTest() : clock_(Day(20000)), backend_(ehr::testing::MakeStoreBackend(GetParam())) {
    store_ = backend_->Open(&clock_);
  }
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  bool postgres() const { return GetParam() == "postgres"; }

  // Writes the next version of Type/id with these index rows.
  void Put(const std::string& type, const std::string& id, IndexRows rows, const std::string& tenant = "t",
           Micros last_updated = 0) {
    int64_t& version = versions_[tenant + "/" + type + "/" + id];
    NewVersion v = Version(tenant, type, id, ++version, R"({"id":")" + id + R"("})",
                           last_updated != 0 ? last_updated : clock_.Now());
    v.index = std::move(rows);
    clock_.Advance(1000);
    Status st = PutOne(*store_, v);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void Delete(const std::string& type, const std::string& id, const std::string& tenant = "t") {
    int64_t& version = versions_[tenant + "/" + type + "/" + id];
    ASSERT_TRUE(PutOne(*store_, Deletion(tenant, type, id, ++version)).ok());
  }

  // The search, its `now` the clock's (or `now` when given: the clock is set to it meanwhile).
  Result<SearchPage> Run(const SearchQuery& q, Micros now = 0) {
    if (now == 0) return store_->Search(q);
    const Micros before = clock_.Now();
    clock_.Set(now);
    Result<SearchPage> page = store_->Search(q);
    clock_.Set(before);
    return page;
  }

  // Ids of the first page, sorted (type-qualified when `qualified`).
  std::vector<std::string> Find(const SearchQuery& q, bool qualified = false) {
    auto page = Run(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (!page.ok()) return {"<error>"};
    std::vector<std::string> ids;
    for (const auto& m : page->matches) ids.push_back(qualified ? m.type + "/" + m.id : m.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::vector<std::string> Find(std::vector<std::string> types, std::vector<Clause> clauses) {
    return Find(Query(std::move(types), std::move(clauses)));
  }

  // Type-qualified ids of the first page, sorted; the page's total must count them.
  std::vector<std::string> FindCounted(const SearchQuery& q) {
    std::vector<std::string> found = Find(q, true);
    auto page = Run(q);
    EXPECT_TRUE(page.ok() && page->total == static_cast<int64_t>(found.size())) << "the total counts what the page shows";
    return found;
  }

  // Every page in order, following next_cursor; ids in the order returned.
  std::vector<std::string> Walk(SearchQuery q, int count) {
    q.count = count;
    std::vector<std::string> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = Run(q);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) break;
      EXPECT_LE(page->matches.size(), static_cast<size_t>(count));
      for (const auto& m : page->matches) ids.push_back(m.id);
      if (page->next_cursor.empty()) break;
      EXPECT_EQ(page->matches.size(), static_cast<size_t>(count)) << "only the last page may be short";
      q.cursor = page->next_cursor;
    }
    return ids;
  }

  ManualClock clock_;
  std::unique_ptr<ehr::testing::StoreBackend> backend_;
  std::unique_ptr<Store> store_;
  std::map<std::string, int64_t> versions_;
};

// Instantiates a suite of SearchTest (or a fixture derived from it) on every backend.
#define EHR_SEARCH_ON_EVERY_BACKEND(suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::ValuesIn(ehr::testing::StoreBackendNames()), \
                           [](const ::testing::TestParamInfo<std::string>& info) { return info.param; })

}  // namespace ehr::store::testing
