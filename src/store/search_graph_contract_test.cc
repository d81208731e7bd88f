// Search on every backend (issue 8): chains, _has and includes over a small graph of
// resources; sorting, keyset paging, cursors and totals.
#include <tuple>

#include "store/search_contract_fixture.h"

namespace ehr::store::testing {
namespace {

// Observation -> Patient -> Organization, and the reverse.
class SearchGraphTest : public SearchTest {
 protected:
  SearchGraphTest() {
    IndexRows acme = Strings("name", {"acme"});
    Put("Organization", "acme", acme);
    Put("Organization", "other", Strings("name", {"other"}));
    for (const auto& [patient, org] :
         std::vector<std::pair<std::string, std::string>>{{"p1", "acme"}, {"p2", "other"}, {"p3", "acme"}}) {
      IndexRows p = Strings("name", {patient == "p1" ? "peter" : "paul"});
      p.references.push_back({"organization", "Organization", org, ""});
      Put("Patient", patient, p);
    }
    // o1, o2 -> p1; o3 -> p2; o4 -> p3 (and to a deleted patient).
    for (const auto& [obs, patient, code] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"o1", "p1", "glucose"}, {"o2", "p1", "hba1c"}, {"o3", "p2", "glucose"}, {"o4", "p3", "hba1c"}}) {
      IndexRows o;
      o.references.push_back({"subject", "Patient", patient, ""});
      o.tokens.push_back({"code", "http://loinc.org", code, ""});
      if (obs == "o4") o.references.push_back({"subject", "Patient", "gone", ""});
      Put("Observation", obs, o);
    }
    IndexRows prov;
    prov.references = {{"target", "Observation", "o1", ""}, {"target", "Observation", "o4", ""}};
    Put("Provenance", "prov", prov);
    Put("Patient", "gone", {});
    Delete("Patient", "gone");
  }
  static std::vector<std::string> Keys(const std::vector<SearchMatch>& ms) {
    std::vector<std::string> keys;
    for (const auto& m : ms) keys.push_back(m.type + "/" + m.id);
    std::sort(keys.begin(), keys.end());
    return keys;
  }
};

TEST_P(SearchGraphTest, ChainsTwoDeep) {
  EXPECT_EQ(Find({"Observation"}, {Chain("subject", "Patient", Str("name", "peter"))}), (V{"o1", "o2"}));
  EXPECT_EQ(Find({"Observation"}, {Chain("subject", "", Str("name", "pa"))}), (V{"o3", "o4"})) << "any target type";
  Clause two = Chain("subject", "Patient", Chain("organization", "Organization", Str("name", "acme")));
  EXPECT_EQ(Find({"Observation"}, {two}), (V{"o1", "o2", "o4"}));
  EXPECT_EQ(Find({"Observation"}, {two, Code("code", "hba1c")}), (V{"o2", "o4"}));
  Clause chained_id = Chain("subject", "Patient", Chain("organization", "Organization", Ids({"other"})));
  EXPECT_EQ(Find({"Observation"}, {chained_id}), (V{"o3"}));
  // A chain through a negative clause still only reaches live resources.
  Clause not_acme = Chain("organization", "Organization", Tok("name", {{std::nullopt, "x"}}, Modifier::kNot));
  EXPECT_EQ(Find({"Patient"}, {not_acme}), (V{"p1", "p2", "p3"}));
  EXPECT_EQ(Find({"Observation"}, {Chain("subject", "Patient", Ids({"gone"}))}), V{}) << "deleted target";
}

TEST_P(SearchGraphTest, ReverseChains) {
  EXPECT_EQ(Find({"Patient"}, {Has("Observation", "subject", Code("code", "glucose"))}), (V{"p1", "p2"}));
  EXPECT_EQ(Find({"Patient"}, {Has("Observation", "subject", Code("code", "hba1c"))}), (V{"p1", "p3"}))
      << "the deleted patient o4 also refers to is not a match";
  // Organizations with a patient that has a glucose observation.
  Clause nested = Has("Patient", "organization", Has("Observation", "subject", Code("code", "glucose")));
  EXPECT_EQ(Find({"Organization"}, {nested}), (V{"acme", "other"}));
  Clause nested_hba1c = Has("Patient", "organization", Has("Observation", "subject", Ids({"o4"})));
  EXPECT_EQ(Find({"Organization"}, {nested_hba1c}), (V{"acme"}));
  // _has combined with a chain inside it.
  Clause via_chain = Has("Provenance", "target", Chain("target", "Observation", Code("code", "hba1c")));
  EXPECT_EQ(Find({"Observation"}, {via_chain}), (V{"o1", "o4"}));
}

TEST_P(SearchGraphTest, IncludesAndRevincludes) {
  SearchQuery q = Query({"Observation"}, {Code("code", "glucose")});
  q.includes.push_back(Inc("Observation", "subject", "Patient"));
  auto page = Run(q);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(Keys(page->matches), (V{"Observation/o1", "Observation/o3"}));
  EXPECT_EQ(Keys(page->included), (V{"Patient/p1", "Patient/p2"}));
  for (const auto& m : page->included) EXPECT_EQ(m.body, R"({"id":")" + m.id + R"("})");

  // Without :iterate the organization of an included patient is not followed; with it, it is.
  q.includes.push_back(Inc("Patient", "organization"));
  EXPECT_EQ(Keys(Run(q)->included), (V{"Patient/p1", "Patient/p2"}));
  q.includes.back().iterate = true;
  EXPECT_EQ(Keys(Run(q)->included), (V{"Organization/acme", "Organization/other", "Patient/p1", "Patient/p2"}));

  // Revinclude: patients and their observations, and (iterate) provenance of those; no
  // duplicates, nothing that is already a match, no deleted resources.
  SearchQuery pq = Query({"Patient"}, {Ids({"p1", "p3"})});
  pq.includes.push_back(Inc("Observation", "subject", "", true));
  pq.includes.push_back(Inc("Provenance", "target", "", true, true));
  pq.includes.push_back(Inc("Patient", "organization"));
  page = Run(pq);
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(Keys(page->matches), (V{"Patient/p1", "Patient/p3"}));
  EXPECT_EQ(Keys(page->included),
            (V{"Observation/o1", "Observation/o2", "Observation/o4", "Organization/acme", "Provenance/prov"}));

  // Wildcards: every reference of the source / everything referring to the match.
  SearchQuery wq = Query({"Observation"}, {Ids({"o4"})});
  wq.includes.push_back(Inc("Observation", "*"));
  wq.includes.push_back(Inc("*", "*", "", true));
  EXPECT_EQ(Keys(Run(wq)->included), (V{"Patient/p3", "Provenance/prov"}));

  // An included resource that is also a match appears once, as a match.
  SearchQuery both = Query({"Patient", "Organization"}, {Ids({"p1", "acme"})});
  both.includes.push_back(Inc("Patient", "organization"));
  page = Run(both);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Keys(page->matches), (V{"Organization/acme", "Patient/p1"}));
  EXPECT_TRUE(page->included.empty());
}

TEST_P(SearchGraphTest, SystemWideSearch) {
  EXPECT_EQ(Find(Query({}, {Ids({"p1", "o1", "acme"})}), true),
            (V{"Observation/o1", "Organization/acme", "Patient/p1"}));
  EXPECT_EQ(Find(Query({}, {Str("name", "p")}), true), (V{"Patient/p1", "Patient/p2", "Patient/p3"}));
  EXPECT_EQ(Find(Query({"Patient", "Organization"}, {Str("name", "acme")}), true), (V{"Organization/acme"}));
  auto all = Run(Query({}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 10);  // 2 organizations, 3 patients, 4 observations, 1 provenance
}

// Sorting: names with ties and one resource without a name.
class SearchSortTest : public SearchTest {
 protected:
  SearchSortTest() {
    const std::vector<std::pair<std::string, std::vector<std::string>>> people = {
        {"a", {"smith", "adams"}}, {"b", {"jones"}}, {"c", {"smith"}}, {"d", {}}, {"e", {"jones"}}, {"f", {"zeta"}}};
    int day = 0;
    for (const auto& [id, names] : people) {
      IndexRows r = Strings("family", names);
      r.dates.push_back({"birthdate", Day(1000 + (day % 3)), Day(1001 + (day % 3)) - 1});
      Put("Patient", id, r, "t", Day(500 + (day % 2)));  // _lastUpdated ties too
      ++day;
    }
  }
  std::vector<std::string> Sorted(std::vector<SortKey> keys, int count = 100) {
    SearchQuery q = Query({"Patient"});
    q.sort = std::move(keys);
    return Walk(q, count);
  }
};

TEST_P(SearchSortTest, AscendingDescendingTiesAndMissingValues) {
  // Ascending by the smallest name: a(adams) b,e(jones; tie by write order) c(smith) f; d has none.
  EXPECT_EQ(Sorted({{"family", ParamKind::kString, false}}), (V{"a", "b", "e", "c", "f", "d"}));
  // Descending by the largest name: f(zeta), a and c (smith; tie newest first), b/e, d last.
  EXPECT_EQ(Sorted({{"family", ParamKind::kString, true}}), (V{"f", "c", "a", "e", "b", "d"}));
  EXPECT_EQ(Sorted({{"_id", ParamKind::kId, true}}), (V{"f", "e", "d", "c", "b", "a"}));
  // lastUpdated alternates day 500/501 in write order.
  EXPECT_EQ(Sorted({{"_lastUpdated", ParamKind::kLastUpdated, false}}), (V{"a", "c", "e", "b", "d", "f"}));
  EXPECT_EQ(Sorted({{"birthdate", ParamKind::kDate, false}, {"family", ParamKind::kString, true}}),
            (V{"a", "d", "e", "b", "f", "c"}));
  EXPECT_EQ(Sorted({}), (V{"f", "e", "d", "c", "b", "a"})) << "default: newest change first";
}

TEST_P(SearchSortTest, PagingVisitsEveryMatchOnceInEverySortOrder) {
  for (int i = 0; i < 40; ++i) {
    IndexRows r;  // every fifth has no family name
    if (i % 5 != 0) r = Strings("family", {"n" + std::to_string(i % 7)});
    r.numbers.push_back({"n", static_cast<double>(i % 4) / 3});
    Put("Patient", "x" + std::to_string(i), r, "t", Day(600 + i % 3));
  }
  const std::vector<std::vector<SortKey>> orders = {
      {},
      {{"family", ParamKind::kString, false}},
      {{"_lastUpdated", ParamKind::kLastUpdated, true}, {"n", ParamKind::kNumber, false}},
      {{"n", ParamKind::kNumber, true}, {"family", ParamKind::kString, true}, {"_id", ParamKind::kId, false}},
  };
  for (const auto& order : orders) {
    const V all = Sorted(order, 1000);
    ASSERT_EQ(all.size(), 46u);
    for (int count : {1, 3, 7, 45}) {
      EXPECT_EQ(Sorted(order, count), all) << "count " << count << ", " << order.size() << " keys";
    }
  }
}

TEST_P(SearchSortTest, TamperedCursorsAreRejected) {
  SearchQuery q = Query({"Patient"});
  q.sort = {{"family", ParamKind::kString, false}};
  q.count = 2;
  auto first = Run(q);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->next_cursor.empty());
  const std::string cursor = first->next_cursor;
  std::vector<std::string> bad = {
      "zz", "0", cursor.substr(0, cursor.size() - 2), cursor + "00", "c1", std::string(100000, 'a'), "\x01\xff"};
  for (size_t i = 0; i < cursor.size(); ++i) {
    std::string flipped = cursor;
    flipped[i] = flipped[i] == '0' ? '1' : '0';
    bad.push_back(flipped);
  }
  for (const std::string& c : bad) {
    q.cursor = c;
    auto page = Run(q);
    ASSERT_FALSE(page.ok()) << c;
    EXPECT_EQ(page.status().code(), Code::kInvalid);
  }
  // A cursor of another sort order or tenant does not fit either.
  q.cursor = cursor;
  ASSERT_TRUE(Run(q).ok());
  SearchQuery other = q;
  other.sort = {{"family", ParamKind::kString, true}};
  EXPECT_EQ(Run(other).status().code(), Code::kInvalid);
  other = q;
  other.tenant = "u";
  EXPECT_EQ(Run(other).status().code(), Code::kInvalid);
}

TEST_P(SearchSortTest, TotalModes) {
  SearchQuery q = Query({"Patient"}, {Str("family", "j")});
  q.count = 1;
  auto page = Run(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  EXPECT_EQ(page->matches.size(), 1u);
  q.total = TotalMode::kEstimate;
  EXPECT_EQ(Run(q)->total, 2);
  q.total = TotalMode::kNone;
  EXPECT_FALSE(Run(q)->total.has_value());
  q.count_only = true;
  page = Run(q);
  EXPECT_EQ(page->total, 2);
  EXPECT_TRUE(page->matches.empty());
  EXPECT_TRUE(page->next_cursor.empty());
  q.count_only = false;
  q.total = TotalMode::kAccurate;
  q.count = 0;
  page = Run(q);
  EXPECT_EQ(page->total, 2);
  EXPECT_TRUE(page->matches.empty());
  q.count = -1;
  EXPECT_EQ(Run(q).status().code(), Code::kInvalid);
}

EHR_SEARCH_ON_EVERY_BACKEND(SearchGraphTest);
EHR_SEARCH_ON_EVERY_BACKEND(SearchSortTest);

}  // namespace
}  // namespace ehr::store::testing
