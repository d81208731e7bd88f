// Search over hand-written index rows (the indexer is not involved), on every backend
// (issue 8: SQLite and PostgreSQL answer alike): every parameter kind, prefix and modifier,
// tenants, compartments and limits (chains, _has, includes, sorting and paging:
// search_graph_contract_test.cc). What only one backend has (SQLite's query plans and
// timeouts, PostgreSQL's plans) is tested beside it.
#include <cmath>
#include <limits>

#include "store/search_contract_fixture.h"

namespace ehr::store::testing {
namespace {


TEST_P(SearchTest, StringStartsWithContainsAndExact) {
  IndexRows a;
  a.strings = {{"name", "peter", "Peter"}, {"name", "pan", "Pan"}};
  Put("Patient", "a", a);
  Put("Patient", "b", Strings("name", {"petra"}));
  Put("Patient", "c", Strings("name", {"pet"}));
  Put("Patient", "d", Strings("name", {"anna peterson"}));
  Put("Patient", "e", Strings("name", {"100%_done", "\xc3\xa9t\xc3\xa9"}));  // "été"
  Put("Patient", "f", Strings("name", {"100xydone"}));
  Put("Patient", "g", Strings("family", {"peter"}));  // another parameter

  EXPECT_EQ(Find({"Patient"}, {Str("name", "pet")}), (V{"a", "b", "c"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "peter")}), (V{"a"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "peterx")}), V{});
  EXPECT_EQ(Find({"Patient"}, {Str("name", "\xc3\xa9t")}), (V{"e"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "eter", Modifier::kContains)}), (V{"a", "d"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "%_", Modifier::kContains)}), (V{"e"})) << "no LIKE wildcards";
  EXPECT_EQ(Find({"Patient"}, {Str("name", "Peter", Modifier::kExact)}), (V{"a"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "peter", Modifier::kExact)}), V{}) << "exact compares the text as written";
  EXPECT_EQ(Find({"Patient"}, {Str("name", "PET")}), (V{"a", "b", "c"}));
  EXPECT_EQ(Find({"Practitioner"}, {Str("name", "pet")}), V{});
}

TEST_P(SearchTest, TokenForms) {
  IndexRows a;
  a.tokens = {{"code", "http://loinc.org", "1234-5", "glucose blood"}, {"code", "", "local", ""}};
  Put("Observation", "a", a);
  IndexRows b;
  b.tokens = {{"code", "http://snomed.info/sct", "1234-5", "glucose"}};
  Put("Observation", "b", b);
  IndexRows c;
  c.tokens = {{"code", "http://loinc.org", "999", "Hemoglobin"}, {"status", "", "final", ""}};
  Put("Observation", "c", c);
  Put("Observation", "d", {});  // no code at all

  const std::string loinc = "http://loinc.org";
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{loinc, "1234-5"}})}), (V{"a"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "1234-5"}})}), (V{"a", "b"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{"", "local"}})}), (V{"a"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{"", "1234-5"}})}), V{}) << "|code: rows without a system";
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{loinc, std::nullopt}})}), (V{"a", "c"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{loinc, "999"}, {"http://snomed.info/sct", "1234-5"}})}), (V{"b", "c"}))
      << "values are OR-ed";
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "gluc"}}, Modifier::kText)}), (V{"a", "b"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "glucose b"}}, Modifier::kText)}), (V{"a"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "1234-5"}}, Modifier::kNot)}), (V{"c", "d"}))
      << ":not includes resources without the parameter";
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "1234-5"}, {std::nullopt, "999"}}, Modifier::kNot)}),
            (V{"d"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "1234-5"}}), Code("status", "final")}), V{})
      << "clauses are AND-ed";
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{loinc, std::nullopt}}), Code("status", "final")}), (V{"c"}));
  // One code with two texts is one row (schema.cc, migration 5): either text finds it, and
  // the count of system|code (no DISTINCT) is of resources.
  IndexRows e;
  e.tokens = {{"code", loinc, "999", "hemoglobin"}, {"code", loinc, "999", "hb blood"},
              {"code", loinc, "999", "hemoglobin"}, {"code", loinc, "999", ""}};
  Put("Observation", "e", e);
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "hb"}}, Modifier::kText)}), (V{"e"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "blood"}}, Modifier::kText)}), V{})
      << "a text is matched from its start";
  EXPECT_EQ(Find({"Observation"}, {Tok("code", {{std::nullopt, "hemo"}}, Modifier::kText)}), (V{"e"}))
      << "c's text was not normalised (the indexer's job)";
  auto counted = Run(Query({"Observation"}, {Tok("code", {{loinc, "999"}})}));
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->total, 2);
  // The API layer expands hierarchies and value sets (api/value_sets.h): one reaching the
  // store unexpanded is a bug, never a silently wrong answer.
  auto above = Run(Query({"Observation"}, {Tok("code", {{loinc, "1"}}, Modifier::kAbove)}));
  ASSERT_FALSE(above.ok());
  EXPECT_EQ(above.status().code(), Code::kInternal);
}

// A value set's expansion: hundreds of system|code values are one arm of pairs (past
// kArmsBeforeList), which matches as the values one by one would, also under :not, and
// mixed with values that are not pairs.
TEST_P(SearchTest, LongTokenListsMatchLikeShortOnes) {
  const std::string loinc = "http://loinc.org";
  IndexRows a, b, c, d;
  a.tokens = {{"code", loinc, "code-7", ""}};
  b.tokens = {{"code", "http://snomed.info/sct", "code-7", ""}};  // same code, another system
  c.tokens = {{"code", "", "code-299", ""}};                     // no system
  d.tokens = {{"code", loinc, "other", ""}};
  Put("Observation", "a", a);
  Put("Observation", "b", b);
  Put("Observation", "c", c);
  Put("Observation", "d", d);
  std::vector<TokenValue> values;
  for (int i = 0; i < 300; ++i) {
    values.push_back({loinc, "code-" + std::to_string(i)});
    values.push_back({"", "code-" + std::to_string(i)});
  }
  EXPECT_EQ(Find({"Observation"}, {Tok("code", values)}), (V{"a", "c"}));
  EXPECT_EQ(Find({"Observation"}, {Tok("code", values, Modifier::kNot)}), (V{"b", "d"}));
  values.push_back({std::nullopt, "other"});  // any system: an arm of its own
  EXPECT_EQ(Find({"Observation"}, {Tok("code", values)}), (V{"a", "c", "d"}));
  auto counted = Run(Query({"Observation"}, {Tok("code", values)}));
  ASSERT_TRUE(counted.ok()) << counted.status().message();
  EXPECT_EQ(counted->total, 3);
  values.resize(1001, TokenValue{loinc, "x"});
  auto too_many = Run(Query({"Observation"}, {Tok("code", values)}));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), Code::kInvalid);
}

TEST_P(SearchTest, DatePrefixes) {
  // Search value: all of day 10. Rows named by where they lie relative to it.
  const Micros vl = Day(10), vh = Day(11) - 1;
  const std::map<std::string, std::pair<Micros, Micros>> rows = {
      {"before", {Day(5), Day(5) + kHour}},
      {"near_before", {Day(8) + 12 * kHour, Day(8) + 13 * kHour}},
      {"overlap_start", {Day(9), Day(10) + kHour}},
      {"inside", {Day(10) + kHour, Day(10) + 2 * kHour}},
      {"same", {vl, vh}},
      {"around", {Day(9), Day(12)}},
      {"overlap_end", {Day(10) + kHour, Day(12)}},
      {"near_after", {Day(11) + 12 * kHour, Day(11) + 13 * kHour}},
      {"after", {Day(15), Day(15) + kHour}},
      {"open_end", {Day(10) + kHour, std::numeric_limits<Micros>::max()}},
  };
  for (const auto& [id, range] : rows) {
    IndexRows r;
    r.dates.push_back({"date", range.first, range.second});
    Put("Observation", id, r);
  }
  auto find = [&](Prefix p) {
    SearchQuery q = Query({"Observation"}, {Date("date", p, vl, vh)});
    auto page = Run(q, /*now=*/Day(20));
    EXPECT_TRUE(page.ok()) << page.status().message();
    V ids;
    if (page.ok()) {
      for (const auto& m : page->matches) ids.push_back(m.id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(find(Prefix::kEq), (V{"inside", "same"}));
  EXPECT_EQ(find(Prefix::kNe),
            (V{"after", "around", "before", "near_after", "near_before", "open_end", "overlap_end", "overlap_start"}));
  EXPECT_EQ(find(Prefix::kGt), (V{"after", "around", "near_after", "open_end", "overlap_end"}));
  EXPECT_EQ(find(Prefix::kLt), (V{"around", "before", "near_before", "overlap_start"}));
  EXPECT_EQ(find(Prefix::kGe), (V{"after", "around", "inside", "near_after", "open_end", "overlap_end", "same"}));
  EXPECT_EQ(find(Prefix::kLe), (V{"around", "before", "inside", "near_before", "overlap_start", "same"}));
  EXPECT_EQ(find(Prefix::kSa), (V{"after", "near_after"}));
  EXPECT_EQ(find(Prefix::kEb), (V{"before", "near_before"}));
  // ap with now = day 20: [day 9, day 11 + 0.9 days] (10% of the distance to now each side).
  EXPECT_EQ(find(Prefix::kAp),
            (V{"around", "inside", "near_after", "open_end", "overlap_end", "overlap_start", "same"}));
}

TEST_P(SearchTest, LastUpdatedAndId) {
  Put("Patient", "old", {}, "t", Day(100));
  Put("Patient", "mid", {}, "t", Day(200) + kHour);
  Put("Patient", "new", {}, "t", Day(300));
  Clause lu = Make("_lastUpdated", ParamKind::kLastUpdated);
  lu.values.push_back(DateValue{Prefix::kEq, Day(200), Day(201) - 1});
  EXPECT_EQ(Find({"Patient"}, {lu}), (V{"mid"}));
  lu.values = {DateValue{Prefix::kGe, Day(200), Day(201) - 1}};
  EXPECT_EQ(Find({"Patient"}, {lu}), (V{"mid", "new"}));
  lu.values = {DateValue{Prefix::kLt, Day(200), Day(201) - 1}, DateValue{Prefix::kGt, Day(299), Day(300) - 1}};
  EXPECT_EQ(Find({"Patient"}, {lu}), (V{"new", "old"}));

  EXPECT_EQ(Find({"Patient"}, {Ids({"old", "new", "nope"})}), (V{"new", "old"}));
  Clause not_id = Ids({"old"});
  not_id.modifier = Modifier::kNot;
  EXPECT_EQ(Find({"Patient"}, {not_id}), (V{"mid", "new"}));
  EXPECT_EQ(Find({"Observation"}, {Ids({"old"})}), V{});
}

TEST_P(SearchTest, NumberAndQuantityPrefixes) {
  for (double v : {50.0, 99.6, 100.4, 100.5, 101.0}) {
    IndexRows r;
    r.numbers.push_back({"probability", v});
    Put("RiskAssessment", std::to_string(v).substr(0, 5), r);
  }
  auto find = [&](Prefix p) { return Find({"RiskAssessment"}, {Num("probability", p, 100, 99.5, 100.5)}); };
  EXPECT_EQ(find(Prefix::kEq), (V{"100.4", "99.60"}));
  EXPECT_EQ(find(Prefix::kNe), (V{"100.5", "101.0", "50.00"}));
  EXPECT_EQ(find(Prefix::kGt), (V{"100.4", "100.5", "101.0"}));
  EXPECT_EQ(find(Prefix::kLt), (V{"50.00", "99.60"}));
  EXPECT_EQ(find(Prefix::kGe), (V{"100.4", "100.5", "101.0"}));
  EXPECT_EQ(find(Prefix::kLe), (V{"50.00", "99.60"}));
  EXPECT_EQ(find(Prefix::kSa), (V{"100.5", "101.0"}));
  EXPECT_EQ(find(Prefix::kEb), (V{"50.00"}));
  EXPECT_EQ(find(Prefix::kAp), (V{"100.4", "100.5", "101.0", "99.60"}));

  const std::string ucum = "http://unitsofmeasure.org";
  IndexRows mg;
  mg.quantities.push_back({"value-quantity", 5, ucum, "mg", "mg", 0.005, "g"});
  Put("Observation", "mg", mg);
  IndexRows g;
  g.quantities.push_back({"value-quantity", 5, ucum, "g", "g", 5, "g"});
  Put("Observation", "g", g);
  IndexRows local;
  local.quantities.push_back({"value-quantity", 5, "", "", "mg", 0, ""});
  Put("Observation", "local", local);

  auto quantity = [](QuantityValue v) {
    Clause c = Make("value-quantity", ParamKind::kQuantity);
    c.values.push_back(v);
    return c;
  };
  // 5000 mg in canonical units is 5 g: only the 5 g row, not 5 mg.
  QuantityValue canonical = Qty(Prefix::kEq, 5000, 4999.5, 5000.5, ucum, "mg");
  canonical.canonical_value = 5;
  canonical.canonical_low = 4.9995;
  canonical.canonical_high = 5.0005;
  canonical.canonical_unit = "g";
  EXPECT_EQ(Find({"Observation"}, {quantity(canonical)}), (V{"g"}));
  canonical.prefix = Prefix::kLt;
  EXPECT_EQ(Find({"Observation"}, {quantity(canonical)}), (V{"mg"}));
  QuantityValue by_unit = Qty(Prefix::kEq, 5, 4.5, 5.5, "", "mg");
  EXPECT_EQ(Find({"Observation"}, {quantity(by_unit)}), (V{"local", "mg"})) << "`5||mg` matches code or unit";
  QuantityValue coded = Qty(Prefix::kEq, 5, 4.5, 5.5, ucum, "mg");
  EXPECT_EQ(Find({"Observation"}, {quantity(coded)}), (V{"mg"}));
  QuantityValue bare = Qty(Prefix::kGe, 5, 4.5, 5.5, "", "");
  EXPECT_EQ(Find({"Observation"}, {quantity(bare)}), (V{"g", "local", "mg"}));
}

TEST_P(SearchTest, NumbersRoundTripExactly) {
  const std::vector<double> values = {0.1, 1.0 / 3, 5e-324, 1.7976931348623157e308, -123456789.123456789, 2.5e-7};
  IndexRows r;
  for (double v : values) r.numbers.push_back({"n", v});
  Put("RiskAssessment", "x", r);
  // Each finds itself exactly (ge and le the same value).
  for (double v : values) {
    EXPECT_EQ(Find({"RiskAssessment"}, {Num("n", Prefix::kGe, v, v, v), Num("n", Prefix::kLe, v, v, v)}), V{"x"}) << v;
  }
}

TEST_P(SearchTest, ReferencesAndUris) {
  IndexRows a;
  a.references = {{"subject", "Patient", "1", ""}, {"performer", "Practitioner", "9", ""}};
  Put("Observation", "a", a);
  IndexRows b;
  b.references = {{"subject", "Group", "1", ""}};
  Put("Observation", "b", b);
  IndexRows c;
  c.references = {{"subject", "", "", "urn:uuid:123"},
                  {"subject", "Patient", "2", "https://other.example/fhir/Patient/2"}};
  Put("Observation", "c", c);
  Put("Patient", "1", {});
  Put("Group", "1", {});

  EXPECT_EQ(Find({"Observation"}, {Ref("subject", "Patient", "1")}), (V{"a"}));
  EXPECT_EQ(Find({"Observation"}, {Ref("subject", "", "1")}), (V{"a", "b"})) << "an id alone: any type";
  EXPECT_EQ(Run(Query({"Observation"}, {Ref("subject", "", "1", Modifier::kType)})).status().code(), Code::kInvalid)
      << ":Type needs a type";
  Clause typed = Ref("subject", "", "1", Modifier::kType);
  typed.type = "Group";
  EXPECT_EQ(Find({"Observation"}, {typed}), (V{"b"}));
  Clause url = Make("subject", ParamKind::kReference);
  url.values.push_back(ReferenceValue{"", "", "urn:uuid:123"});
  EXPECT_EQ(Find({"Observation"}, {url}), (V{"c"}));
  url.values = {ReferenceValue{"Patient", "2", "https://other.example/fhir/Patient/2"}};
  EXPECT_EQ(Find({"Observation"}, {url}), (V{"c"}));
  EXPECT_EQ(Find({"Observation"}, {Ref("performer", "Practitioner", "9"), Ref("subject", "Patient", "1")}), (V{"a"}));

  IndexRows vs;
  vs.uris = {{"url", "http://acme.org/fhir/ValueSet/123"}};
  Put("ValueSet", "vs", vs);
  IndexRows other;
  other.uris = {{"url", "http://acme.org/fhir/ValueSet/1234"}};
  Put("ValueSet", "other", other);
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "http://acme.org/fhir/ValueSet/123")}), (V{"vs"}));
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "http://acme.org/fhir/", Modifier::kBelow)}), (V{"other", "vs"}));
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "http://acme.org/fhir/ValueSet/123/_history/5", Modifier::kAbove)}),
            (V{"vs"}));
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "http://acme.org/fhir/ValueSet/12", Modifier::kAbove)}), V{});
}

TEST_P(SearchTest, CompositesTieTheirComponentsTogether) {
  const std::string loinc = "http://loinc.org", ucum = "http://unitsofmeasure.org";
  auto bp = [&](double systolic, double diastolic) {
    IndexRows r;
    r.quantities.push_back({CompositeParam("component-code-value-quantity", "8480-6", loinc), systolic, ucum,
                            "mm[Hg]", "mmHg", systolic * 133.322, "g.m-1.s-2"});
    r.quantities.push_back({CompositeParam("component-code-value-quantity", "8462-4", loinc), diastolic, ucum,
                            "mm[Hg]", "mmHg", diastolic * 133.322, "g.m-1.s-2"});
    return r;
  };
  Put("Observation", "high", bp(150, 95));
  Put("Observation", "low", bp(100, 150));  // the diastolic value is high, not the systolic one
  IndexRows local = bp(150, 80);
  local.quantities.push_back({CompositeParam("component-code-value-quantity", "8480-6", "http://local"), 50, "", "",
                              "", 0, ""});
  Put("Observation", "local", local);
  IndexRows text;
  text.strings.push_back({CompositeParam("code-value-string", "x|y", ""), "positive", "Positive"});
  Put("Observation", "text", text);

  const std::vector<ParamKind> token_quantity = {ParamKind::kToken, ParamKind::kQuantity};
  auto systolic = [&](std::optional<std::string> system, std::optional<std::string> code, Prefix p, double v) {
    return CompositeClause("component-code-value-quantity", token_quantity,
                           {{TokenValue{std::move(system), std::move(code)}, Qty(p, v, v - 0.5, v + 0.5, "", "")}});
  };
  EXPECT_EQ(Find({"Observation"}, {systolic(loinc, "8480-6", Prefix::kGt, 140)}), (V{"high", "local"}));
  EXPECT_EQ(Find({"Observation"}, {systolic(loinc, "8462-4", Prefix::kGt, 140)}), (V{"low"}));
  EXPECT_EQ(Find({"Observation"}, {systolic(std::nullopt, "8480-6", Prefix::kLt, 60)}), (V{"local"}))
      << "a code in any system";
  EXPECT_EQ(Find({"Observation"}, {systolic(loinc, "8480-6", Prefix::kLt, 60)}), V{});
  EXPECT_EQ(Find({"Observation"}, {systolic("http://local", std::nullopt, Prefix::kGt, 0)}), (V{"local"}))
      << "any code of a system";
  EXPECT_EQ(Find({"Observation"}, {systolic(loinc, "8480-6", Prefix::kGt, 140), systolic(loinc, "8462-4", Prefix::kLt, 90)}),
            (V{"local"}));
  EXPECT_EQ(Find({"Observation"}, {systolic(loinc, "nosuch", Prefix::kGt, 0)}), V{});
  // OR-ed values, a canonical unit.
  Clause either = systolic(loinc, "8480-6", Prefix::kEq, 100);
  QuantityValue pascal = Qty(Prefix::kGt, 19000, 18999.5, 19000.5, ucum, "Pa");
  pascal.canonical_value = 19000;
  pascal.canonical_low = 18999.5;
  pascal.canonical_high = 19000.5;
  pascal.canonical_unit = "g.m-1.s-2";
  either.values.push_back(CompositeValue{{TokenValue{loinc, "8462-4"}, pascal}});
  EXPECT_EQ(Find({"Observation"}, {either}), (V{"low"}));
  // The escaped code, a string component.
  Clause string = CompositeClause("code-value-string", {ParamKind::kToken, ParamKind::kString},
                                  {{TokenValue{std::nullopt, "x|y"}, StringValue{"pos", "pos"}}});
  EXPECT_EQ(Find({"Observation"}, {string}), (V{"text"}));
  string.values = {CompositeValue{{TokenValue{std::nullopt, "x"}, StringValue{"pos", "pos"}}}};
  EXPECT_EQ(Find({"Observation"}, {string}), V{});
  // A composite that is the union of others reads their rows (combo-*: the Observation's
  // own code and value, and each component's).
  IndexRows weight;
  weight.quantities.push_back({CompositeParam("code-value-quantity", "29463-7", loinc), 90, ucum, "kg", "kg", 90000, "g"});
  Put("Observation", "weight", weight);
  Clause combo = CompositeClause("combo-code-value-quantity", token_quantity,
                                 {{TokenValue{loinc, "8480-6"}, Qty(Prefix::kGt, 140, 139.5, 140.5, "", "")},
                                  {TokenValue{std::nullopt, "29463-7"}, Qty(Prefix::kGt, 80, 79.5, 80.5, "", "")}});
  EXPECT_EQ(Find({"Observation"}, {combo}), V{}) << "combo-* has no rows of its own";
  combo.composite_parts = {"code-value-quantity", "component-code-value-quantity"};
  EXPECT_EQ(Find({"Observation"}, {combo}), (V{"high", "local", "weight"}));
  Clause combo_missing = Make("combo-code-value-quantity", ParamKind::kComposite, Modifier::kMissing);
  combo_missing.components = token_quantity;
  combo_missing.composite_parts = combo.composite_parts;
  combo_missing.missing = true;
  EXPECT_EQ(Find({"Observation"}, {combo_missing}), (V{"text"}));
  // :missing covers every token of the composite.
  Clause missing = Make("component-code-value-quantity", ParamKind::kComposite, Modifier::kMissing);
  missing.components = token_quantity;
  missing.missing = true;
  EXPECT_EQ(Find({"Observation"}, {missing}), (V{"text", "weight"}));
  missing.missing = false;
  EXPECT_EQ(Find({"Observation"}, {missing}), (V{"high", "local", "low"}));
  // Values that do not fit the components are errors, whatever the data.
  Clause wrong = CompositeClause("component-code-value-quantity", token_quantity,
                                 {{TokenValue{loinc, "8480-6"}, StringValue{"x", "x"}}});
  EXPECT_EQ(Run(Query({"Observation"}, {wrong})).status().code(), Code::kInvalid);
  wrong = CompositeClause("component-code-value-quantity", token_quantity, {{TokenValue{loinc, "8480-6"}}});
  EXPECT_EQ(Run(Query({"Observation"}, {wrong})).status().code(), Code::kInvalid);
}

TEST_P(SearchTest, CompositeCoordinatesAreTwoNumbers) {
  const std::string chromosome = CompositeParam("chromosome-variant-coordinate", "1", "http://hl7.org/fhir/chromosome-human");
  IndexRows a;
  a.dates = {{chromosome, 123, 130}, {chromosome, 300, 301}};
  Put("MolecularSequence", "a", a);
  IndexRows b;
  b.dates = {{chromosome, 200, 400}};
  Put("MolecularSequence", "b", b);
  auto coordinate = [&](Prefix p1, double start, Prefix p2, double end) {
    return CompositeClause("chromosome-variant-coordinate", {ParamKind::kToken, ParamKind::kNumber, ParamKind::kNumber},
                           {{TokenValue{std::nullopt, "1"}, NumberValue{p1, start, start - 0.5, start + 0.5},
                             NumberValue{p2, end, end - 0.5, end + 0.5}}});
  };
  EXPECT_EQ(Find({"MolecularSequence"}, {coordinate(Prefix::kGt, 100, Prefix::kLt, 135)}), (V{"a"}));
  EXPECT_EQ(Find({"MolecularSequence"}, {coordinate(Prefix::kGt, 150, Prefix::kLt, 350)}), (V{"a"}))
      << "one variant: 300-301";
  EXPECT_EQ(Find({"MolecularSequence"}, {coordinate(Prefix::kGt, 150, Prefix::kLt, 500)}), (V{"a", "b"}));
  EXPECT_EQ(Find({"MolecularSequence"}, {coordinate(Prefix::kLt, 150, Prefix::kGt, 300)}), V{})
      << "start and end of the same variant";
}

TEST_P(SearchTest, FullTextWordsPhrasesAndOr) {
  Put("CarePlan", "diabetes", Texts("Care plan for Diabetes. Activities: diet, exercise", "diabetes\nactive"));
  Put("CarePlan", "asthma", Texts("Care plan for asthma: inhaler", "asthma\nplan for care"));
  Put("CarePlan", "none", Texts("", "Caf\xc3\xa9 \"quoted\" text"));
  Put("Condition", "other", Texts("Diabetes mellitus", "diabetes"));
  Put("CarePlan", "empty", {});
  auto text = [&](std::vector<std::vector<std::string>> groups) { return Find({"CarePlan"}, {Text("_text", {groups})}); };
  EXPECT_EQ(text({{"diabetes"}}), (V{"diabetes"})) << "one type: not the Condition";
  EXPECT_EQ(text({{"DIABETES"}}), (V{"diabetes"})) << "case folded";
  EXPECT_EQ(text({{"care", "plan"}}), (V{"asthma", "diabetes"}));
  EXPECT_EQ(text({{"care plan"}}), (V{"asthma", "diabetes"}));
  EXPECT_EQ(text({{"plan care"}}), V{}) << "a phrase keeps its order";
  EXPECT_EQ(text({{"care", "inhaler"}, {"diet"}}), (V{"asthma", "diabetes"}));
  EXPECT_EQ(text({{"activities:"}}), (V{"diabetes"})) << "punctuation is no word";
  EXPECT_EQ(text({{"asthma", "diet"}}), V{});
  // _content reads the other column; accents folded; quotes and operators are words.
  auto content = [&](std::vector<std::vector<std::string>> groups) {
    return Find({"CarePlan"}, {Text("_content", {groups})});
  };
  EXPECT_EQ(content({{"plan for care"}}), (V{"asthma"}));
  EXPECT_EQ(content({{"cafe"}}), (V{"none"}));
  EXPECT_EQ(content({{"\"quoted\""}}), (V{"none"}));
  EXPECT_EQ(content({{"quoted\" OR \"asthma"}}), V{}) << "no way out of a phrase";
  EXPECT_EQ(content({{"(quoted", "text*"}}), (V{"none"}));
  EXPECT_EQ(content({{"NEAR(quoted text)"}}), V{}) << "NEAR is a word here";
  // OR-ed values, several types, the whole system.
  EXPECT_EQ(Find({"CarePlan"}, {Text("_content", {{{"asthma"}}, {{"active"}}})}), (V{"asthma", "diabetes"}));
  EXPECT_EQ(Find(Query({"CarePlan", "Condition"}, {Text("_content", {{{"diabetes"}}})}), true),
            (V{"CarePlan/diabetes", "Condition/other"}));
  EXPECT_EQ(Find(Query({}, {Text("_content", {{{"diabetes"}}})}), true), (V{"CarePlan/diabetes", "Condition/other"}));
  EXPECT_EQ(Find({"Patient"}, {Text("_content", {{{"diabetes"}}})}), V{});
  // With other clauses, probed or driving.
  IndexRows tagged = Texts("", "tagged diabetes");
  tagged.tokens.push_back({"status", "", "active", ""});
  Put("CarePlan", "tagged", tagged);
  EXPECT_EQ(Find({"CarePlan"}, {Text("_content", {{{"diabetes"}}}), Code("status", "active")}), (V{"tagged"}));
  auto page = Run(Query({"CarePlan"}, {Text("_content", {{{"diabetes"}}})}));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  // A new version replaces the text; a deletion removes it; tenants never see each other's.
  Put("CarePlan", "diabetes", Texts("Care plan for hypertension", "hypertension"));
  EXPECT_EQ(text({{"diabetes"}}), V{});
  EXPECT_EQ(text({{"hypertension"}}), (V{"diabetes"}));
  Delete("CarePlan", "asthma");
  EXPECT_EQ(text({{"care"}}), (V{"diabetes"}));
  Put("CarePlan", "u1", Texts("hypertension", ""), "u");
  EXPECT_EQ(text({{"hypertension"}}), (V{"diabetes"}));
  EXPECT_EQ(Find(Query({"CarePlan"}, {Text("_text", {{{"hypertension"}}})}, "u")), (V{"u1"}));
  // Not a text value, or no group: invalid.
  Clause wrong = Make("_text", ParamKind::kText);
  wrong.values.push_back(StringValue{"x", "x"});
  EXPECT_EQ(Run(Query({"CarePlan"}, {wrong})).status().code(), Code::kInvalid);
  EXPECT_EQ(Run(Query({"CarePlan"}, {Text("_text", {{}})})).status().code(), Code::kInvalid);
}

// Parameter keys are remembered by the writer's connection (queries.cc): a key made by a
// job that rolls back must be forgotten, or its number, given out again, would mix two
// parameters' rows.
TEST_P(SearchTest, ParameterKeysOfAFailedJobAreForgotten) {
  auto version = [&](const std::string& id, const std::string& param) {
    NewVersion v = store::testing::Version("t", "Basic", id, 1, "{}", clock_.Now());
    v.index.tokens.push_back({param, "", "x", ""});
    return v;
  };
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Put(version("a", "alpha")));
    return Status::Conflict("rolled back on purpose");
  });
  ASSERT_EQ(st.code(), Code::kConflict);
  ASSERT_TRUE(store_->Write([&](WriteTxn& txn) { return txn.Put(version("b", "beta")); }).ok());
  ASSERT_TRUE(store_->Write([&](WriteTxn& txn) { return txn.Put(version("c", "alpha")); }).ok());
  EXPECT_EQ(Find({"Basic"}, {Code("beta", "x")}), (V{"b"}));
  EXPECT_EQ(Find({"Basic"}, {Code("alpha", "x")}), (V{"c"}));
}

TEST_P(SearchTest, ListNamesItsItems) {
  IndexRows l;
  l.references = {{"item", "Observation", "a", ""}, {"item", "Observation", "b", ""}, {"item", "Patient", "p", ""},
                  {"item", "Observation", "gone", ""}, {"subject", "Patient", "p", ""}};
  Put("List", "42", l);
  IndexRows other;
  other.references = {{"item", "Observation", "c", ""}};
  Put("List", "43", other);
  for (std::string id : {"a", "b", "c", "d"}) {
    IndexRows o;
    o.tokens = {{"status", "", id == "b" ? "amended" : "final", ""}};
    Put("Observation", id, o);
  }
  Put("Patient", "p", {});
  EXPECT_EQ(Find({"Observation"}, {List({"42"})}), (V{"a", "b"})) << "a deleted or missing item is no match";
  EXPECT_EQ(Find({"Observation"}, {List({"42", "43"})}), (V{"a", "b", "c"})) << "values are OR-ed";
  EXPECT_EQ(Find({"Observation"}, {List({"42"}), Code("status", "final")}), (V{"a"}));
  EXPECT_EQ(Find({"Patient"}, {List({"42"})}), (V{"p"}));
  EXPECT_EQ(Find(Query({}, {List({"43"})}), true), (V{"Observation/c"}));
  EXPECT_EQ(Find({"Observation"}, {List({"none"})}), V{});
  auto page = Run(Query({"Observation"}, {List({"42"})}));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  // The list's current version counts; a deleted list names nothing; other tenants' lists are
  // not seen.
  IndexRows changed;
  changed.references = {{"item", "Observation", "d", ""}};
  Put("List", "42", changed);
  EXPECT_EQ(Find({"Observation"}, {List({"42"})}), (V{"d"}));
  Delete("List", "42");
  EXPECT_EQ(Find({"Observation"}, {List({"42"})}), V{});
  Put("List", "43", other, "u");
  EXPECT_EQ(Find(Query({"Observation"}, {List({"43"})}, "u")), V{}) << "u has no Observation c";
}

// A full-text set too large to drive the page (over 5,000 matches) is counted in the index:
// its rows are keyed by rowid, the count by seq.
TEST_P(SearchTest, FullTextCountOfALargeSet) {
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    for (int i = 0; i < 5200; ++i) {
      NewVersion v = store::testing::Version("t", "CarePlan", "c" + std::to_string(i), 1, "{}", clock_.Now());
      v.index.content = i % 2 == 0 ? "common even" : "common";
      EHR_RETURN_IF_ERROR(txn.Put(v));
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.message();
  auto page = Run(Query({"CarePlan"}, {Text("_content", {{{"common"}}})}));
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->total, 5200);
  page = Run(Query({"CarePlan"}, {Text("_content", {{{"even"}}})}));
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->total, 2600);
}

// Full-text rows wait in temp tables until the job ends (queries.h): a search inside the
// job, a second version in the same job and a job that fails must all still be right.
TEST_P(SearchTest, FullTextRowsOfOneJob) {
  auto version = [&](const std::string& id, int64_t n, std::string content) {
    NewVersion v = store::testing::Version("t", "CarePlan", id, n, "{}", clock_.Now());
    v.index.content = std::move(content);
    return v;
  };
  auto content = [&](std::string word) { return Find({"CarePlan"}, {Text("_content", {{{std::move(word)}}})}); };
  Status st = store_->Write([&](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Put(version("a", 1, "alpha")));
    EHR_RETURN_IF_ERROR(txn.Put(version("b", 1, "alpha beta")));
    auto inside = txn.Search(Query({"CarePlan"}, {Text("_content", {{{"alpha"}}})}));
    EHR_RETURN_IF_ERROR(inside.status());
    if (inside->matches.size() != 2) return Status::Internal("the job's own rows are not searchable");
    EHR_RETURN_IF_ERROR(txn.Put(version("a", 2, "gamma")));  // replaces a row written by this job
    return txn.Put(version("b", 2, "delta"));                 // replaces a row flushed by the search
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(content("alpha"), V{});
  EXPECT_EQ(content("beta"), V{});
  EXPECT_EQ(content("gamma"), (V{"a"}));
  EXPECT_EQ(content("delta"), (V{"b"}));
  // A failed job leaves no text behind, and does not leak it into the next job.
  st = store_->Write([&](WriteTxn& txn) -> Status {
    EHR_RETURN_IF_ERROR(txn.Put(version("c", 1, "epsilon")));
    EHR_RETURN_IF_ERROR(txn.Put(store::testing::Deletion("t", "CarePlan", "a", 3)));
    return Status::Conflict("rolled back on purpose");
  });
  EXPECT_EQ(st.code(), Code::kConflict);
  st = store_->Write([&](WriteTxn& txn) -> Status { return txn.Put(version("d", 1, "zeta")); });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(content("epsilon"), V{});
  EXPECT_EQ(content("gamma"), (V{"a"})) << "the failed job's deletion of a is undone";
  EXPECT_EQ(content("zeta"), (V{"d"}));
  // A deletion in its own job removes the text.
  st = store_->Write([&](WriteTxn& txn) -> Status { return txn.Put(store::testing::Deletion("t", "CarePlan", "b", 3)); });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(content("delta"), V{});
}

TEST_P(SearchTest, OfTypeIdentifierAndUriContains) {
  const std::string v2 = "http://terminology.hl7.org/CodeSystem/v2-0203";
  IndexRows a;
  a.tokens = {{"identifier", "urn:mrn", "446053", ""}, {ModifierParam("identifier", "of-type"), v2, "MR", "446053"},
              {ModifierParam("identifier", "of-type"), v2, "SS", "999-12"}};
  Put("Patient", "a", a);
  IndexRows b;
  b.tokens = {{ModifierParam("identifier", "of-type"), v2, "DL", "446053"}};
  Put("Patient", "b", b);
  auto of_type = [](std::string system, std::string code, std::string value, Modifier m = Modifier::kOfType) {
    Clause c = Make("identifier", ParamKind::kToken, m);
    c.values.push_back(OfTypeValue{std::move(system), std::move(code), std::move(value)});
    return c;
  };
  EXPECT_EQ(Find({"Patient"}, {of_type(v2, "MR", "446053")}), (V{"a"}));
  EXPECT_EQ(Find({"Patient"}, {of_type(v2, "DL", "446053")}), (V{"b"}));
  EXPECT_EQ(Find({"Patient"}, {of_type(v2, "MR", "999-12")}), V{}) << "the value of the same identifier";
  EXPECT_EQ(Find({"Patient"}, {of_type("other", "MR", "446053")}), V{});
  EXPECT_EQ(Run(Query({"Patient"}, {of_type(v2, "MR", "1", Modifier::kNone)})).status().code(), Code::kInvalid)
      << "an of-type value without the modifier";
  EXPECT_EQ(Find({"Patient"}, {Tok("identifier", {{"urn:mrn", "446053"}})}), (V{"a"})) << "the plain rows apart";

  IndexRows role;
  role.tokens = {{ModifierParam("practitioner", "identifier"), "http://hl7.org/fhir/sid/us-npi", "9999", ""}};
  role.references = {{"practitioner", "", "", "urn:uuid:1"}};
  Put("PractitionerRole", "r", role);
  auto by_identifier = [](std::optional<std::string> system, std::string value) {
    Clause c = Make("practitioner", ParamKind::kReference, Modifier::kIdentifier);
    c.values.push_back(TokenValue{std::move(system), std::move(value)});
    return c;
  };
  EXPECT_EQ(Find({"PractitionerRole"}, {by_identifier("http://hl7.org/fhir/sid/us-npi", "9999")}), (V{"r"}));
  EXPECT_EQ(Find({"PractitionerRole"}, {by_identifier(std::nullopt, "9999")}), (V{"r"}));
  EXPECT_EQ(Find({"PractitionerRole"}, {by_identifier("other", "9999")}), V{});
  EXPECT_EQ(Find({"PractitionerRole"}, {Ref("practitioner", "", "9999")}), V{}) << "not a reference by id";

  IndexRows vs;
  vs.uris = {{"url", "http://acme.org/fhir/ValueSet/123"}};
  Put("ValueSet", "vs", vs);
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "acme.org/fhir", Modifier::kContains)}), (V{"vs"}));
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "ACME", Modifier::kContains)}), V{}) << "case-sensitive";
  EXPECT_EQ(Find({"ValueSet"}, {UriIs("url", "%", Modifier::kContains)}), V{}) << "no LIKE wildcards";
}

TEST_P(SearchTest, MissingTrueAndFalse) {
  Put("Patient", "named", Strings("name", {"x"}));
  Put("Patient", "other", Strings("family", {"y"}));
  Put("Patient", "none", {});
  EXPECT_EQ(Find({"Patient"}, {Missing("name", ParamKind::kString, true)}), (V{"none", "other"}));
  EXPECT_EQ(Find({"Patient"}, {Missing("name", ParamKind::kString, false)}), (V{"named"}));
  EXPECT_EQ(Find({"Patient"}, {Missing("birthdate", ParamKind::kDate, false)}), V{});
}

TEST_P(SearchTest, TenantsAreIsolated) {
  IndexRows p = Strings("name", {"peter"});
  Put("Patient", "p", p, "t");
  Put("Patient", "p", p, "u");
  IndexRows o;
  o.references.push_back({"subject", "Patient", "p", ""});
  Put("Observation", "o", o, "u");
  EXPECT_EQ(Find(Query({"Patient"}, {Str("name", "pe")}, "t")), (V{"p"}));
  EXPECT_EQ(Find(Query({"Patient"}, {Has("Observation", "subject", Ids({"o"}))}, "t")), V{});
  EXPECT_EQ(Find(Query({"Patient"}, {Has("Observation", "subject", Ids({"o"}))}, "u")), (V{"p"}));
  SearchQuery rev = Query({"Patient"}, {}, "t");
  rev.includes.push_back(Inc("Observation", "subject", "", true));
  auto page = Run(rev);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->included.empty());
  EXPECT_EQ(Run(Query({}, {}, "t"))->total, 1);
  EXPECT_EQ(Run(Query({}, {}, "nobody"))->total, 0);
  // Through the Store interface too.
  auto via_store = store_->Search(Query({"Patient"}, {Str("name", "pe")}, "u"));
  ASSERT_TRUE(via_store.ok()) << via_store.status().message();
  ASSERT_EQ(via_store->matches.size(), 1u);
  EXPECT_EQ(via_store->matches[0].body, R"({"id":"p"})");
}

TEST_P(SearchTest, CompartmentMembershipThroughItsLinks) {
  Put("Patient", "p", Strings("name", {"peter"}));
  Put("Patient", "q", Strings("name", {"quinn"}));
  Put("Patient", "p", Strings("name", {"peter"}), "u");  // the same id in another tenant
  auto refs = [](std::vector<std::pair<std::string, std::string>> to) {
    IndexRows rows;
    for (auto& [param, target] : to) rows.references.push_back({param, "Patient", target, ""});
    return rows;
  };
  Put("Observation", "o1", refs({{"subject", "p"}, {"performer", "q"}}));
  Put("Observation", "o2", refs({{"performer", "p"}}));  // performer is a link too
  Put("Observation", "o3", refs({{"focus", "p"}}));      // focus is not
  Put("Encounter", "e1", refs({{"patient", "p"}}));
  Put("Encounter", "e2", refs({{"patient", "q"}}));
  Put("Observation", "o4", refs({{"subject", "p"}}), "u");
  CompartmentFilter p{"Patient", {"p"},
                      {{"Observation", "subject"}, {"Observation", "performer"}, {"Encounter", "patient"},
                       {"Patient", "link"}}};
  auto in = [&](std::vector<std::string> types, const CompartmentFilter& f, std::vector<Clause> clauses = {},
                const std::string& tenant = "t") {
    SearchQuery q = Query(std::move(types), std::move(clauses), tenant);
    q.compartment = f;
    return Find(q, true);
  };
  EXPECT_EQ(in({"Observation"}, p), (V{"Observation/o1", "Observation/o2"}));
  EXPECT_EQ(in({"Encounter"}, p), (V{"Encounter/e1"}));
  // Every type (`/Patient/p/*`, $everything): the patient itself belongs.
  EXPECT_EQ(in({}, p), (V{"Encounter/e1", "Observation/o1", "Observation/o2", "Patient/p"}));
  EXPECT_EQ(in({"Patient", "Encounter"}, p), (V{"Encounter/e1", "Patient/p"}));
  EXPECT_EQ(in({"Observation"}, p, {Ids({"o2"})}), (V{"Observation/o2"})) << "AND-ed with the clauses";
  EXPECT_EQ(in({}, p, {}, "u"), (V{"Observation/o4", "Patient/p"})) << "another tenant's compartment";
  CompartmentFilter nobody = p;
  nobody.ids = {"z"};
  EXPECT_EQ(in({}, nobody), V{});
  EXPECT_EQ(in({"Condition"}, p), V{}) << "no link for the type";
  // Total agrees with the page.
  SearchQuery q = Query({}, {}, "t");
  q.compartment = p;
  EXPECT_EQ(Run(q)->total, 4);
}

TEST_P(SearchTest, DeletedAndSupersededVersionsNeverMatch) {
  Put("Patient", "a", Strings("name", {"old"}));
  Put("Patient", "a", Strings("name", {"new"}));
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

  EXPECT_EQ(Find({"Patient"}, {Str("name", "old")}), V{});
  EXPECT_EQ(Find({"Patient"}, {Str("name", "new")}), (V{"a"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "gone")}), V{});
  EXPECT_EQ(Find({"Patient"}, {Code("identifier", "1")}), V{});
  EXPECT_EQ(Find({"Patient"}, {Missing("birthdate", ParamKind::kDate, false)}), V{});
  EXPECT_EQ(Find({"Patient"}, {Ref("general-practitioner", "Practitioner", "1")}), V{});
  EXPECT_EQ(Find({"Patient"}, {Ids({"b"})}), V{});
  EXPECT_EQ(Find({"Patient"}, {Missing("name", ParamKind::kString, true)}), V{}) << "b is deleted, not nameless";
  EXPECT_EQ(Run(Query({"Patient"}))->total, 1);
  Put("Patient", "b", Strings("name", {"back"}));
  EXPECT_EQ(Find({"Patient"}, {Str("name", "back")}), (V{"b"}));
}

TEST_P(SearchTest, LimitsAreInvalidNotCrashes) {
  Put("Patient", "a", Strings("name", {"x"}));
  Clause many = Str("name", "x");
  for (int i = 0; i < 5000; ++i) many.values.push_back(StringValue{std::to_string(i), std::to_string(i)});
  auto page = Run(Query({"Patient"}, {many}));
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), Code::kInvalid);
  EXPECT_NE(page.status().message().find("too many values"), std::string::npos) << page.status().message();

  Clause deep = Str("name", "x");
  for (int i = 0; i < 50; ++i) deep = Chain("link", "Patient", deep);
  EXPECT_EQ(Run(Query({"Patient"}, {deep})).status().code(), Code::kInvalid);
  std::vector<Clause> wide(200, Str("name", "x"));
  EXPECT_EQ(Run(Query({"Patient"}, wide)).status().code(), Code::kInvalid);
  // Within the limits: the most values and the deepest chain run.
  Clause max_values = Str("name", "x");
  for (int i = 1; i < 100; ++i) max_values.values.push_back(StringValue{std::to_string(i), std::to_string(i)});
  EXPECT_EQ(Find({"Patient"}, {max_values}), (V{"a"}));
  Clause max_chain = Str("name", "x");
  for (int i = 0; i < 4; ++i) max_chain = Chain("link", "Patient", max_chain);
  EXPECT_EQ(Find({"Patient"}, {max_chain}), V{});
  // A value that does not fit the parameter kind.
  Clause wrong = Make("name", ParamKind::kString);
  wrong.values.push_back(TokenValue{std::nullopt, "x"});
  EXPECT_EQ(Run(Query({"Patient"}, {wrong})).status().code(), Code::kInvalid);
}

// Location near: great-circle distance, OR-ed values, and a point whose band of longitudes
// crosses the antimeridian (no longitude band then: the distance alone decides).
TEST_P(SearchTest, NearFindsPositionsWithinTheDistance) {
  auto at = [](double latitude, double longitude) {
    IndexRows r;
    r.numbers = {{std::string(kNearLatitude), latitude}, {std::string(kNearLongitude), longitude}};
    return r;
  };
  Put("Location", "boston", at(42.3601, -71.0589));
  Put("Location", "cambridge", at(42.3736, -71.1097));  // about 4.4 km from Boston
  Put("Location", "nyc", at(40.7128, -74.0060));        // about 306 km
  Put("Location", "east", at(10, 179.95));
  Put("Location", "nowhere", {});
  auto near = [](std::vector<NearValue> values) {
    Clause c = Make("near", ParamKind::kNear);
    for (const NearValue& v : values) c.values.push_back(v);
    return c;
  };
  EXPECT_EQ(Find({"Location"}, {near({{42.3601, -71.0589, 10}})}), (V{"boston", "cambridge"}));
  EXPECT_EQ(Find({"Location"}, {near({{42.3601, -71.0589, 1}})}), (V{"boston"}));
  EXPECT_EQ(Find({"Location"}, {near({{42.3601, -71.0589, 4}})}), (V{"boston"}));
  EXPECT_EQ(Find({"Location"}, {near({{42.3601, -71.0589, 5}})}), (V{"boston", "cambridge"}));
  EXPECT_EQ(Find({"Location"}, {near({{42.3601, -71.0589, 400}})}), (V{"boston", "cambridge", "nyc"}));
  EXPECT_EQ(Find({"Location"}, {near({{40.7128, -74.0060, 1}, {42.3736, -71.1097, 1}})}), (V{"cambridge", "nyc"}));
  EXPECT_EQ(Find({"Location"}, {near({{10, -179.95, 20}})}), (V{"east"})) << "across the antimeridian";
  EXPECT_EQ(Find({"Patient"}, {near({{42.3601, -71.0589, 10}})}), V{});
  Clause wrong = Make("near", ParamKind::kNear);
  wrong.values.push_back(TokenValue{std::nullopt, "x"});
  EXPECT_EQ(Run(Query({"Location"}, {wrong})).status().code(), Code::kInvalid);
}

// Words are letters and digits of any script, case and Latin accents folded; everything
// else separates them, in the text and in the query alike.
TEST_P(SearchTest, FullTextWordsBeyondAscii) {
  Put("CarePlan", "a", Texts("", "Crème brûlée for Müller-Lüdenscheidt; see http://example.org/fhir_path?x=1 \u2014 done"));
  Put("CarePlan", "b", Texts("", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c 42nd"));
  auto content = [&](std::vector<std::vector<std::string>> groups) {
    return Find({"CarePlan"}, {Text("_content", {groups})});
  };
  EXPECT_EQ(content({{"creme brulee"}}), (V{"a"}));
  EXPECT_EQ(content({{"CRÈME"}}), (V{"a"}));
  EXPECT_EQ(content({{"muller lüdenscheidt"}}), (V{"a"})) << "a hyphen separates words";
  EXPECT_EQ(content({{"example org fhir path"}}), (V{"a"})) << "so do punctuation and underscores";
  EXPECT_EQ(content({{"fhir_path?x"}}), (V{"a"}));
  EXPECT_EQ(content({{"org example"}}), V{});
  EXPECT_EQ(content({{"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"}}), (V{"b"})) << "Cyrillic, case folded";
  EXPECT_EQ(content({{"\xe4\xb8\x96\xe7\x95\x8c"}}), (V{"b"}));
  EXPECT_EQ(content({{"42nd"}}), (V{"b"}));
  EXPECT_EQ(content({{"42"}}), V{}) << "a word is matched whole";
  EXPECT_EQ(content({{"done", "1"}}), (V{"a"}));
  EXPECT_EQ(content({{"\u2014", "done"}}), (V{"a"})) << "a phrase without a word is left out of its group";
  EXPECT_EQ(content({{"\u2014"}}), V{}) << "a group of none matches nothing";
  EXPECT_EQ(content({{"\u2014"}, {"42nd"}}), (V{"b"}));
  // Simple case folding, and only Latin letters lose their diacritics.
  Put("CarePlan", "c", Texts("", "Straße \u03a9\u03bc\u03ad\u03b3\u03b1 \u0141\u00f3d\u017a A\u0301b\u05e9\u05c1x"));
  EXPECT_EQ(content({{"STRASSE"}}), V{});
  EXPECT_EQ(content({{"straße"}}), (V{"c"}));
  EXPECT_EQ(content({{"\u03c9\u03bc\u03ad\u03b3\u03b1"}}), (V{"c"}));
  EXPECT_EQ(content({{"\u03c9\u03bc\u03b5\u03b3\u03b1"}}), V{});
  EXPECT_EQ(content({{"\u0142odz"}}), (V{"c"}));
  EXPECT_EQ(content({{"lodz"}}), V{});
  EXPECT_EQ(content({{"ab\u05e9 x"}}), (V{"c"})) << "a combining acute is dropped, a Hebrew point ends the word";
}

// Text sorts and compares byte by byte (SQLite's BINARY), whatever the database's locale.
TEST_P(SearchTest, TextSortsByteByByte) {
  const std::vector<std::string> ids = {"B", "_x", "a", "a-b", "ab", "a.b", "Z9", "z"};
  for (const std::string& id : ids) {
    IndexRows r = Strings("family", {id == "B" ? "\xc3\xa9" : id == "z" ? "e" : id});
    Put("Patient", id, r);
  }
  SearchQuery q = Query({"Patient"});
  q.sort = {{"_id", ParamKind::kId, false}};
  EXPECT_EQ(Walk(q, 3), (V{"B", "Z9", "_x", "a", "a-b", "a.b", "ab", "z"}));
  q.sort = {{"family", ParamKind::kString, true}};
  EXPECT_EQ(Walk(q, 2), (V{"B", "z", "ab", "a.b", "a-b", "a", "_x", "Z9"}));
  EXPECT_EQ(Find({"Patient"}, {Str("family", "a")}), (V{"a", "a-b", "a.b", "ab"}));
  EXPECT_EQ(Find({"Patient"}, {Str("family", "a-")}), (V{"a-b"}));
}

EHR_SEARCH_ON_EVERY_BACKEND(SearchTest);

}  // namespace
}  // namespace ehr::store::testing
