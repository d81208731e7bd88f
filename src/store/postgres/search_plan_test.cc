// The plans PostgreSQL makes of the search statements (search.h; the answers themselves are
// tested on every backend in store/search_contract_test.cc): over enough rows, with
// statistics, every clause reads its index table through an index that leads with
// (tenant, type, param), and no index table is read in full. And the search timeout.
#include <gtest/gtest.h>

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

  ehr::testing::PostgresServer server_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<pg::Connection> conn_;
};

TEST_F(PostgresSearchPlanTest, ClausesReadTheirIndexes) {
  const int n = 6000;
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < n; ++i) {
      NewVersion v;
      v.tenant = "t";
      v.type = "Patient";
      v.id = "p" + std::to_string(i);
      v.method = "POST";
      v.body = "{}";
      v.last_updated = txn.Now();
      v.index.strings.push_back({"name", "n" + std::to_string(i), "N"});
      v.index.tokens.push_back({"identifier", "urn:mrn", std::to_string(i), ""});
      v.index.tokens.push_back({"active", "", "true", ""});
      v.index.dates.push_back({"birthdate", Day(i), Day(i + 1) - 1});
      v.index.references.push_back({"organization", "Organization", "o" + std::to_string(i % 3), ""});
      v.index.content = "word" + std::to_string(i) + " common";
      EHR_RETURN_IF_ERROR(txn.Put(v));
      NewVersion o = v;
      o.type = "Observation";
      o.id = "o" + std::to_string(i);
      o.index = {};
      o.index.references.push_back({"subject", "Patient", v.id, ""});
      o.index.quantities.push_back({"value-quantity", static_cast<double>(i), "http://unitsofmeasure.org", "mg", "mg",
                                    i / 1000.0, "g"});
      EHR_RETURN_IF_ERROR(txn.Put(o));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  auto owner = pg::Connection::Open(server_.ConnectionString("postgres", "ehr"));
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE((*owner)->Exec("VACUUM ANALYZE").ok());

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
  expect(Query({"Patient"}, {Text("_content", {{{"word7"}}})}), {"text_word_lookup"});
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

}  // namespace
}  // namespace ehr::store::testing
