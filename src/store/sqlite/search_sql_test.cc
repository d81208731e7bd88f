// The SQLite side of search (the answers themselves are tested on every backend in
// store/search_contract_test.cc): the query plans of the main statements, the timeout, and
// how index rows are stored and migrated.
#include <sqlite3.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <tuple>

#include "store/sqlite/search_sql_fixture.h"

namespace ehr::store::sqlite {
namespace {

// One code with two texts is one row (schema.cc, migration 5): either text finds it, and
// the count of system|code (no DISTINCT) is of resources.
TEST_F(SearchSqlTest, TokenTextsOfOneCodeAreOneRow) {
  const std::string loinc = "http://loinc.org";
  IndexRows c;
  c.tokens = {{"code", loinc, "999", "Hemoglobin"}};
  Put("Observation", "c", c);
  IndexRows e;
  e.tokens = {{"code", loinc, "999", "hemoglobin"}, {"code", loinc, "999", "hb blood"},
              {"code", loinc, "999", "hemoglobin"}, {"code", loinc, "999", ""}};
  Put("Observation", "e", e);
  EXPECT_EQ(*conn_->QueryText("SELECT count(*) FROM token_index WHERE code = '999'", "test"), "2");
  auto counted = Run(Query({"Observation"}, {Tok("code", {{loinc, "999"}})}));
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->total, 2);
}

TEST_F(SearchSqlTest, NumbersAreStoredExactly) {
  const std::vector<double> values = {0.1, 1.0 / 3, 5e-324, 1.7976931348623157e308, -123456789.123456789, 2.5e-7};
  IndexRows r;
  for (double v : values) r.numbers.push_back({"n", v});
  Put("RiskAssessment", "x", r);
  auto stored = Connection::Open(options_.path, OpenMode::kReadWrite);
  ASSERT_TRUE(stored.ok());
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2((*stored)->raw(), "SELECT value FROM number_index ORDER BY value", -1, &s, nullptr),
            SQLITE_OK);
  std::vector<double> read;
  while (sqlite3_step(s) == SQLITE_ROW) read.push_back(sqlite3_column_double(s, 0));
  sqlite3_finalize(s);
  std::vector<double> expected = values;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(read, expected);
}

TEST_F(SearchSqlTest, DeletedVersionsLeaveNoIndexRows) {
  IndexRows all;
  all.strings = {{"name", "gone", "gone"}};
  all.tokens = {{"identifier", "s", "1", ""}};
  all.dates = {{"birthdate", Day(1), Day(2)}};
  all.numbers = {{"n", 1}};
  all.quantities = {{"q", 1, "", "", "", 0, ""}};
  all.references = {{"general-practitioner", "Practitioner", "1", ""}};
  all.uris = {{"u", "urn:x"}};
  Put("Patient", "b", all);
  Delete("Patient", "b");
  for (const char* table : {"string_index", "token_index", "date_index", "number_index", "quantity_index",
                            "reference_index", "uri_index"}) {
    EXPECT_EQ(*conn_->QueryText(std::string("SELECT count(*) FROM ") + table +
                                    " x JOIN resource_version r ON r.seq = x.seq WHERE r.id = 'b'",
                                "test"),
              "0")
        << table;
  }
}

TEST_F(SearchSqlTest, SlowSearchTimesOut) {
  for (int i = 0; i < 300; ++i) Put("Patient", "p" + std::to_string(i), Strings("name", {"n" + std::to_string(i)}));
  auto page = Run(Query({"Patient"}, {Str("name", "n", Modifier::kContains)}), 0, /*timeout_ms=*/0);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), Code::kUnavailable);
  EXPECT_EQ(page.status().issues()[0].code, "too-costly");
  EXPECT_TRUE(Run(Query({"Patient"}, {Str("name", "n", Modifier::kContains)})).ok()) << "the connection still works";
}

TEST_F(SearchSqlTest, MainQueriesUseIndexes) {
  // Enough patients that a clause all of them share is too big to drive the search.
  const int n = 6000;
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < n; ++i) {
      NewVersion v = store::testing::Version("t", "Patient", "p" + std::to_string(i), 1, "{}", clock_.Now());
      v.index.strings.push_back({"name", "n" + std::to_string(i), "N"});
      if (i == 0) v.index.strings.push_back({"name", "nn", "Nn"});  // two rows in `name=n`
      v.index.tokens.push_back({"identifier", "urn:mrn", std::to_string(i), ""});
      v.index.tokens.push_back({"active", "", "true", ""});
      v.index.references.push_back({"organization", "Organization", "o" + std::to_string(i % 3), ""});
      EHR_RETURN_IF_ERROR(txn.Put(v));
    }
    // One resource of each other type queried below, so that its parameters have keys.
    NewVersion o = store::testing::Version("t", "Observation", "o", 1, "{}", clock_.Now());
    o.index.dates.push_back({"date", Day(10), Day(11) - 1});
    o.index.references.push_back({"subject", "Patient", "p7", ""});
    o.index.quantities.push_back({"value-quantity", 5, "http://unitsofmeasure.org", "mg", "mg", 0.005, "g"});
    o.index.quantities.push_back({CompositeParam("code-value-quantity", "x", "s"), 5, "", "", "", 0, ""});
    o.index.content = "x";
    EHR_RETURN_IF_ERROR(txn.Put(o));
    NewVersion r = store::testing::Version("t", "RiskAssessment", "r", 1, "{}", clock_.Now());
    r.index.numbers.push_back({"probability", 1});
    EHR_RETURN_IF_ERROR(txn.Put(r));
    NewVersion vs = store::testing::Version("t", "ValueSet", "v", 1, "{}", clock_.Now());
    vs.index.uris.push_back({"url", "http://a/b"});
    EHR_RETURN_IF_ERROR(txn.Put(vs));
    NewVersion qr = store::testing::Version("t", "QuestionnaireResponse", "q", 1, "{}", clock_.Now());
    qr.index.references.push_back({"questionnaire", "", "", "http://a/Questionnaire/q"});
    EHR_RETURN_IF_ERROR(txn.Put(qr));
    EHR_RETURN_IF_ERROR(txn.Put(store::testing::Version("t", "Organization", "o1", 1, "{}", clock_.Now())));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  auto expect_plan = [&](const SearchQuery& q, const std::vector<std::string>& uses) {
    const std::string plan = PlanText(q);
    for (const auto& step : uses) EXPECT_NE(plan.find(step), std::string::npos) << step << " in\n" << plan;
    // No index table is read in full: every access to one is a SEARCH with a constraint.
    EXPECT_EQ(plan.find("SCAN x"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("SCAN r"), std::string::npos) << plan;
    std::cout << "--\n" << plan;
  };
  // A selective set drives the page: its versions are looked up by rowid. Alone, it is
  // counted in the index without a lookup per version.
  const std::string by_seq = "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)";
  expect_plan(Query({"Patient"}, {Str("name", "n1")}),
              {by_seq, "SEARCH x1 USING PRIMARY KEY (pk=? AND normalized>? AND normalized<?)",
               "-- total\nUSE TEMP B-TREE FOR count(DISTINCT)\nSEARCH x1 USING PRIMARY KEY (pk=? AND normalized>? "
               "AND normalized<?)"});
  expect_plan(Query({"Patient"}, {Tok("identifier", {{"urn:mrn", "7"}})}),
              {by_seq, "USING PRIMARY KEY (pk=? AND code=? AND system=?)"});
  // system|code alone: counted over the primary key's range, each row a version.
  SearchQuery active = Query({"Patient"}, {Tok("active", {{"", "true"}})});
  expect_plan(active, {"-- total\nSEARCH x1 USING PRIMARY KEY (pk=? AND code=? AND system=?)"});
  EXPECT_EQ(PlanText(active).find("TEMP B-TREE"), std::string::npos);
  // The selective clause drives, the other is probed; the count does the same.
  expect_plan(Query({"Patient"}, {Code("active", "true"), Code("identifier", "7")}),
              {by_seq, "USING PRIMARY KEY (pk=? AND code=?)"});
  // Nothing selective: walk newest first and stop after a page, probing each candidate
  // (one seek of the set's seq index); the total is counted in the index alone.
  expect_plan(Query({"Patient"}, {Code("active", "true")}),
              {"SEARCH r USING COVERING INDEX resource_live_seq (tenant=? AND type=? AND deleted=? AND is_current=?)",
               "token_seq (seq=? AND pk=? AND code=?)",
               "-- total\nUSE TEMP B-TREE FOR count(DISTINCT)\nSEARCH x1 USING PRIMARY KEY (pk=? AND code=?)"});
  expect_plan(Query({"Patient"}), {"SEARCH r USING COVERING INDEX resource_live_seq"});
  SearchQuery by_updated = Query({"Patient"}, {Code("active", "true")});
  by_updated.sort = {{"_lastUpdated", ParamKind::kLastUpdated, true}};
  expect_plan(by_updated, {"SEARCH r USING COVERING INDEX resource_live_updated"});
  const std::string updated_plan = PlanText(by_updated);
  EXPECT_EQ(updated_plan.substr(0, updated_plan.find("-- total")).find("TEMP B-TREE"), std::string::npos)
      << "the index has the order";
  SearchQuery sorted = Query({"Patient"}, {Str("name", "n1")});
  sorted.sort = {{"name", ParamKind::kString, false}};
  expect_plan(sorted, {by_seq, "SEARCH s USING COVERING INDEX string_seq (seq=? AND pk=?)"});
  expect_plan(Query({"Observation"}, {Chain("subject", "Patient", Code("identifier", "7"))}),
              {"USING PRIMARY KEY (pk=? AND code=?)", "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)",
               "reference_target (target_id=? AND target_type=? AND pk=?)"});
  expect_plan(Query({"Organization"}, {Has("Patient", "organization", Code("identifier", "7"))}),
              {"USING PRIMARY KEY (pk=? AND code=?)", "USING COVERING INDEX reference_seq (seq=? AND pk=? AND target_type=?)",
               "resource_live_id (tenant=? AND type=? AND deleted=? AND is_current=? AND id=?)"});
  expect_plan(Query({}, {Code("identifier", "7")}), {by_seq});
  // The other kinds: each value is one range of the table's key or of its second index.
  expect_plan(Query({"Observation"}, {Date("date", Prefix::kGe, Day(10), Day(11) - 1)}),
              {"date_high (pk=? AND high>?)"});
  expect_plan(Query({"Observation"}, {Date("date", Prefix::kLt, Day(10), Day(11) - 1)}),
              {"PRIMARY KEY (pk=? AND low<?)"});
  expect_plan(Query({"Observation"}, {Date("date", Prefix::kEq, Day(10), Day(11) - 1)}),
              {"PRIMARY KEY (pk=? AND low>? AND low<?)"});
  expect_plan(Query({"Observation"}, {Date("date", Prefix::kLe, Day(10), Day(11) - 1)}),
              {"PRIMARY KEY (pk=? AND low<?)"});
  expect_plan(Query({"Observation"}, {Date("date", Prefix::kAp, Day(10), Day(11) - 1)}),
              {"date_high (pk=? AND high>?)"});
  expect_plan(Query({"RiskAssessment"}, {Num("probability", Prefix::kGt, 1, 0.5, 1.5)}),
              {"PRIMARY KEY (pk=? AND value>?)"});
  Clause qty = Make("value-quantity", ParamKind::kQuantity);
  QuantityValue mg = Qty(Prefix::kEq, 5, 4.5, 5.5, "http://unitsofmeasure.org", "mg");
  qty.values.push_back(mg);
  expect_plan(Query({"Observation"}, {qty}),
              {"quantity_coded (pk=? AND system=? AND code=? AND value>? AND value<?)"});
  mg.canonical_unit = "g";
  qty.values = {mg};
  expect_plan(Query({"Observation"}, {qty}),
              {"PRIMARY KEY (pk=? AND canonical_unit=? AND canonical_value>? AND canonical_value<?)"});
  expect_plan(Query({"ValueSet"}, {UriIs("url", "http://a/", Modifier::kBelow)}),
              {"PRIMARY KEY (pk=? AND uri>? AND uri<?)"});
  Clause canonical = Make("questionnaire", ParamKind::kReference);
  canonical.values.push_back(ReferenceValue{"", "", "http://a/Questionnaire/q"});
  expect_plan(Query({"QuestionnaireResponse"}, {canonical}), {"reference_url (pk=? AND url=?)"});
  Clause composite = Make("code-value-quantity", ParamKind::kComposite);
  composite.components = {ParamKind::kToken, ParamKind::kQuantity};
  composite.values.push_back(CompositeValue{{TokenValue{std::nullopt, "x"}, Qty(Prefix::kGt, 5, 4.5, 5.5, "", "")}});
  expect_plan(Query({"Observation"}, {composite}), {"(pk=?"});
  // Full text: the FTS5 index (a MATCH, shown as a "scan" of the virtual table's index).
  const std::string text_plan = PlanText(Query({"Observation"}, {Text("_content", {{{"x"}}})}));
  EXPECT_NE(text_plan.find("x1 VIRTUAL TABLE INDEX 0:M"), std::string::npos) << text_plan;
  Clause lu = Make("_lastUpdated", ParamKind::kLastUpdated);
  lu.values.push_back(DateValue{Prefix::kGt, Day(10), Day(11) - 1});
  expect_plan(Query({"Patient"}, {lu}), {"resource_live_seq", "-- total\nSEARCH r USING COVERING INDEX resource_live_updated"});
  // And the answers agree with the plans. Counted in the index, a resource with two
  // matching rows still counts once.
  SearchQuery by_name = Query({"Patient"}, {Str("name", "n")});
  by_name.count = 0;
  EXPECT_NE(PlanText(by_name).find("-- total\nUSE TEMP B-TREE FOR count(DISTINCT)\nSEARCH x1 USING PRIMARY KEY "
                                    "(pk=? AND normalized>? AND normalized<?)"),
            std::string::npos)
      << PlanText(by_name);
  EXPECT_EQ(Run(by_name)->total, n);
  // The driver counted in the index alone: n1, n10-n19, n100-n199, n1000-n1999.
  EXPECT_EQ(Run(Query({"Patient"}, {Str("name", "n1")}))->total, 1111);
  SearchQuery two = Query({"Patient"}, {Str("name", "n"), Code("active", "true")});
  EXPECT_EQ(Run(two)->total, n);
  EXPECT_EQ(Find(Query({"Patient"}, {Code("active", "true"), Code("identifier", "7")})), (V{"p7"}));
  auto page = Run(Query({"Patient"}, {Code("active", "true")}));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, n);
  EXPECT_EQ(page->matches.size(), 100u);
  EXPECT_EQ(page->matches[0].id, "p" + std::to_string(n - 1));
}

// A chain too wide to drive (more than 5,000 rows) is probed per candidate: each
// candidate's target looked up by id and tested on its own seq.
TEST_F(SearchSqlTest, WideChainIsProbedPerCandidate) {
  const int n = 7600;
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (const char* id : {"m1", "m2", "f1"}) {
      NewVersion p = store::testing::Version("t", "Patient", id, 1, "{}", clock_.Now());
      p.index.tokens.push_back({"gender", "", id[0] == 'm' ? "male" : "female", ""});
      EHR_RETURN_IF_ERROR(txn.Put(p));
    }
    for (int i = 0; i < n; ++i) {
      const char* subject = i % 3 == 0 ? "m1" : i % 3 == 1 ? "m2" : "f1";
      NewVersion o = store::testing::Version("t", "Observation", std::string(subject) + "-" + std::to_string(i), 1,
                                             "{}", clock_.Now());
      o.index.references.push_back({"subject", "Patient", subject, ""});
      EHR_RETURN_IF_ERROR(txn.Put(o));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  SearchQuery q = Query({"Observation"}, {Chain("subject", "Patient", Code("gender", "male"))});
  q.count = 50;
  auto page = Run(q);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->matches.size(), 50u);
  for (const auto& m : page->matches) EXPECT_EQ(m.id[0], 'm') << m.id;
  EXPECT_EQ(page->total, (n + 2) / 3 + (n + 1) / 3) << "i % 3 == 0 (m1) and i % 3 == 1 (m2)";
  EXPECT_NE(PlanText(q).find("resource_live_id (tenant=? AND type=? AND deleted=? AND is_current=? AND id=?)"),
            std::string::npos)
      << PlanText(q);
  EXPECT_EQ(Walk(Query({"Observation"}, {Chain("subject", "Patient", Code("gender", "female"))}), 1000).size(),
            static_cast<size_t>(n / 3));
}

TEST(SearchSqlMigration, TokenTextsOfOneCodeAreMerged) {
  TempDir dir;
  auto conn = Connection::Open(dir.File("ehr.db"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(Migrate(**conn, Migrations().first(4), 0).ok());
  const char* v4 =
      "INSERT INTO search_param (pk, tenant, type, param) VALUES (1, 't', 'Observation', 'code'), "
      "(2, 't', 'Patient', 'identifier:of-type');"
      "INSERT INTO token_index (pk, code, system, text, seq) VALUES (1, 'c', 's', 'blood', 7), "
      "(1, 'c', 's', 'glucose', 7), (1, 'c', 's', '', 8), (1, 'd', 's', 'x', 7), "
      "(2, 'MR', 'v2', '123', 7), (2, 'MR', 'v2', '456', 7);";
  ASSERT_TRUE((*conn)->ExecScript(v4, "test").ok());
  ASSERT_TRUE(Migrate(**conn, Migrations(), 0).ok());
  EXPECT_EQ(*(*conn)->QueryText("SELECT group_concat(pk || ':' || replace(code, char(31), '~') || ':' || seq || ':' || "
                                "replace(text, char(31), '~'), ' ') FROM (SELECT * FROM token_index ORDER BY pk, code, seq)",
                                "test"),
            "1:c:7:~blood~glucose 1:c:8: 1:d:7:~x 2:MR~123:7: 2:MR~456:7:");
  EXPECT_EQ(*(*conn)->QueryText("SELECT group_concat(DISTINCT s.system) FROM token_index x "
                                "JOIN token_system s ON s.id = x.system WHERE x.pk = 2",
                                "test"),
            "v2")
      << "systems by number (migration 6)";
}

TEST(SearchSqlMigration, IndexRowsOfEarlierVersionsAreKept) {
  TempDir dir;
  auto conn = Connection::Open(dir.File("ehr.db"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(Migrate(**conn, Migrations().first(1), 0).ok());
  const char* v1 =
      "INSERT INTO resource_version (tenant, type, id, version, last_updated, deleted, method, body, is_current) "
      "VALUES ('t', 'Patient', 'p', 1, 0, 0, 'POST', '{}', 0), ('t', 'Patient', 'p', 2, 0, 0, 'PUT', '{}', 1), "
      "('u', 'Patient', 'p', 1, 0, 0, 'POST', '{}', 1);"
      "INSERT INTO token_index VALUES ('t', 'Patient', 'p', 'identifier', 's', '1'), "
      "('u', 'Patient', 'p', 'identifier', 's', '2');";
  ASSERT_TRUE((*conn)->ExecScript(v1, "test").ok());
  ASSERT_TRUE(Migrate(**conn, Migrations().first(2), 0).ok());
  const char* v2 =
      "INSERT INTO reference_index VALUES ('t', 'Patient', 'p', 'general-practitioner', 'Practitioner', 'd', ''); "
      "INSERT INTO date_index VALUES ('u', 'Patient', 'p', 'birthdate', 10, 20);";
  ASSERT_TRUE((*conn)->ExecScript(v2, "test").ok());
  ASSERT_TRUE(Migrate(**conn, Migrations(), 0).ok());
  // Each row now names the current version (seq 2 for t's p, 3 for u's) and its tenant's
  // parameter key.
  EXPECT_EQ(*(*conn)->QueryText("SELECT group_concat(p.tenant || ':' || x.seq || ':' || s.system || '|' || x.code "
                                "|| '|' || x.text, ' ') FROM (SELECT * FROM token_index ORDER BY seq) x "
                                "JOIN search_param p ON p.pk = x.pk AND p.param = 'identifier' "
                                "JOIN token_system s ON s.id = x.system",
                                "test"),
            "t:2:s|1| u:3:s|2|");
  EXPECT_EQ(*(*conn)->QueryText("SELECT p.tenant || ':' || x.seq || ':' || x.target_type || '/' || x.target_id "
                                "FROM reference_index x JOIN search_param p ON p.pk = x.pk",
                                "test"),
            "t:2:Practitioner/d");
  EXPECT_EQ(*(*conn)->QueryText("SELECT p.tenant || ':' || x.seq || ':' || x.low || '-' || x.high "
                                "FROM date_index x JOIN search_param p ON p.pk = x.pk",
                                "test"),
            "u:3:10-20");
}

}  // namespace
}  // namespace ehr::store::sqlite
