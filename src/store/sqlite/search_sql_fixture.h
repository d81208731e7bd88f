// The fixture of the SQLite-only search tests (query plans, timeouts, storage details; the
// search tests of every backend are store/search_contract_test.cc): a store in a temporary
// directory with hand-written index rows, and helpers that run a search on one connection.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "store/search_test_builders.h"
#include "store/sqlite/queries.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/test_util.h"

namespace ehr::store::sqlite {

using namespace store::testing;  // TempDir, OpenOrDie, the clause builders (store/search_test_builders.h)

class SearchSqlTest : public ::testing::Test {
 protected:
  SearchSqlTest() : clock_(Day(20000)) {
    options_.path = dir_.File("ehr.db");
    options_.clock = &clock_;
    store_ = OpenOrDie(options_);
    auto conn = Connection::Open(options_.path, OpenMode::kReadWrite);
    EXPECT_TRUE(conn.ok());
    if (conn.ok()) conn_ = std::move(conn).value();
  }

  // Writes the next version of Type/id with these index rows.
  void Put(const std::string& type, const std::string& id, IndexRows rows, const std::string& tenant = "t",
           Micros last_updated = 0) {
    int64_t& version = versions_[tenant + "/" + type + "/" + id];
    NewVersion v = store::testing::Version(tenant, type, id, ++version, R"({"id":")" + id + R"("})",
                                           last_updated != 0 ? last_updated : clock_.Now());
    v.index = std::move(rows);
    clock_.Advance(1000);
    Status st = store::testing::PutOne(*store_, v);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  void Delete(const std::string& type, const std::string& id, const std::string& tenant = "t") {
    int64_t& version = versions_[tenant + "/" + type + "/" + id];
    ASSERT_TRUE(store::testing::PutOne(*store_, store::testing::Deletion(tenant, type, id, ++version)).ok());
  }

  Result<SearchPage> Run(const SearchQuery& q, Micros now = 0, int64_t timeout_ms = 30'000) {
    SearchOptions o;
    o.now = now != 0 ? now : clock_.Now();
    o.timeout_ms = timeout_ms;
    return Search(*conn_, q, o);
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

  std::string PlanText(const SearchQuery& q) {
    auto plan = ExplainSearch(*conn_, q, SearchOptions{});
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    std::string text;
    if (plan.ok()) {
      for (const auto& line : plan->page) text += line + "\n";
      text += "-- total\n";
      for (const auto& line : plan->total) text += line + "\n";
    }
    return text;
  }

  TempDir dir_;
  ManualClock clock_;
  SqliteOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Connection> conn_;
  std::map<std::string, int64_t> versions_;
};

}  // namespace ehr::store::sqlite
