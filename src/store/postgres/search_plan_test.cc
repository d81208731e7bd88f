// The plans PostgreSQL makes of the search statements (search.h; the answers themselves are
// tested on every backend in store/search_contract_test.cc): over enough rows, with
// statistics, every clause reads its index table through an index that leads with
// (tenant, type, param), and no index table is read in full. And the search timeout.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "store/postgres/pg.h"
#include "store/postgres/pg_store.h"
#include "store/postgres/search.h"
#include "store/search_test_builders.h"
#include "support/postgres_server.h"

namespace ehr::store::testing {
namespace {

class PostgresSearchPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto admin = pg::Connection::Open(server_.ConnectionString());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    ASSERT_TRUE((*admin)->Exec("CREATE ROLE ehr_app LOGIN PASSWORD 'app-secret-1'").ok());
    ASSERT_TRUE((*admin)->Exec("CREATE DATABASE ehr").ok());
    PostgresOptions options;
    options.conninfo = server_.ConnectionString("ehr_app", "ehr", "app-secret-1");
    options.migrate_conninfo = server_.ConnectionString("postgres", "ehr");
    options.readers = 1;
    auto store = OpenPostgresStore(options);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    auto conn = pg::Connection::Open(options.conninfo);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_ = std::move(conn).value();
    ASSERT_TRUE(conn_->Query("SELECT set_config('ehr.tenant', 't', false)").ok());
  }

  // The plans of the page and the count; fails the test when a step reads an index table in full.
  std::string Plan(const SearchQuery& q) {
    auto plan = pg::ExplainSearch(*conn_, q, Day(20000));
    EXPECT_TRUE(plan.ok()) << plan.status().message();
    if (!plan.ok()) return "";
    for (const char* table : {"string_index", "token_index", "date_index", "number_index", "quantity_index",
                              "reference_index", "uri_index", "text_index"}) {
      EXPECT_EQ(plan->find(std::string("Seq Scan on ") + table), std::string::npos) << *plan;
    }
    return *plan;
  }

  // Statistics and the visibility map, as after a bulk load (as the database's owner).
  void Analyze() {
    auto owner = pg::Connection::Open(server_.ConnectionString("postgres", "ehr"));
    ASSERT_TRUE(owner.ok()) << owner.status().message();
    ASSERT_TRUE((*owner)->Exec("VACUUM ANALYZE").ok());
  }

  // A first version of type/id in tenant t, at the transaction's time, with no index rows.
  static NewVersion Fresh(WriteTxn& txn, const std::string& type, const std::string& id) {
    NewVersion v;
    v.tenant = "t";
    v.type = type;
    v.id = id;
    v.method = "POST";
    v.body = "{}";
    v.last_updated = txn.Now();
    return v;
  }

  ehr::testing::PostgresServer server_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<pg::Connection> conn_;
};

TEST_F(PostgresSearchPlanTest, ClausesReadTheirIndexes) {
  const int n = 6000;
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < n; ++i) {
      NewVersion v = Fresh(txn, "Patient", "p" + std::to_string(i));
      v.index.strings.push_back({"name", "n" + std::to_string(i), "N"});
      v.index.tokens.push_back({"identifier", "urn:mrn", std::to_string(i), ""});
      v.index.tokens.push_back({"active", "", "true", ""});
      v.index.dates.push_back({"birthdate", Day(i), Day(i + 1) - 1});
      v.index.references.push_back({"organization", "Organization", "o" + std::to_string(i % 3), ""});
      v.index.content = "word" + std::to_string(i) + " common";
      EHR_RETURN_IF_ERROR(txn.Put(v));
      NewVersion o = Fresh(txn, "Observation", "o" + std::to_string(i));
      o.index.references.push_back({"subject", "Patient", v.id, ""});
      o.index.quantities.push_back({"value-quantity", static_cast<double>(i), "http://unitsofmeasure.org", "mg", "mg",
                                    i / 1000.0, "g"});
      EHR_RETURN_IF_ERROR(txn.Put(o));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_NO_FATAL_FAILURE(Analyze());

  auto expect = [&](const SearchQuery& q, const std::vector<std::string>& uses) {
    const std::string plan = Plan(q);
    for (const std::string& step : uses) EXPECT_NE(plan.find(step), std::string::npos) << step << " in\n" << plan;
    std::cout << "--\n" << plan;
  };
  expect(Query({"Patient"}, {Str("name", "n599")}), {"string_lookup"});
  expect(Query({"Patient"}, {Tok("identifier", {{"urn:mrn", "7"}})}), {"token_lookup"});
  expect(Query({"Patient"}, {Code("active", "true"), Code("identifier", "7")}), {"token_lookup"});
  expect(Query({"Patient"}, {Date("birthdate", Prefix::kGe, Day(5990), Day(5991) - 1)}), {"date_"});
  expect(Query({"Patient"}, {Ref("organization", "Organization", "o1"), Code("identifier", "7")}), {"token_lookup"});
  expect(Query({"Patient"}, {Text("_content", {{{"word7"}}})}), {"text_matches"});
  expect(Query({"Observation"}, {Chain("subject", "Patient", Code("identifier", "7"))}), {"token_lookup"});
  expect(Query({"Patient"}, {Has("Observation", "subject", Ids({"o7"}))}), {"reference_"});
  SearchQuery sorted = Query({"Patient"}, {Str("name", "n599")});
  sorted.sort = {{"name", ParamKind::kString, false}};
  expect(sorted, {"string_seq"});
  QuantityValue mg = Qty(Prefix::kGt, 5990, 5989.5, 5990.5, "http://unitsofmeasure.org", "mg");
  Clause qty = Make("value-quantity", ParamKind::kQuantity);
  qty.values.push_back(mg);
  expect(Query({"Observation"}, {qty}), {"quantity_coded"});
  // A search past its time is cut off (too-costly); the connection goes on working.
  SearchQuery slow = Query({"Patient", "Observation"}, {Str("name", "n", Modifier::kContains)});
  slow.sort = {{"name", ParamKind::kString, true}, {"birthdate", ParamKind::kDate, false}};
  auto cut = pg::Search(*conn_, slow, Day(20000), /*timeout_ms=*/1);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), Code::kUnavailable);
  EXPECT_EQ(cut.status().issues()[0].code, "too-costly");
  auto done = pg::Search(*conn_, slow, Day(20000));
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->total, n);
  SearchQuery compartment = Query({"Observation"});
  compartment.compartment = CompartmentFilter{"Patient", {"p7"}, {{"Observation", "subject"}}};
  expect(compartment, {"reference_"});
}

// A chain whose targets are more than kProbeTargets (search_internal.h), or a word in more
// rows than that, is tested on each candidate of a page in seq order instead of built
// whole: the page walks the newest versions and stops; the total still counts every match.
// The answers are those of the set.
TEST_F(PostgresSearchPlanTest, AChainWithManyTargetsIsTestedPerCandidate) {
  const int n = 3300;  // 1,650 active patients, 1,100 with code 8302-2: more than kProbeTargets each
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < n; ++i) {
      NewVersion p = Fresh(txn, "Patient", "p" + std::to_string(i));
      p.index.tokens.push_back({"active", "", i % 2 == 0 ? "true" : "false", ""});
      EHR_RETURN_IF_ERROR(txn.Put(p));
      NewVersion o = Fresh(txn, "Observation", "o" + std::to_string(i));
      o.index.references.push_back({"subject", "Patient", p.id, ""});
      o.index.tokens.push_back({"code", "http://loinc.org", i % 3 == 0 ? "8302-2" : "29463-7", ""});
      o.index.content = i % 7 == 0 ? "alpha beta" : "alpha gamma beta";
      EHR_RETURN_IF_ERROR(txn.Put(o));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();

  SearchQuery q = Query({"Observation"}, {Chain("subject", "Patient", Code("active", "true"))});
  q.count = 50;
  ASSERT_NO_FATAL_FAILURE(Analyze());
  const std::string plan = Plan(q);
  const std::string page_plan = plan.substr(0, plan.find("-- total"));
  EXPECT_NE(page_plan.find("Scan Backward using resource_live"), std::string::npos) << plan;
  EXPECT_NE(page_plan.find("SubPlan"), std::string::npos) << plan;
  for (const char* lookup : {"reference_lookup", "token_lookup"}) {
    EXPECT_EQ(page_plan.find(lookup), std::string::npos) << lookup << " read for each candidate:\n" << plan;
  }

  // Newest first: o3298, o3296, ... over two pages, and the total of every match; the
  // same in the order of _lastUpdated (all written at once, so seq breaks the tie), for
  // which the page builds the set.
  std::vector<std::string> want;
  for (int i = n - 2; want.size() < 100; i -= 2) want.push_back("o" + std::to_string(i));
  auto two_pages = [&](SearchQuery query) {
    std::vector<std::string> got;
    auto first = pg::Search(*conn_, query, Day(20000));
    EXPECT_TRUE(first.ok()) << first.status().message();
    if (!first.ok()) return got;
    EXPECT_EQ(first->total, n / 2);
    query.cursor = first->next_cursor;
    auto second = pg::Search(*conn_, query, Day(20000));
    EXPECT_TRUE(second.ok()) << second.status().message();
    if (!second.ok()) return got;
    for (const auto* page : {&*first, &*second}) {
      for (const SearchMatch& m : page->matches) got.push_back(m.id);
    }
    return got;
  };
  EXPECT_EQ(two_pages(q), want);
  SearchQuery sorted = q;
  sorted.sort = {{"_lastUpdated", ParamKind::kLastUpdated, true}};
  EXPECT_EQ(two_pages(sorted), want);

  // With another clause, and with a nested chain of many targets: the same answers as
  // the sets give (the total is counted over sets).
  SearchQuery coded = Query({"Observation"}, {Chain("subject", "Patient", Code("active", "true")), Code("code", "8302-2")});
  coded.count = 1000;
  auto both = pg::Search(*conn_, coded, Day(20000));
  ASSERT_TRUE(both.ok()) << both.status().message();
  EXPECT_EQ(both->total, n / 6);
  ASSERT_EQ(both->matches.size(), static_cast<size_t>(n / 6));
  for (const SearchMatch& m : both->matches) EXPECT_EQ(std::stoi(m.id.substr(1)) % 6, 0) << m.id;

  SearchQuery nested = Query({"Observation"}, {Chain("subject", "Patient", Has("Observation", "subject", Code("code", "8302-2")))});
  nested.count = 10;
  auto through = pg::Search(*conn_, nested, Day(20000));
  ASSERT_TRUE(through.ok()) << through.status().message();
  EXPECT_EQ(through->total, n / 3);
  ASSERT_EQ(through->matches.size(), 10u);
  EXPECT_EQ(through->matches[0].id, "o" + std::to_string(n - 3));  // the newest multiple of 3

  // Full text whose longest word is in more rows than kProbeTargets: the page tests each
  // candidate's text_index row; the phrase still decides (every seventh has "alpha beta").
  SearchQuery phrase = Query({"Observation"}, {Text("_content", {{{"alpha beta"}}})});
  phrase.count = 20;
  const std::string text_plan = Plan(phrase);
  const std::string text_page = text_plan.substr(0, text_plan.find("-- total"));
  EXPECT_NE(text_page.find("Scan Backward using resource_live"), std::string::npos) << text_plan;
  EXPECT_EQ(text_page.find("text_matches"), std::string::npos) << text_plan;
  auto phrased = pg::Search(*conn_, phrase, Day(20000));
  ASSERT_TRUE(phrased.ok()) << phrased.status().message();
  EXPECT_EQ(phrased->total, (n - 1) / 7 + 1);
  ASSERT_EQ(phrased->matches.size(), 20u);
  for (size_t i = 0; i < phrased->matches.size(); ++i) {
    EXPECT_EQ(phrased->matches[i].id, "o" + std::to_string((n - 1) / 7 * 7 - 7 * static_cast<int>(i)));
  }
}

// A page sorted by a date over sets of more than kWalkAfter resources walks the date's index
// in the order of the sort (search.cc Walks): the same pages as sorting every match, ties
// by seq, a resource with its key in two rows once, and those without the date last.
TEST_F(PostgresSearchPlanTest, APageSortedByADateWalksItsIndex) {
  const int n = 6000;
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < n; ++i) {
      NewVersion o = Fresh(txn, "Observation", "o" + std::to_string(i));
      o.index.tokens.push_back({"category", "", "vital-signs", ""});
      for (const char* param : {"code", "status", "performer-type", "method"}) {  // what else Observations have
        o.index.tokens.push_back({param, "", std::to_string(i % 50), ""});
      }
      if (i % 7 != 0) {  // every seventh has no date
        o.index.dates.push_back({"date", Day(i % 500), Day(i % 500 + 1) - 1});
        if (i % 10 == 0) o.index.dates.push_back({"date", Day(i % 500), Day(i % 500 + 1) - 1});
        if (i % 10 == 1) o.index.dates.push_back({"date", Day(i % 500 - 1000), Day(i % 500 - 999) - 1});
      }
      EHR_RETURN_IF_ERROR(txn.Put(o));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_NO_FATAL_FAILURE(Analyze());

  for (const bool descending : {true, false}) {
    SearchQuery q = Query({"Observation"}, {Code("category", "vital-signs")});
    q.sort = {{"date", ParamKind::kDate, descending}};
    q.count = 500;
    q.total = TotalMode::kNone;
    const std::string plan = Plan(q);
    EXPECT_NE(plan.find(descending ? "Index Only Scan Backward using date_high" : "Index Only Scan using date_low"),
              std::string::npos)
        << plan;
    // Expected: by the key day (descending: the largest of a resource's rows, ascending: the
    // smallest, 1,000 days before for every tenth), ties by seq (written in order), no date last.
    std::vector<std::pair<int, int>> keyed;  // (key day, i)
    std::vector<int> undated;
    for (int i = 0; i < n; ++i) {
      if (i % 7 == 0) {
        undated.push_back(i);
        continue;
      }
      const int day = descending || i % 10 != 1 ? i % 500 : i % 500 - 1000;
      keyed.push_back({day, i});
    }
    std::sort(keyed.begin(), keyed.end());
    if (descending) std::reverse(keyed.begin(), keyed.end());
    if (descending) std::reverse(undated.begin(), undated.end());
    std::vector<std::string> want;
    for (const auto& [day, i] : keyed) want.push_back("o" + std::to_string(i));
    for (int i : undated) want.push_back("o" + std::to_string(i));

    std::vector<std::string> got;
    for (int page = 0; page < 20; ++page) {
      auto found = pg::Search(*conn_, q, Day(20000));
      ASSERT_TRUE(found.ok()) << found.status().message();
      for (const SearchMatch& m : found->matches) got.push_back(m.id);
      if (found->next_cursor.empty()) break;
      q.cursor = found->next_cursor;
    }
    EXPECT_EQ(got, want) << (descending ? "descending" : "ascending");
  }
}

}  // namespace
}  // namespace ehr::store::testing
