// Search bounded by what the caller may see, on every backend: the reach (SearchQuery::access) and the records
// hidden by consent (SearchQuery::hidden), on matches, totals, chain targets and _has sources.
#include "store/search_contract_fixture.h"

namespace ehr::store::testing {
namespace {

class SearchAccessTest : public SearchTest {};

// The caller's reach (SearchQuery::access): matches, chain targets and _has sources of
// compartment types must be in one of the reachable compartments; other types pass.
TEST_P(SearchAccessTest, AccessBoundsMatchesChainsAndHas) {
  Put("Patient", "p", Strings("name", {"peter"}));
  Put("Patient", "q", Strings("name", {"quinn"}));
  Put("Patient", "r", Strings("name", {"quinn"}));
  Put("Practitioner", "d", Strings("name", {"doctor"}));
  auto rows = [](std::string patient, std::string code) {
    IndexRows r;
    r.references = {{"subject", "Patient", patient, ""}, {"performer", "Practitioner", "d", ""}};
    r.tokens = {{"code", "", code, ""}};
    return r;
  };
  Put("Observation", "op", rows("p", "bp"));
  Put("Observation", "oq", rows("q", "hiv"));
  Put("Observation", "or", rows("r", "bp"));
  CompartmentFilter reach{"Patient", {"p", "r"}, {{"Observation", "subject"}, {"Patient", "link"}}, true};
  auto find = [&](std::vector<std::string> types, std::vector<Clause> clauses, bool with_access = true) {
    SearchQuery q = Query(std::move(types), std::move(clauses), "t");
    if (with_access) q.access = reach;
    return FindCounted(q);
  };
  EXPECT_EQ(find({"Observation"}, {}), (V{"Observation/op", "Observation/or"}));
  EXPECT_EQ(find({"Patient"}, {Str("name", "quinn")}), (V{"Patient/r"}));
  EXPECT_EQ(find({"Practitioner"}, {}), (V{"Practitioner/d"})) << "a type in no compartment passes";
  EXPECT_EQ(find({}, {}), (V{"Observation/op", "Observation/or", "Patient/p", "Patient/r", "Practitioner/d"}));
  // A chain answers only about reachable targets: q's name is not tested.
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "quinn"))}), (V{"Observation/or"}));
  // _has tests only reachable sources: q's hiv observation does not make d match.
  EXPECT_EQ(find({"Practitioner"}, {Has("Observation", "performer", Code("code", "hiv"))}), V{});
  EXPECT_EQ(find({"Practitioner"}, {Has("Observation", "performer", Code("code", "hiv"))}, false),
            (V{"Practitioner/d"}));
  EXPECT_EQ(find({"Practitioner"}, {Has("Observation", "performer", Code("code", "bp"))}), (V{"Practitioner/d"}));
  // A long list (bound as one JSON array), with ids that need escaping in JSON.
  CompartmentFilter few = reach;
  for (int i = 0; i < 300; ++i) reach.ids.push_back("x" + std::to_string(i) + (i % 2 ? "\"\\" : "\n"));
  EXPECT_EQ(find({"Observation"}, {}), (V{"Observation/op", "Observation/or"}));
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "quinn"))}), (V{"Observation/or"}));
  reach.ids.push_back("q");
  EXPECT_EQ(find({"Observation"}, {}), (V{"Observation/op", "Observation/oq", "Observation/or"}));
  reach = few;
  reach.ids.clear();  // reaches no patient: only types in no compartment
  EXPECT_EQ(find({}, {}), (V{"Practitioner/d"}));
  EXPECT_EQ(find({"Observation"}, {}), V{});
}


// Records hidden by consent (SearchQuery::hidden): left out of matches and totals, of what
// chains and _has test, by patient, type, security label and resource, with exceptions.
TEST_P(SearchAccessTest, HiddenRecordsAreAbsentEverywhere) {
  IndexRows peter = Strings("name", {"peter"});
  Put("Patient", "p", peter);
  Put("Patient", "q", Strings("name", {"quinn"}));
  auto obs = [](std::string patient, std::string code, std::string label) {
    IndexRows r;
    r.references = {{"subject", "Patient", patient, ""}};
    r.tokens = {{"code", "", code, ""}};
    if (!label.empty()) r.tokens.push_back({"_security", "http://hl7.org/fhir/v3/Confidentiality", label, ""});
    return r;
  };
  Put("Observation", "op1", obs("p", "bp", "R"));
  Put("Observation", "op2", obs("p", "bp", ""));
  Put("Observation", "oq", obs("q", "bp", "R"));
  IndexRows cond;
  cond.references = {{"subject", "Patient", "p", ""}};
  Put("Condition", "cp", cond);
  Put("Practitioner", "d", Strings("name", {"doctor"}));
  const auto links = std::vector<std::pair<std::string, std::string>>{
      {"Observation", "subject"}, {"Condition", "subject"}, {"Patient", "link"}};
  auto hiding = [&](std::vector<std::string> patients) {
    Exclusion e;
    e.compartment = CompartmentFilter{"Patient", std::move(patients), links, false};
    return e;
  };
  auto find = [&](std::vector<std::string> types, std::vector<Clause> clauses, std::vector<Exclusion> hidden) {
    SearchQuery q = Query(std::move(types), std::move(clauses), "t");
    q.hidden = std::move(hidden);
    return FindCounted(q);
  };
  const TokenValue restricted{"http://hl7.org/fhir/v3/Confidentiality", "R"};

  EXPECT_EQ(find({}, {}, {hiding({"p"})}), (V{"Observation/oq", "Patient/q", "Practitioner/d"})) << "all of p's record";
  Exclusion observations = hiding({"p"});
  observations.types = {"Observation"};
  EXPECT_EQ(find({}, {}, {observations}), (V{"Condition/cp", "Observation/oq", "Patient/p", "Patient/q", "Practitioner/d"}));
  Exclusion labelled = hiding({"p"});
  labelled.labels = {restricted};
  EXPECT_EQ(find({"Observation"}, {}, {labelled}), (V{"Observation/op2", "Observation/oq"})) << "q's R is not p's";
  Exclusion unlabelled = hiding({"p", "q"});
  unlabelled.except_labels = {restricted};
  unlabelled.types = {"Observation"};
  EXPECT_EQ(find({"Observation"}, {}, {unlabelled}), (V{"Observation/op1", "Observation/oq"}));
  Exclusion one = hiding({"p"});
  one.resources = {{"Observation", "op2"}};
  EXPECT_EQ(find({"Observation"}, {}, {one}), (V{"Observation/op1", "Observation/oq"}));
  Exclusion but_one = hiding({"p"});
  but_one.except_resources = {{"Observation", "op2"}, {"Patient", "p"}};
  EXPECT_EQ(find({}, {}, {but_one}), (V{"Observation/op2", "Observation/oq", "Patient/p", "Patient/q", "Practitioner/d"}));
  Exclusion nothing = hiding({"p"});
  nothing.labels = {{"http://hl7.org/fhir/v3/Confidentiality", "V"}};
  EXPECT_EQ(find({"Observation"}, {}, {nothing}).size(), 3u) << "a label nobody carries hides nothing";
  // Two exclusions: each hides its part.
  EXPECT_EQ(find({"Observation"}, {}, {labelled, one}), (V{"Observation/oq"}));
  // A chain tests no hidden target; _has no hidden source.
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "peter"))}, {}).size(), 2u);
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "peter"))}, {observations}), V{});
  Exclusion patient_only = hiding({"p"});
  patient_only.types = {"Patient"};
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "peter"))}, {patient_only}), V{});
  EXPECT_EQ(find({"Patient"}, {Has("Observation", "subject", Code("code", "bp"))}, {}), (V{"Patient/p", "Patient/q"}));
  EXPECT_EQ(find({"Patient"}, {Has("Observation", "subject", Code("code", "bp"))}, {observations}), (V{"Patient/q"}));
  // With a reach as well.
  SearchQuery both = Query({"Observation"});
  both.access = CompartmentFilter{"Patient", {"p"}, links, true};
  both.hidden = {labelled};
  EXPECT_EQ(Find(both, true), (V{"Observation/op2"}));
  both.clauses = {Chain("subject", "Patient", Str("name", "peter"))};
  EXPECT_EQ(Find(both, true), (V{"Observation/op2"}));
}

// Type filters (SearchQuery::filters, from SMART granular scopes): resources of the type
// must match one of the alternatives; other types pass; chains and _has test only those.
TEST_P(SearchAccessTest, TypeFiltersBoundMatchesChainsAndHas) {
  Put("Patient", "p", Strings("name", {"peter"}));
  Put("Patient", "q", Strings("name", {"quinn"}));
  auto obs = [](std::string patient, std::string code, std::string category) {
    IndexRows r;
    r.references = {{"subject", "Patient", patient, ""}};
    r.tokens = {{"code", "", code, ""}, {"category", "", category, ""}};
    return r;
  };
  Put("Observation", "lab-p", obs("p", "hb", "laboratory"));
  Put("Observation", "vital-p", obs("p", "bp", "vital-signs"));
  Put("Observation", "lab-q", obs("q", "hiv", "laboratory"));
  Put("Observation", "survey-q", obs("q", "phq", "survey"));
  auto find = [&](std::vector<std::string> types, std::vector<Clause> clauses, std::vector<TypeFilter> filters) {
    SearchQuery q = Query(std::move(types), std::move(clauses), "t");
    q.filters = std::move(filters);
    return FindCounted(q);
  };
  const TypeFilter labs{{"Observation"}, {{Code("category", "laboratory")}}};
  EXPECT_EQ(find({"Observation"}, {}, {labs}), (V{"Observation/lab-p", "Observation/lab-q"}));
  EXPECT_EQ(find({"Observation"}, {Code("code", "hiv")}, {labs}), (V{"Observation/lab-q"}));
  EXPECT_EQ(find({"Observation"}, {Code("code", "bp")}, {labs}), V{});
  // Alternatives are OR-ed, the clauses of one AND-ed.
  const TypeFilter two{{"Observation"},
                       {{Code("category", "vital-signs")}, {Code("category", "laboratory"), Ref("subject", "Patient", "q")}}};
  EXPECT_EQ(find({"Observation"}, {}, {two}), (V{"Observation/lab-q", "Observation/vital-p"}));
  EXPECT_EQ(find({"Observation"}, {}, {TypeFilter{{"Observation"}, {{}}}}).size(), 4u) << "an empty alternative: all";
  EXPECT_EQ(find({"Observation"}, {}, {TypeFilter{{"Observation"}, {}}}), V{}) << "no alternative: none";
  // Other types pass; several types at once.
  EXPECT_EQ(find({}, {}, {labs}), (V{"Observation/lab-p", "Observation/lab-q", "Patient/p", "Patient/q"}));
  // One filter over several types: each bound by the same clauses.
  const TypeFilter named_peter{{"Observation", "Patient"}, {{Str("name", "peter")}, {Code("category", "survey")}}};
  EXPECT_EQ(find({}, {}, {named_peter}), (V{"Observation/survey-q", "Patient/p"}));
  // _has tests only observations that pass; so does a chain's target.
  EXPECT_EQ(find({"Patient"}, {Has("Observation", "subject", Code("code", "phq"))}, {}), (V{"Patient/q"}));
  EXPECT_EQ(find({"Patient"}, {Has("Observation", "subject", Code("code", "phq"))}, {labs}), V{});
  EXPECT_EQ(find({"Patient"}, {Has("Observation", "subject", Code("code", "hiv"))}, {labs}), (V{"Patient/q"}));
  const TypeFilter only_p{{"Patient"}, {{Str("name", "peter")}}};
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "quinn"))}, {only_p}), V{});
  EXPECT_EQ(find({"Observation"}, {Chain("subject", "Patient", Str("name", "peter"))}, {only_p, labs}),
            (V{"Observation/lab-p"}));
}

EHR_SEARCH_ON_EVERY_BACKEND(SearchAccessTest);

}  // namespace
}  // namespace ehr::store::testing
