#include "federation/merge.h"

#include <gtest/gtest.h>

namespace ehr::federation {
namespace {

json::Value Json(std::string_view text) {
  auto parsed = json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  return parsed.ok() ? std::move(*parsed) : json::Value();
}

RegionAnswer Answered(std::string region, std::string_view bundle) { return {std::move(region), Json(bundle), ""}; }

std::vector<std::string> FullUrls(const json::Value& bundle) {
  std::vector<std::string> urls;
  if (const json::Value* entries = bundle.Find("entry")) {
    for (const json::Value& entry : entries->as_array()) urls.emplace_back(entry.GetString("fullUrl"));
  }
  return urls;
}

const json::Value& EntryAt(const json::Value& bundle, size_t i) { return bundle.Find("entry")->as_array().at(i); }

// The string at a dotted path ("search.mode"); empty when absent.
std::string StringAt(const json::Value& v, std::string_view path) {
  const json::Value* at = &v;
  for (size_t dot; (dot = path.find('.')) != std::string_view::npos; path.remove_prefix(dot + 1)) {
    at = at->Find(path.substr(0, dot));
    if (!at) return "";
  }
  return std::string(at->GetString(path));
}

std::string Write(const json::Value* v) { return v ? json::Write(*v) : "(absent)"; }

TEST(MergeBundles, SortsTwoRegionsNewestFirstWithPatientsFirst) {
  json::Value merged = MergeBundles({
      Answered("uk", R"({"resourceType":"Bundle","type":"searchset","total":3,"entry":[
        {"fullUrl":"http://uk/Observation/o1","resource":{"resourceType":"Observation","id":"o1","effectiveDateTime":"2021-03-01"},"search":{"mode":"match"}},
        {"resource":{"resourceType":"Encounter","id":"e1","period":{"start":"2019-06-01T08:00:00Z"}},"search":{"mode":"match"}},
        {"resource":{"resourceType":"Patient","id":"p1","birthDate":"2030-01-01"},"search":{"mode":"match"}}]})"),
      Answered("fr", R"({"resourceType":"Bundle","type":"searchset","entry":[
        {"resource":{"resourceType":"Condition","id":"c1","onsetDateTime":"2020-07-15"}},
        {"resource":{"resourceType":"Observation","id":"o2","effectiveDateTime":"2021-03-01"}},
        {"resource":{"resourceType":"MedicationRequest","id":"m1","authoredOn":"2020-07-16T09:30:00+01:00"}},
        {"resource":{"resourceType":"Patient","id":"p2"}}]})"),
  });
  EXPECT_EQ(merged.GetString("resourceType"), "Bundle");
  EXPECT_EQ(merged.GetString("type"), "searchset");
  EXPECT_EQ(FullUrls(merged), (std::vector<std::string>{
                                  "urn:ehr:region:fr:Patient/p2",  // Patients first, by region
                                  "urn:ehr:region:uk:Patient/p1",
                                  "urn:ehr:region:fr:Observation/o2",  // same day: fr before uk
                                  "urn:ehr:region:uk:Observation/o1",
                                  "urn:ehr:region:fr:MedicationRequest/m1",
                                  "urn:ehr:region:fr:Condition/c1",
                                  "urn:ehr:region:uk:Encounter/e1",
                              }));
  EXPECT_EQ(merged.Find("total")->number_text(), "7");
  for (const json::Value& entry : merged.Find("entry")->as_array()) {
    EXPECT_EQ(Write(entry.Find("search")), R"({"mode":"match"})") << entry.GetString("fullUrl");
  }
}

TEST(MergeBundles, PartialDatesCompareByTheEarliestInstantTheyDenote) {
  json::Value merged = MergeBundles({Answered("uk", R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"Observation","id":"year","effectiveDateTime":"2020"}},
      {"resource":{"resourceType":"Observation","id":"month","effectiveDateTime":"2020-05"}},
      {"resource":{"resourceType":"Observation","id":"utc","effectiveDateTime":"2020-05-01T10:00:00Z"}},
      {"resource":{"resourceType":"Observation","id":"nozone","effectiveDateTime":"2020-05-01T10:00:00"}},
      {"resource":{"resourceType":"Observation","id":"paris","effectiveDateTime":"2020-05-01T11:00:00+02:00"}},
      {"resource":{"resourceType":"Observation","id":"period","effectivePeriod":{"start":"2020-04-30","end":"2020-06-01"}}},
      {"resource":{"resourceType":"Observation","id":"issued","issued":"2019-12-31T23:59:59.999Z"}},
      {"resource":{"resourceType":"Claim","id":"claim","billablePeriod":{"start":"2020-05-02"},"created":"2018-01-01"}},
      {"resource":{"resourceType":"Observation","id":"stored","meta":{"lastUpdated":"2021-01-01T00:00:00Z"}}},
      {"resource":{"resourceType":"Observation","id":"undated"}},
      {"resource":{"resourceType":"Observation","id":"garbled","effectiveDateTime":"last spring"}}]})")});
  EXPECT_EQ(FullUrls(merged), (std::vector<std::string>{
                                  "urn:ehr:region:uk:Observation/stored",  // meta.lastUpdated when no care date
                                  "urn:ehr:region:uk:Claim/claim",
                                  "urn:ehr:region:uk:Observation/nozone",  // read as UTC: ties with utc, by id
                                  "urn:ehr:region:uk:Observation/utc",
                                  "urn:ehr:region:uk:Observation/paris",  // 09:00Z
                                  "urn:ehr:region:uk:Observation/month",
                                  "urn:ehr:region:uk:Observation/period",
                                  "urn:ehr:region:uk:Observation/year",
                                  "urn:ehr:region:uk:Observation/issued",
                                  "urn:ehr:region:uk:Observation/garbled",  // no date at all: last, by id
                                  "urn:ehr:region:uk:Observation/undated",
                              }));
}

TEST(MergeBundles, KeepsTheHighestVersionOfADuplicate) {
  json::Value merged = MergeBundles({
      Answered("uk", R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Observation","id":"o1","meta":{"versionId":"10"},"status":"final"}},
        {"resource":{"resourceType":"Observation","id":"o1","meta":{"versionId":"9"},"status":"preliminary"}},
        {"resource":{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"clinicalStatus":{"text":"old"}}}]})"),
      Answered("uk", R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Condition","id":"c1","meta":{"versionId":"2"},"clinicalStatus":{"text":"new"}}}]})"),
      Answered("fr", R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"amended"}}]})"),
  });
  ASSERT_EQ(FullUrls(merged).size(), 3u) << "the same id in another region is another resource";
  EXPECT_EQ(merged.Find("total")->number_text(), "3");
  for (const json::Value& entry : merged.Find("entry")->as_array()) {
    const json::Value& resource = *entry.Find("resource");
    std::string_view url = entry.GetString("fullUrl");
    if (url == "urn:ehr:region:uk:Observation/o1") {
      EXPECT_EQ(resource.GetString("status"), "final") << "10 > 9 as numbers, not as text";
    } else if (url == "urn:ehr:region:uk:Condition/c1") {
      EXPECT_EQ(Write(resource.Find("clinicalStatus")), R"({"text":"new"})");
    } else {
      EXPECT_EQ(url, "urn:ehr:region:fr:Observation/o1");
      EXPECT_EQ(resource.GetString("status"), "amended");
    }
  }
}

TEST(MergeBundles, TagsEachResourceWithItsRegionOnce) {
  json::Value merged = MergeBundles({Answered("uk", R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"Observation","id":"tagged","meta":{"versionId":"3","source":"http://lab.example/x",
        "tag":[{"system":"http://example.org/tags","code":"keep"},{"system":"urn:ehr:region","code":"uk"}]}}},
      {"resource":{"resourceType":"Observation","id":"elsewhere","meta":{"tag":[{"system":"urn:ehr:region","code":"fr"}]}}},
      {"resource":{"resourceType":"Observation","id":"bare","status":"final"}}]})")});
  ASSERT_EQ(FullUrls(merged).size(), 3u);
  for (const json::Value& entry : merged.Find("entry")->as_array()) {
    const json::Value& resource = *entry.Find("resource");
    std::string_view id = resource.GetString("id");
    const json::Value* meta = resource.Find("meta");
    ASSERT_NE(meta, nullptr) << id;
    EXPECT_EQ(meta->GetString("source"), "urn:ehr:region:uk") << id;
    if (id == "tagged") {
      EXPECT_EQ(Write(meta->Find("tag")),
                R"([{"system":"http://example.org/tags","code":"keep"},{"system":"urn:ehr:region","code":"uk"}])");
      EXPECT_EQ(meta->GetString("versionId"), "3");
    } else {
      EXPECT_EQ(Write(meta->Find("tag")), R"([{"system":"urn:ehr:region","code":"uk"}])") << id;
    }
    if (id == "bare") {
      EXPECT_EQ(json::Write(resource),
                R"({"resourceType":"Observation","id":"bare","meta":{"tag":[{"system":"urn:ehr:region","code":"uk"}],)"
                R"("source":"urn:ehr:region:uk"},"status":"final"})");
    }
  }
}

TEST(MergeBundles, ARegionThatDidNotAnswerBecomesAWarningAtTheEnd) {
  json::Value merged = MergeBundles({
      {"fr", std::nullopt, "timed out after 2000 ms"},
      Answered("uk", R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","id":"o1"}}]})"),
  });
  EXPECT_EQ(merged.Find("total")->number_text(), "1") << "outcomes are not counted";
  ASSERT_EQ(FullUrls(merged).size(), 2u);
  EXPECT_EQ(EntryAt(merged, 0).GetString("fullUrl"), "urn:ehr:region:uk:Observation/o1");
  const json::Value& warning = EntryAt(merged, 1);
  EXPECT_EQ(Write(warning.Find("search")), R"({"mode":"outcome"})");
  EXPECT_EQ(Write(warning.Find("resource")),
            R"({"resourceType":"OperationOutcome","meta":{"tag":[{"system":"urn:ehr:region","code":"fr"}]},)"
            R"("issue":[{"severity":"warning","code":"incomplete",)"
            R"("diagnostics":"region fr did not answer: timed out after 2000 ms"}]})")
      << "tagged with the region it is about, but no meta.source: the gateway wrote it";
}

TEST(MergeBundles, AVaultOperationOutcomeInsteadOfABundleCountsAsNoAnswer) {
  json::Value merged = MergeBundles({
      Answered("de", R"({"resourceType":"OperationOutcome","issue":[
        {"severity":"error","code":"too-costly","diagnostics":"The search matches too many resources"},
        {"severity":"error","code":"processing","diagnostics":"second"}]})"),
      Answered("it", R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]})"),
      Answered("es", R"({"resourceType":"Patient","id":"p1"})"),
  });
  EXPECT_EQ(merged.Find("total")->number_text(), "0");
  std::vector<std::string> diagnostics;
  for (const json::Value& entry : merged.Find("entry")->as_array()) {
    EXPECT_EQ(StringAt(entry, "search.mode"), "outcome");
    diagnostics.emplace_back(entry.Find("resource")->Find("issue")->as_array().at(0).GetString("diagnostics"));
  }
  EXPECT_EQ(diagnostics,
            (std::vector<std::string>{
                "region de did not answer: answered with an OperationOutcome: The search matches too many resources",
                "region es did not answer: answered with a Patient instead of a Bundle",
                "region it did not answer: answered with an OperationOutcome",
            }));
}

TEST(MergeBundles, KeepsTheVaultsOutcomesTaggedAfterTheResources) {
  json::Value merged = MergeBundles({Answered("uk", R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"partial index"}]},"search":{"mode":"outcome"}},
      {"resource":{"resourceType":"Observation","id":"o1","effectiveDateTime":"2020-01-01"},"search":{"mode":"match"}}]})")});
  EXPECT_EQ(merged.Find("total")->number_text(), "1");
  ASSERT_EQ(FullUrls(merged).size(), 2u);
  const json::Value& outcome = EntryAt(merged, 1);
  EXPECT_EQ(outcome.Find("fullUrl"), nullptr) << "it has no id";
  EXPECT_EQ(Write(outcome.Find("search")), R"({"mode":"outcome"})");
  EXPECT_EQ(StringAt(*outcome.Find("resource"), "meta.source"), "urn:ehr:region:uk");
  EXPECT_EQ(Write(outcome.Find("resource")->Find("issue")),
            R"([{"severity":"information","code":"informational","diagnostics":"partial index"}])");
}

TEST(MergeBundles, TotalCountsTheMatchesAndIncludesKeepTheirMode) {
  json::Value merged = MergeBundles({
      Answered("uk", R"({"resourceType":"Bundle","total":2,"entry":[
        {"resource":{"resourceType":"Observation","id":"o1"},"search":{"mode":"match","score":0.5}},
        {"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"include"}},
        {"resource":{"resourceType":"Practitioner","id":"dr"},"search":{"mode":"include"}},
        "not an entry", {"search":{"mode":"match"}}, {"resource":{"id":"no-type"}}]})"),
      Answered("fr", R"({"resourceType":"Bundle","total":0})"),
      {"it", std::nullopt, ""},
  });
  EXPECT_EQ(merged.Find("total")->number_text(), "1") << "includes and outcomes are not matches";
  std::vector<std::string> modes;
  for (const json::Value& entry : merged.Find("entry")->as_array()) modes.emplace_back(StringAt(entry, "search.mode"));
  EXPECT_EQ(modes, (std::vector<std::string>{"include", "match", "include", "outcome"}));
  EXPECT_EQ(EntryAt(merged, 3).Find("resource")->Find("issue")->as_array().at(0).GetString("diagnostics"),
            "region it did not answer");
}

TEST(MergeBundles, NothingToMergeIsAnEmptySearchset) {
  EXPECT_EQ(json::Write(MergeBundles({})), R"({"resourceType":"Bundle","type":"searchset","total":0})");
}

TEST(MergeBundles, TheOrderDoesNotDependOnWhichRegionAnsweredFirst) {
  RegionAnswer uk = Answered("uk", R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"Observation","id":"b","effectiveDateTime":"2020-01-01"}},
      {"resource":{"resourceType":"Condition","id":"a","recordedDate":"2020-01-01"}},
      {"resource":{"resourceType":"Observation","id":"a","effectiveDateTime":"2020-01-01T00:00:00Z"}}]})");
  RegionAnswer fr = Answered("fr", R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"Observation","id":"z","effectiveDateTime":"2020-01-01"}}]})");
  RegionAnswer de{"de", std::nullopt, "HTTP 503"};
  RegionAnswer at{"at", std::nullopt, "HTTP 502"};
  json::Value one = MergeBundles({uk, fr, de, at});
  json::Value other = MergeBundles({at, fr, uk, de});
  EXPECT_EQ(json::Write(one), json::Write(other));
  EXPECT_EQ(FullUrls(one), (std::vector<std::string>{
                               "urn:ehr:region:fr:Observation/z", "urn:ehr:region:uk:Condition/a",
                               "urn:ehr:region:uk:Observation/a", "urn:ehr:region:uk:Observation/b",
                               "",  // at
                               "",  // de
                           }));
  EXPECT_EQ(EntryAt(one, 4).Find("resource")->Find("issue")->as_array().at(0).GetString("diagnostics"),
            "region at did not answer: HTTP 502");
}

TEST(Timeline, OneRowPerClinicalResourceWithItsSummary) {
  json::Value merged = MergeBundles({
      Answered("uk", R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p1","name":[{"family":"Smith"}]}},
        {"resource":{"resourceType":"Observation","id":"weight","effectiveDateTime":"2021-03-01T09:00:00Z",
          "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
          "valueQuantity":{"value":72,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}},
        {"resource":{"resourceType":"Observation","id":"temp","effectiveDateTime":"2021-02-01",
          "code":{"text":"Temperature","coding":[{"display":"Body temperature"}]},
          "valueQuantity":{"value":37.50,"code":"Cel"}}},
        {"resource":{"resourceType":"Encounter","id":"e1","period":{"start":"2020-11"},
          "type":[{"coding":[{"system":"http://snomed.info/sct","code":"185349003","display":"Encounter for check up"}]}]}},
        {"resource":{"resourceType":"Observation","id":"note","meta":{"lastUpdated":"2019-01-01T00:00:00Z"},
          "code":{"coding":[{"code":"x-note"}]},"valueString":"feels well"}}]})"),
      Answered("fr", R"({"resourceType":"Bundle","entry":[
        {"resource":{"resourceType":"Patient","id":"p2"}},
        {"resource":{"resourceType":"Condition","id":"c1","onsetDateTime":"2020",
          "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"}]}}},
        {"resource":{"resourceType":"Immunization","id":"i1","occurrenceDateTime":"2021-02-01",
          "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"208"}]}}},
        {"resource":{"resourceType":"Observation","id":"smoking","effectiveDateTime":"2020-06-01",
          "code":{"text":"Smoking status"},"valueCodeableConcept":{"coding":[{"display":"Never smoked"}]}}},
        {"resource":{"resourceType":"MedicationRequest","id":"m1","authoredOn":"2020-06-01",
          "medicationCodeableConcept":{"text":"metformin 500 mg"}}}]})"),
      {"de", std::nullopt, "HTTP 503"},
  });
  json::Value rows = Timeline(merged);
  EXPECT_EQ(
      json::Write(rows, {.pretty = false}),
      R"([{"date":"2021-03-01T09:00:00Z","type":"Observation","summary":"Body weight: 72 kg","region":"uk","reference":"Observation/weight"},)"
      R"({"date":"2021-02-01","type":"Immunization","summary":"208","region":"fr","reference":"Immunization/i1"},)"
      R"({"date":"2021-02-01","type":"Observation","summary":"Temperature: 37.50 Cel","region":"uk","reference":"Observation/temp"},)"
      R"({"date":"2020-11","type":"Encounter","summary":"Encounter for check up","region":"uk","reference":"Encounter/e1"},)"
      R"({"date":"2020-06-01","type":"MedicationRequest","summary":"metformin 500 mg","region":"fr","reference":"MedicationRequest/m1"},)"
      R"({"date":"2020-06-01","type":"Observation","summary":"Smoking status: Never smoked","region":"fr","reference":"Observation/smoking"},)"
      R"({"date":"2020","type":"Condition","summary":"Diabetes mellitus type 2","region":"fr","reference":"Condition/c1"},)"
      R"({"date":"","type":"Observation","summary":"x-note: feels well","region":"uk","reference":"Observation/note"}])");
}

TEST(Timeline, KeepsNewestFirstForABundleNotMadeByMergeBundles) {
  json::Value rows = Timeline(Json(R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"Procedure","id":"old","performedPeriod":{"start":"2001-01-01"},"code":{"text":"Appendectomy"}}},
      {"resource":{"resourceType":"OperationOutcome","issue":[]}},
      {"resource":{"resourceType":"Procedure","id":"new","performedDateTime":"2002-01-01","code":{"text":"Biopsy"}}}]})"));
  ASSERT_EQ(rows.as_array().size(), 2u);
  EXPECT_EQ(rows.as_array()[0].GetString("reference"), "Procedure/new");
  EXPECT_EQ(rows.as_array()[0].GetString("region"), "") << "untagged";
  EXPECT_EQ(rows.as_array()[1].GetString("summary"), "Appendectomy");
  EXPECT_EQ(json::Write(Timeline(Json(R"({"resourceType":"Bundle"})"))), "[]");
}

// Orders and appointments have their own dates; the people and places a record names are
// not events of care (found with generated records: undated ServiceRequests and
// Practitioners led the timeline by their import time).
TEST(Timeline, OrdersByTheirDatesAndLeavesOutPeopleAndPlaces) {
  json::Value rows = Timeline(MergeBundles({Answered("de", R"({"resourceType":"Bundle","entry":[
      {"resource":{"resourceType":"ServiceRequest","id":"sr","authoredOn":"2020-02-02","code":{"text":"Blood count"},
                   "meta":{"lastUpdated":"2026-11-24T00:00:00Z"}}},
      {"resource":{"resourceType":"Practitioner","id":"gp","meta":{"lastUpdated":"2026-11-24T00:00:00Z"}}},
      {"resource":{"resourceType":"Organization","id":"org","meta":{"lastUpdated":"2026-11-24T00:00:00Z"}}},
      {"resource":{"resourceType":"Appointment","id":"ap","start":"2021-03-03T09:00:00Z","meta":{"lastUpdated":"2026-11-24T00:00:00Z"}}},
      {"resource":{"resourceType":"Condition","id":"c","onsetDateTime":"2019-01-01","code":{"text":"Asthma"}}}]})")}));
  ASSERT_EQ(rows.as_array().size(), 3u) << json::Write(rows);
  EXPECT_EQ(rows.as_array()[0].GetString("reference"), "Appointment/ap");
  EXPECT_EQ(rows.as_array()[1].GetString("reference"), "ServiceRequest/sr");
  EXPECT_EQ(rows.as_array()[1].GetString("date"), "2020-02-02");
  EXPECT_EQ(rows.as_array()[2].GetString("reference"), "Condition/c");
}

}  // namespace
}  // namespace ehr::federation
