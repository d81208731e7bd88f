// Index rows per parameter type on hand-written resources (the rules of indexer.h).
#include "search/indexer.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "fhir/json/value.h"
#include "search/index_values.h"

namespace ehr::search {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr Micros kOpenLow = std::numeric_limits<Micros>::min();
constexpr Micros kOpenHigh = std::numeric_limits<Micros>::max();

json::Value ParseJson(std::string_view text) {
  Result<json::Value> parsed = json::Parse(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? std::move(parsed).value() : json::Value();
}

store::IndexRows IndexJson(std::string_view text) {
  int skipped = 0;
  store::IndexRows rows = Indexer::Default().Index(ParseJson(text), &skipped);
  EXPECT_EQ(skipped, 0);
  return rows;
}

// An instant written in full (with offset), in microseconds.
Micros At(std::string_view instant) {
  std::optional<Micros> t = ParseInstant(instant);
  EXPECT_TRUE(t.has_value()) << instant;
  return t.value_or(0);
}

using StringTuple = std::tuple<std::string, std::string>;                  // normalized, exact
using TokenTuple = std::tuple<std::string, std::string, std::string>;      // system, code, text
using ReferenceTuple = std::tuple<std::string, std::string, std::string>;  // type, id, url

std::vector<StringTuple> Strings(const store::IndexRows& rows, std::string_view param) {
  std::vector<StringTuple> out;
  for (const auto& r : rows.strings) {
    if (r.param == param) out.emplace_back(r.normalized, r.exact);
  }
  return out;
}
std::vector<TokenTuple> Tokens(const store::IndexRows& rows, std::string_view param) {
  std::vector<TokenTuple> out;
  for (const auto& r : rows.tokens) {
    if (r.param == param) out.emplace_back(r.system, r.code, r.text);
  }
  return out;
}
std::vector<std::pair<Micros, Micros>> Dates(const store::IndexRows& rows, std::string_view param) {
  std::vector<std::pair<Micros, Micros>> out;
  for (const auto& r : rows.dates) {
    if (r.param == param) out.emplace_back(r.low, r.high);
  }
  return out;
}
std::vector<double> Numbers(const store::IndexRows& rows, std::string_view param) {
  std::vector<double> out;
  for (const auto& r : rows.numbers) {
    if (r.param == param) out.push_back(r.value);
  }
  return out;
}
std::vector<store::QuantityRow> Quantities(const store::IndexRows& rows, std::string_view param) {
  std::vector<store::QuantityRow> out;
  for (const auto& r : rows.quantities) {
    if (r.param == param) out.push_back(r);
  }
  return out;
}
std::vector<ReferenceTuple> References(const store::IndexRows& rows, std::string_view param) {
  std::vector<ReferenceTuple> out;
  for (const auto& r : rows.references) {
    if (r.param == param) out.emplace_back(r.target_type, r.target_id, r.url);
  }
  return out;
}
std::vector<std::string> Uris(const store::IndexRows& rows, std::string_view param) {
  std::vector<std::string> out;
  for (const auto& r : rows.uris) {
    if (r.param == param) out.push_back(r.uri);
  }
  return out;
}

constexpr std::string_view kPatient = R"({
  "resourceType": "Patient", "id": "p1",
  "meta": {"profile": ["http://example.org/StructureDefinition/my-patient"],
           "tag": [{"system": "http://example.org/tags", "code": "vip", "display": "V.I.P."}]},
  "identifier": [
    {"system": "http://hospital.example.org/mrn", "value": "MRN-1",
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}],
              "text": "Medical Record Number"}},
    {"system": "http://hospital.example.org/mrn", "value": "MRN-1",
     "type": {"text": "Medical Record Number"}},
    {"value": "no-system"}
  ],
  "active": true,
  "name": [
    {"use": "official", "family": "Müller", "given": ["Élodie", "Anne  Marie"], "prefix": ["Dr."],
     "suffix": ["PhD"], "text": "Dr. Élodie Müller"},
    {"use": "maiden", "family": "Straße"}
  ],
  "telecom": [
    {"system": "phone", "value": "+49 30 1234", "use": "home"},
    {"system": "email", "value": "elodie@example.org"}
  ],
  "gender": "female",
  "birthDate": "2013-01-15",
  "address": [{"use": "home", "line": ["Hauptstraße 1", "Hinterhaus"], "city": "Berlin",
               "district": "Mitte", "state": "BE", "postalCode": "10115", "country": "DE",
               "text": "Hauptstraße 1, 10115 Berlin"}],
  "generalPractitioner": [{"reference": "Practitioner/gp-1"},
                          {"reference": "http://other.example.org/fhir/Organization/o-7"},
                          {"identifier": {"system": "http://npi", "value": "123"}},
                          {"reference": "#contained-1"}],
  "managingOrganization": {"reference": "Organization/org-1/_history/3"}
})";

// Location near: a position is two number rows, latitude and longitude; one out of range,
// or half of one, is none.
TEST(IndexerTest, LocationPositionForNear) {
  store::IndexRows rows = IndexJson(R"({"resourceType": "Location", "position": {"latitude": 42.375967, "longitude": -71.118275}})");
  EXPECT_THAT(Numbers(rows, store::kNearLatitude), ElementsAre(42.375967));
  EXPECT_THAT(Numbers(rows, store::kNearLongitude), ElementsAre(-71.118275));
  EXPECT_THAT(Numbers(IndexJson(R"({"resourceType": "Location", "position": {"latitude": 95, "longitude": 1}})"),
                      store::kNearLatitude),
              IsEmpty());
  EXPECT_THAT(Numbers(IndexJson(R"({"resourceType": "Location", "position": {"longitude": 1}})"), store::kNearLongitude),
              IsEmpty());
}

TEST(IndexerTest, PatientStrings) {
  store::IndexRows rows = IndexJson(kPatient);
  EXPECT_THAT(Strings(rows, "family"), UnorderedElementsAre(StringTuple{"muller", "Müller"},
                                                            StringTuple{"strasse", "Straße"}));
  EXPECT_THAT(Strings(rows, "given"), UnorderedElementsAre(StringTuple{"elodie", "Élodie"},
                                                           StringTuple{"anne marie", "Anne  Marie"}));
  EXPECT_THAT(Strings(rows, "name"),
              UnorderedElementsAre(StringTuple{"muller", "Müller"}, StringTuple{"strasse", "Straße"},
                                   StringTuple{"elodie", "Élodie"}, StringTuple{"anne marie", "Anne  Marie"},
                                   StringTuple{"dr.", "Dr."}, StringTuple{"phd", "PhD"},
                                   StringTuple{"dr. elodie muller", "Dr. Élodie Müller"}));
  // `use` is not part of the address search.
  EXPECT_THAT(Strings(rows, "address"),
              UnorderedElementsAre(StringTuple{"hauptstrasse 1", "Hauptstraße 1"}, StringTuple{"hinterhaus", "Hinterhaus"},
                                   StringTuple{"berlin", "Berlin"}, StringTuple{"mitte", "Mitte"},
                                   StringTuple{"be", "BE"}, StringTuple{"10115", "10115"}, StringTuple{"de", "DE"},
                                   StringTuple{"hauptstrasse 1, 10115 berlin", "Hauptstraße 1, 10115 Berlin"}));
  EXPECT_THAT(Strings(rows, "address-city"), ElementsAre(StringTuple{"berlin", "Berlin"}));
  EXPECT_THAT(Strings(rows, "address-postalcode"), ElementsAre(StringTuple{"10115", "10115"}));
  EXPECT_THAT(Tokens(rows, "address-use"), ElementsAre(TokenTuple{"", "home", ""}));
}

TEST(IndexerTest, PatientTokens) {
  store::IndexRows rows = IndexJson(kPatient);
  // The two MRN identifiers make one row.
  EXPECT_THAT(Tokens(rows, "identifier"),
              UnorderedElementsAre(TokenTuple{"http://hospital.example.org/mrn", "MRN-1", "medical record number"},
                                   TokenTuple{"", "no-system", ""}));
  EXPECT_THAT(Tokens(rows, "gender"), ElementsAre(TokenTuple{"", "female", ""}));
  EXPECT_THAT(Tokens(rows, "active"), ElementsAre(TokenTuple{"", "true", ""}));
  EXPECT_THAT(Tokens(rows, "deceased"), ElementsAre(TokenTuple{"", "false", ""}));
  EXPECT_THAT(Tokens(rows, "phone"), ElementsAre(TokenTuple{"", "+49 30 1234", ""}));
  EXPECT_THAT(Tokens(rows, "email"), ElementsAre(TokenTuple{"", "elodie@example.org", ""}));
  EXPECT_THAT(Tokens(rows, "telecom"),
              UnorderedElementsAre(TokenTuple{"", "+49 30 1234", ""}, TokenTuple{"", "elodie@example.org", ""}));
  EXPECT_THAT(Tokens(rows, "_tag"), ElementsAre(TokenTuple{"http://example.org/tags", "vip", "v.i.p."}));
  EXPECT_THAT(Uris(rows, "_profile"), ElementsAre("http://example.org/StructureDefinition/my-patient"));
  // _id is a column of the store, not an index row.
  EXPECT_THAT(Tokens(rows, "_id"), IsEmpty());
  // :of-type rows: each type coding of an identifier with a value, the value as text.
  EXPECT_THAT(Tokens(rows, "identifier:of-type"),
              ElementsAre(TokenTuple{"http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "MRN-1"}));
}

TEST(IndexerTest, PatientBirthDateCoversTheDay) {
  store::IndexRows rows = IndexJson(kPatient);
  EXPECT_THAT(Dates(rows, "birthdate"),
              ElementsAre(Pair(At("2013-01-15T00:00:00Z"), At("2013-01-16T00:00:00Z") - 1)));
}

TEST(IndexerTest, PatientReferences) {
  store::IndexRows rows = IndexJson(kPatient);
  // Identifier-only and contained references give nothing.
  EXPECT_THAT(References(rows, "general-practitioner"),
              UnorderedElementsAre(ReferenceTuple{"Practitioner", "gp-1", ""},
                                   ReferenceTuple{"Organization", "o-7", "http://other.example.org/fhir/Organization/o-7"}));
  EXPECT_THAT(References(rows, "organization"), ElementsAre(ReferenceTuple{"Organization", "org-1", ""}));
  // Reference.identifier is what :identifier searches.
  EXPECT_THAT(Tokens(rows, "general-practitioner:identifier"), ElementsAre(TokenTuple{"http://npi", "123", ""}));
  EXPECT_THAT(Tokens(rows, "organization:identifier"), IsEmpty());
}

constexpr std::string_view kObservation = R"({
  "resourceType": "Observation", "id": "o1", "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0", "display": "Glucose [Mass/volume] in Blood"},
                      {"system": "http://snomed.info/sct", "code": "33747003"}],
           "text": "Blood glucose"},
  "subject": {"reference": "Patient/p1"},
  "encounter": {"reference": "urn:uuid:0b0a1c4e-7f5e-4a4b-9d6b-1f2e3d4c5b6a"},
  "performer": [{"reference": "Practitioner/pr-1/_history/2"}, {"reference": "Organization?identifier=x|y"}],
  "effectivePeriod": {"start": "2021-04-03T08:03:00+02:00"},
  "issued": "2021-04-03T08:03:00.113+02:00",
  "valueQuantity": {"value": 95, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"},
  "component": [{"code": {"text": "free text only"},
                 "valueQuantity": {"value": 1.5, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                                   "code": "mmol/L"}},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                 "valueQuantity": {"value": 120, "unit": "mmHg", "system": "http://example.org/units", "code": "mmHg"}}]
})";

TEST(IndexerTest, ObservationCodes) {
  store::IndexRows rows = IndexJson(kObservation);
  // The concept text goes on every coding; a differing display gets its own row.
  EXPECT_THAT(Tokens(rows, "code"),
              UnorderedElementsAre(TokenTuple{"http://loinc.org", "2339-0", "glucose [mass/volume] in blood"},
                                   TokenTuple{"http://loinc.org", "2339-0", "blood glucose"},
                                   TokenTuple{"http://snomed.info/sct", "33747003", "blood glucose"}));
  EXPECT_THAT(Tokens(rows, "category"),
              ElementsAre(TokenTuple{"http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", ""}));
  EXPECT_THAT(Tokens(rows, "component-code"),
              UnorderedElementsAre(TokenTuple{"", "", "free text only"}, TokenTuple{"http://loinc.org", "8480-6", ""}));
  EXPECT_THAT(Tokens(rows, "status"), ElementsAre(TokenTuple{"", "final", ""}));
}

TEST(IndexerTest, ObservationDates) {
  store::IndexRows rows = IndexJson(kObservation);
  // A start without end is open to the future; the start covers its minute.
  EXPECT_THAT(Dates(rows, "date"), ElementsAre(Pair(At("2021-04-03T06:03:00Z"), kOpenHigh)));
}

TEST(IndexerTest, ObservationQuantities) {
  store::IndexRows rows = IndexJson(kObservation);
  std::vector<store::QuantityRow> value = Quantities(rows, "value-quantity");
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0].value, 95);
  EXPECT_EQ(value[0].system, "http://unitsofmeasure.org");
  EXPECT_EQ(value[0].code, "mg/dL");
  EXPECT_EQ(value[0].unit, "mg/dL");
  EXPECT_EQ(value[0].canonical_unit, "g.m-3");
  EXPECT_DOUBLE_EQ(value[0].canonical_value, 950);  // 95 mg/dL = 0.95 g/L = 950 g/m3

  std::vector<store::QuantityRow> components = Quantities(rows, "component-value-quantity");
  ASSERT_EQ(components.size(), 2u);
  for (const store::QuantityRow& q : components) {
    if (q.code == "mmol/L") {
      EXPECT_EQ(q.value, 1.5);
      EXPECT_FALSE(q.canonical_unit.empty());
    } else {
      // Not UCUM: no canonical form.
      EXPECT_EQ(q.code, "mmHg");
      EXPECT_EQ(q.value, 120);
      EXPECT_TRUE(q.canonical_unit.empty());
    }
  }
  EXPECT_EQ(Quantities(rows, "combo-value-quantity").size(), 3u);
}

TEST(IndexerTest, ObservationReferences) {
  store::IndexRows rows = IndexJson(kObservation);
  EXPECT_THAT(References(rows, "subject"), ElementsAre(ReferenceTuple{"Patient", "p1", ""}));
  // `subject.where(resolve() is Patient)` works without the store.
  EXPECT_THAT(References(rows, "patient"), ElementsAre(ReferenceTuple{"Patient", "p1", ""}));
  EXPECT_THAT(References(rows, "encounter"),
              ElementsAre(ReferenceTuple{"", "", "urn:uuid:0b0a1c4e-7f5e-4a4b-9d6b-1f2e3d4c5b6a"}));
  // The version is dropped; the conditional reference names no resource.
  EXPECT_THAT(References(rows, "performer"), ElementsAre(ReferenceTuple{"Practitioner", "pr-1", ""}));
}

// Composite rows: the token of each item folded into the name, the other value's own row.
TEST(IndexerTest, ObservationComposites) {
  store::IndexRows rows = IndexJson(kObservation);
  const std::string glucose = store::CompositeParam("code-value-quantity", "2339-0", "http://loinc.org");
  const std::string snomed = store::CompositeParam("code-value-quantity", "33747003", "http://snomed.info/sct");
  ASSERT_EQ(Quantities(rows, glucose).size(), 1u);
  EXPECT_EQ(Quantities(rows, glucose)[0].value, 95);
  EXPECT_DOUBLE_EQ(Quantities(rows, glucose)[0].canonical_value, 950);
  EXPECT_EQ(Quantities(rows, snomed).size(), 1u);
  // The component's value goes with the component's code only; a code with text only
  // names nothing.
  const std::string systolic = store::CompositeParam("component-code-value-quantity", "8480-6", "http://loinc.org");
  ASSERT_EQ(Quantities(rows, systolic).size(), 1u);
  EXPECT_EQ(Quantities(rows, systolic)[0].value, 120);
  EXPECT_THAT(Quantities(rows, store::CompositeParam("component-code-value-quantity", "2339-0", "http://loinc.org")),
              IsEmpty());
  // combo (the Observation and each component) is the union of those two: no rows of its own.
  EXPECT_THAT(Quantities(rows, store::CompositeParam("combo-code-value-quantity", "2339-0", "http://loinc.org")),
              IsEmpty());
  size_t composite_quantities = 0;
  for (const store::QuantityRow& q : rows.quantities) composite_quantities += q.param.find('$') != std::string::npos;
  EXPECT_EQ(composite_quantities, 2u + 1u);  // value (2 codings), component
  // No value of another type: no rows of the other composites.
  for (const store::TokenRow& t : rows.tokens) EXPECT_EQ(t.param.find("code-value-concept"), std::string::npos);
}

TEST(IndexerTest, CompositesOfEveryKind) {
  store::IndexRows coded = IndexJson(R"({"resourceType": "Observation", "status": "final",
      "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]},
      "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "8517006", "display": "Ex"}]}})");
  EXPECT_THAT(Tokens(coded, store::CompositeParam("code-value-concept", "72166-2", "http://loinc.org")),
              ElementsAre(TokenTuple{"http://snomed.info/sct", "8517006", "ex"}));
  store::IndexRows dated = IndexJson(R"({"resourceType": "Observation", "status": "final",
      "code": {"coding": [{"code": "x|y"}]}, "valueDateTime": "2013-01-15"})");
  // A '|' in the code is escaped in the name.
  const std::string date_param = store::CompositeParam("code-value-date", "x|y", "");
  EXPECT_EQ(date_param, "code-value-date$x\\|y|");
  EXPECT_THAT(Dates(dated, date_param), ElementsAre(Pair(At("2013-01-15T00:00:00Z"), At("2013-01-16T00:00:00Z") - 1)));
  store::IndexRows text = IndexJson(R"({"resourceType": "Observation", "status": "final",
      "code": {"coding": [{"system": "s", "code": "c"}]}, "valueString": "Ça va"})");
  EXPECT_THAT(Strings(text, store::CompositeParam("code-value-string", "c", "s")),
              ElementsAre(StringTuple{"ca va", "Ça va"}));
  store::IndexRows document = IndexJson(R"({"resourceType": "DocumentReference", "status": "current",
      "content": [{"attachment": {"url": "http://x"}}],
      "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/d0"}},
                    {"code": "appends", "target": {"reference": "DocumentReference/d1"}}]})");
  EXPECT_THAT(References(document, store::CompositeParam("relationship", "replaces", "http://hl7.org/fhir/document-relationship-type")),
              IsEmpty());  // a code element has no system
  EXPECT_THAT(References(document, store::CompositeParam("relationship", "replaces", "")),
              ElementsAre(ReferenceTuple{"DocumentReference", "d0", ""}));
  store::IndexRows group = IndexJson(R"({"resourceType": "Group", "type": "person", "actual": true,
      "characteristic": [{"code": {"text": "t", "coding": [{"system": "s", "code": "gender"}]},
                          "valueCodeableConcept": {"coding": [{"code": "female"}]}, "exclude": false}]})");
  EXPECT_THAT(Tokens(group, store::CompositeParam("characteristic-value", "gender", "s")),
              ElementsAre(TokenTuple{"", "female", ""}));
  store::IndexRows library = IndexJson(R"({"resourceType": "Library", "status": "active",
      "type": {"text": "x"},
      "useContext": [{"code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "age"},
                      "valueRange": {"low": {"value": 18, "system": "http://unitsofmeasure.org", "code": "a"},
                                     "high": {"value": 65, "system": "http://unitsofmeasure.org", "code": "a"}}},
                     {"code": {"code": "focus"}, "valueCodeableConcept": {"text": "diabetes"}}]})");
  EXPECT_EQ(Quantities(library, store::CompositeParam("context-type-quantity", "age",
                                                      "http://terminology.hl7.org/CodeSystem/usage-context-type"))
                .size(),
            2u);
  EXPECT_THAT(Tokens(library, store::CompositeParam("context-type-value", "focus", "")),
              ElementsAre(TokenTuple{"", "", "diabetes"}));
  // Coordinates: two numbers of one variant as a DateRow; %resource reaches the chromosome.
  store::IndexRows sequence = IndexJson(R"({"resourceType": "MolecularSequence", "coordinateSystem": 1,
      "referenceSeq": {"chromosome": {"coding": [{"system": "http://hl7.org/fhir/chromosome-human", "code": "1"}]},
                       "windowStart": 100, "windowEnd": 500},
      "variant": [{"start": 123, "end": 130}, {"start": 300, "end": 301}]})");
  EXPECT_THAT(Dates(sequence, store::CompositeParam("chromosome-variant-coordinate", "1",
                                                    "http://hl7.org/fhir/chromosome-human")),
              ElementsAre(Pair(123, 130), Pair(300, 301)));
  EXPECT_THAT(Dates(sequence, store::CompositeParam("chromosome-window-coordinate", "1",
                                                    "http://hl7.org/fhir/chromosome-human")),
              ElementsAre(Pair(100, 500)));
}

TEST(IndexerTest, CompositesThatAreUnionsOfOthers) {
  using internal::CompositeParts;
  EXPECT_THAT(CompositeParts(*fhir::FindSearchParam("Observation", "combo-code-value-quantity"), "Observation"),
              ElementsAre("code-value-quantity", "component-code-value-quantity"));
  EXPECT_THAT(CompositeParts(*fhir::FindSearchParam("Observation", "combo-code-value-concept"), "Observation"),
              ElementsAre("code-value-concept", "component-code-value-concept"));
  // Every other R4 composite is indexed in its own right.
  int unions = 0;
  for (std::string_view type : fhir::ResourceTypes()) {
    for (const fhir::SearchParamDef* def : fhir::SearchParamsFor(type)) {
      if (def->type == fhir::SearchParamType::kComposite) unions += !CompositeParts(*def, type).empty();
    }
  }
  EXPECT_EQ(unions, 2);
}

TEST(IndexerTest, CompositeParamNames) {
  for (const auto& [code, system] : std::vector<std::pair<std::string, std::string>>{
           {"8480-6", "http://loinc.org"}, {"", "s"}, {"a|b\\", ""}, {"\\|", "x|y"}, {"$", "$"}}) {
    const std::string param = store::CompositeParam("p", code, system);
    std::optional<store::CompositeToken> parsed = store::ParseCompositeParam(param);
    ASSERT_TRUE(parsed.has_value()) << param;
    EXPECT_EQ(parsed->code, code);
    EXPECT_EQ(parsed->system, system);
    EXPECT_TRUE(param.starts_with(store::CompositeCodePrefix("p", code)));
  }
  // One code's prefix never covers another code.
  EXPECT_FALSE(store::CompositeParam("p", "a|b", "").starts_with(store::CompositeCodePrefix("p", "a")));
  EXPECT_FALSE(store::CompositeParam("p", "a\\", "b").starts_with(store::CompositeCodePrefix("p", "a")));
  EXPECT_EQ(store::ParseCompositeParam("plain"), std::nullopt);
}

TEST(IndexerTest, PatientParameterNeedsAPatientTarget) {
  store::IndexRows group = IndexJson(R"({"resourceType": "Observation", "status": "final",
      "code": {"text": "x"}, "subject": {"reference": "Group/g1"}})");
  EXPECT_THAT(References(group, "subject"), ElementsAre(ReferenceTuple{"Group", "g1", ""}));
  EXPECT_THAT(References(group, "patient"), IsEmpty());

  // urn:uuid: references resolve to nothing: the type is unknown.
  store::IndexRows uuid = IndexJson(R"({"resourceType": "Observation", "status": "final",
      "code": {"text": "x"}, "subject": {"reference": "urn:uuid:8a4c9c04-1524-9f1c-d65b-9b17e4520fef"}})");
  EXPECT_THAT(References(uuid, "subject"),
              ElementsAre(ReferenceTuple{"", "", "urn:uuid:8a4c9c04-1524-9f1c-d65b-9b17e4520fef"}));
  EXPECT_THAT(References(uuid, "patient"), IsEmpty());

  store::IndexRows absolute = IndexJson(R"({"resourceType": "Observation", "status": "final",
      "code": {"text": "x"}, "subject": {"reference": "https://fhir.example.org/r4/Patient/p9"}})");
  EXPECT_THAT(References(absolute, "patient"),
              ElementsAre(ReferenceTuple{"Patient", "p9", "https://fhir.example.org/r4/Patient/p9"}));
}

TEST(IndexerTest, EncounterPeriodClassAndLength) {
  store::IndexRows rows = IndexJson(R"({
    "resourceType": "Encounter", "id": "e1", "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
    "period": {"start": "2020-02-01T10:00:00Z", "end": "2020-02-01T11:30:15.5-05:00"},
    "length": {"value": 90, "unit": "minutes", "system": "http://unitsofmeasure.org", "code": "min"},
    "subject": {"reference": "Patient/p1"}
  })");
  // The end has millisecond precision, in UTC 16:30:15.500.
  EXPECT_THAT(Dates(rows, "date"),
              ElementsAre(Pair(At("2020-02-01T10:00:00Z"), At("2020-02-01T16:30:15.500Z") + 999)));
  EXPECT_THAT(Tokens(rows, "class"),
              ElementsAre(TokenTuple{"http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"}));
  std::vector<store::QuantityRow> length = Quantities(rows, "length");
  ASSERT_EQ(length.size(), 1u);
  EXPECT_EQ(length[0].unit, "minutes");
  EXPECT_EQ(length[0].canonical_unit, "s");
  EXPECT_DOUBLE_EQ(length[0].canonical_value, 5400);
  EXPECT_THAT(References(rows, "patient"), ElementsAre(ReferenceTuple{"Patient", "p1", ""}));
}

TEST(IndexerTest, MedicationRequest) {
  store::IndexRows rows = IndexJson(R"({
    "resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
    "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                               "code": "834061", "display": "Penicillin V Potassium 250 MG"}]},
    "subject": {"reference": "Patient/p1"},
    "requester": {"reference": "Practitioner/dr-1", "display": "Dr. One"},
    "authoredOn": "2019-06-11T14:05:30+02:00"
  })");
  EXPECT_THAT(Tokens(rows, "code"), ElementsAre(TokenTuple{"http://www.nlm.nih.gov/research/umls/rxnorm", "834061",
                                                           "penicillin v potassium 250 mg"}));
  EXPECT_THAT(Tokens(rows, "intent"), ElementsAre(TokenTuple{"", "order", ""}));
  EXPECT_THAT(Dates(rows, "authoredon"),
              ElementsAre(Pair(At("2019-06-11T12:05:30Z"), At("2019-06-11T12:05:31Z") - 1)));
  EXPECT_THAT(References(rows, "requester"), ElementsAre(ReferenceTuple{"Practitioner", "dr-1", ""}));
  EXPECT_THAT(References(rows, "patient"), ElementsAre(ReferenceTuple{"Patient", "p1", ""}));
  // A medication given as a concept has no reference row.
  EXPECT_THAT(References(rows, "medication"), IsEmpty());
}

TEST(IndexerTest, TimingCoversEventsAndBounds) {
  store::IndexRows rows = IndexJson(R"({
    "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/p1"},
    "occurrenceTiming": {"event": ["2021-03-05", "2021-02-10T09:00:00Z"],
                         "repeat": {"boundsPeriod": {"start": "2021-01", "end": "2021-03-01"}}}
  })");
  EXPECT_THAT(Dates(rows, "occurrence"),
              ElementsAre(Pair(At("2021-01-01T00:00:00Z"), At("2021-03-06T00:00:00Z") - 1)));

  store::IndexRows open = IndexJson(R"({
    "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/p1"},
    "occurrenceTiming": {"repeat": {"boundsPeriod": {"end": "2021"}, "frequency": 1}}
  })");
  EXPECT_THAT(Dates(open, "occurrence"), ElementsAre(Pair(kOpenLow, At("2022-01-01T00:00:00Z") - 1)));

  store::IndexRows none = IndexJson(R"({
    "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/p1"},
    "occurrenceTiming": {"repeat": {"frequency": 1}}
  })");
  EXPECT_THAT(Dates(none, "occurrence"), IsEmpty());
}

TEST(IndexerTest, DatePrecisions) {
  using internal::TemporalRange;
  auto range = [](std::string_view text) {
    std::optional<fhirpath::Temporal> t = fhirpath::Temporal::ParseFhir(text, fhirpath::TemporalKind::kDateTime);
    EXPECT_TRUE(t.has_value()) << text;
    return t ? TemporalRange(*t).value_or(std::pair<Micros, Micros>{}) : std::pair<Micros, Micros>{};
  };
  EXPECT_EQ(range("2012"), std::make_pair(At("2012-01-01T00:00:00Z"), At("2013-01-01T00:00:00Z") - 1));
  EXPECT_EQ(range("2012-02"), std::make_pair(At("2012-02-01T00:00:00Z"), At("2012-03-01T00:00:00Z") - 1));  // leap year
  EXPECT_EQ(range("2012-12"), std::make_pair(At("2012-12-01T00:00:00Z"), At("2013-01-01T00:00:00Z") - 1));
  EXPECT_EQ(range("2012-12-31T23:59:58+01:00"),
            std::make_pair(At("2012-12-31T22:59:58Z"), At("2012-12-31T22:59:59Z") - 1));
  EXPECT_EQ(range("2012-12-31T23:59:59.5Z"),
            std::make_pair(At("2012-12-31T23:59:59.500Z"), At("2012-12-31T23:59:59.501Z") - 1));
  EXPECT_EQ(range("1969-12-31"), std::make_pair(At("1969-12-31T00:00:00Z"), Micros{-1}));
  EXPECT_EQ(range("0001-01-01").first, -62135596800LL * 1'000'000);
  EXPECT_EQ(range("9999-12-31T23:59:59.999Z").second, 253402300799999999LL);
}

TEST(IndexerTest, DateTimesFhirForbidsAreReadToo) {
  // Without seconds: the minute; without offset: UTC.
  store::IndexRows rows = IndexJson(R"({"resourceType": "Procedure", "status": "completed",
      "subject": {"reference": "Patient/p1"}, "performedPeriod": {"start": "2012-12-31T23:59+01:00",
                                                                  "end": "2013-01-01T10:00:00"}})");
  EXPECT_THAT(Dates(rows, "date"), ElementsAre(Pair(At("2012-12-31T22:59:00Z"), At("2013-01-01T10:00:01Z") - 1)));
  store::IndexRows garbage = IndexJson(R"({"resourceType": "Procedure", "status": "completed",
      "subject": {"reference": "Patient/p1"}, "performedDateTime": "yesterday"})");
  EXPECT_THAT(Dates(garbage, "date"), IsEmpty());
}

TEST(IndexerTest, MoneyRangeAndNumbers) {
  store::IndexRows invoice = IndexJson(R"({"resourceType": "Invoice", "status": "issued",
      "totalGross": {"value": 12.50, "currency": "EUR"}})");
  std::vector<store::QuantityRow> gross = Quantities(invoice, "totalgross");
  ASSERT_EQ(gross.size(), 1u);
  EXPECT_EQ(gross[0].value, 12.5);
  EXPECT_EQ(gross[0].code, "EUR");
  EXPECT_EQ(gross[0].system, "urn:iso:std:iso:4217");
  EXPECT_TRUE(gross[0].canonical_unit.empty());

  store::IndexRows condition = IndexJson(R"({"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
      "onsetRange": {"low": {"value": 10, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"},
                     "high": {"value": 20, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}}})");
  std::vector<store::QuantityRow> onset = Quantities(condition, "onset-age");
  ASSERT_EQ(onset.size(), 2u);
  EXPECT_EQ(onset[0].value + onset[1].value, 30);
  EXPECT_EQ(onset[0].canonical_unit, "s");

  store::IndexRows risk = IndexJson(R"({"resourceType": "RiskAssessment", "status": "final",
      "subject": {"reference": "Patient/p1"},
      "prediction": [{"probabilityDecimal": 0.25},
                     {"probabilityRange": {"low": {"value": 0.1}, "high": {"value": 0.4}}}]})");
  EXPECT_THAT(Numbers(risk, "probability"), UnorderedElementsAre(0.25, 0.1, 0.4));

  // Numbers a double cannot hold (the parser refuses them; a document built in code may
  // still carry one) are not indexed.
  json::Value observation = ParseJson(R"({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
      "valueQuantity": {"value": 1, "system": "http://unitsofmeasure.org", "code": "mg"}})");
  observation.Find("valueQuantity")->Set("value", json::Value::MakeNumber("1e999"));
  EXPECT_THAT(Quantities(Indexer::Default().Index(observation), "value-quantity"), IsEmpty());

  store::IndexRows sequence = IndexJson(R"({"resourceType": "MolecularSequence", "coordinateSystem": 0,
      "variant": [{"start": 128, "end": 129}]})");
  EXPECT_THAT(Numbers(sequence, "variant-start"), ElementsAre(128));
  EXPECT_THAT(Numbers(sequence, "variant-end"), ElementsAre(129));
}

TEST(IndexerTest, UrisAndCanonicals) {
  store::IndexRows rows = IndexJson(R"({"resourceType": "ActivityDefinition", "status": "active",
      "url": "http://example.org/fhir/ActivityDefinition/ad-1", "version": "1.0",
      "library": ["http://example.org/fhir/Library/lib-1|2.0"],
      "relatedArtifact": [{"type": "depends-on", "resource": "urn:oid:1.2.3"}]})");
  EXPECT_THAT(Uris(rows, "url"), ElementsAre("http://example.org/fhir/ActivityDefinition/ad-1"));
  EXPECT_THAT(Tokens(rows, "version"), ElementsAre(TokenTuple{"", "1.0", ""}));
  // Canonicals keep the URL as written; type and id come from the path before the version.
  EXPECT_THAT(References(rows, "depends-on"),
              UnorderedElementsAre(ReferenceTuple{"Library", "lib-1", "http://example.org/fhir/Library/lib-1|2.0"},
                                   ReferenceTuple{"", "", "urn:oid:1.2.3"}));
}

TEST(IndexerTest, BundleCompositionIsTheFirstEntry) {
  store::IndexRows rows = IndexJson(R"({"resourceType": "Bundle", "type": "document",
      "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},
      "timestamp": "2021-01-01T00:00:00Z",
      "entry": [{"resource": {"resourceType": "Composition", "id": "c1", "status": "final",
                              "type": {"text": "note"}, "date": "2021", "title": "t"}}]})");
  EXPECT_THAT(References(rows, "composition"), ElementsAre(ReferenceTuple{"Composition", "c1", ""}));
  EXPECT_THAT(Tokens(rows, "type"), ElementsAre(TokenTuple{"", "document", ""}));
  EXPECT_THAT(Dates(rows, "timestamp"), ElementsAre(Pair(At("2021-01-01T00:00:00Z"), At("2021-01-01T00:00:01Z") - 1)));
}

TEST(IndexerTest, StringsOfOtherDataTypes) {
  // List `notes` is an Annotation: its text is searched, not its author reference.
  store::IndexRows rows = IndexJson(R"({"resourceType": "List", "status": "current", "mode": "working",
      "title": "Ökologische  Liste",
      "note": [{"authorReference": {"reference": "Practitioner/x"}, "text": "Größe prüfen"}]})");
  EXPECT_THAT(Strings(rows, "title"), ElementsAre(StringTuple{"okologische liste", "Ökologische  Liste"}));
  EXPECT_THAT(Strings(rows, "notes"), ElementsAre(StringTuple{"grosse prufen", "Größe prüfen"}));
}

TEST(IndexerTest, ParseTypeAndId) {
  using internal::ParseTypeAndId;
  auto parse = [](std::string_view ref) -> std::pair<std::string, std::string> {
    auto t = ParseTypeAndId(ref);
    return t ? std::make_pair(std::string(t->type), std::string(t->id)) : std::make_pair(std::string("-"), std::string());
  };
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(parse("Patient/123"), P("Patient", "123"));
  EXPECT_EQ(parse("Patient/123/_history/4"), P("Patient", "123"));
  EXPECT_EQ(parse("http://x.org/fhir/Patient/a.b-c"), P("Patient", "a.b-c"));
  EXPECT_EQ(parse("https://x.org/Patient/1/_history/2"), P("Patient", "1"));
  EXPECT_EQ(parse("http://Patient/1"), P("-", ""));  // the host is not a path segment
  EXPECT_EQ(parse("urn:uuid:8a4c9c04-1524-9f1c-d65b-9b17e4520fef"), P("-", ""));
  EXPECT_EQ(parse("fhir/Patient/1"), P("-", ""));  // relative references are exactly Type/id
  EXPECT_EQ(parse("Patient/1?x=y"), P("-", ""));
  EXPECT_EQ(parse("Patient?identifier=1"), P("-", ""));
  EXPECT_EQ(parse("Patients/1"), P("-", ""));
  EXPECT_EQ(parse("Resource/1"), P("-", ""));  // abstract
  EXPECT_EQ(parse("Patient/bad_id"), P("-", ""));
  EXPECT_EQ(parse("Patient/"), P("-", ""));
  EXPECT_EQ(parse("Patient/1/_history/"), P("-", ""));
  EXPECT_EQ(parse(""), P("-", ""));
}

TEST(IndexerTest, ExpressionForTypeKeepsTheTypesOwnBranches) {
  using internal::ExpressionForType;
  EXPECT_EQ(ExpressionForType("AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | "
                              "Observation.subject.where(resolve() is Patient)",
                              "Observation"),
            "Observation.subject.where(resolve() is Patient)");
  EXPECT_EQ(ExpressionForType("(Observation.value.ofType(Quantity)) | (Condition.onset.ofType(Age))", "Observation"),
            "(Observation.value.ofType(Quantity))");
  // Unchanged: no union, nothing to drop, or branches that are not about a type.
  EXPECT_EQ(ExpressionForType("Patient.name", "Observation"), "Patient.name");
  EXPECT_EQ(ExpressionForType("Patient.name | Patient.alias", "Patient"), "Patient.name | Patient.alias");
  EXPECT_EQ(ExpressionForType("Resource.meta.tag | Patient.x", "Observation"), "Resource.meta.tag");
  EXPECT_EQ(ExpressionForType("name | Condition.x", "Observation"), "name");
  // A `|` inside parentheses or quotes does not split.
  EXPECT_EQ(ExpressionForType("Observation.code.where(text = 'a|Condition.b') | Condition.code", "Observation"),
            "Observation.code.where(text = 'a|Condition.b')");
  EXPECT_EQ(ExpressionForType("Observation.a.where(b | Condition.c) | Condition.d", "Observation"),
            "Observation.a.where(b | Condition.c)");
  // Unbalanced text is left to the compiler.
  EXPECT_EQ(ExpressionForType("Observation.a | Condition.b)", "Observation"), "Observation.a | Condition.b)");
  EXPECT_EQ(ExpressionForType("Condition.a | Encounter.b", "Observation"), "");
}

TEST(IndexerTest, UnknownOrMissingTypeGivesNoRows) {
  for (std::string_view text : {R"({"resourceType": "NoSuchType", "id": "1"})", R"({"id": "1"})", R"([1, 2])",
                                R"("Patient")"}) {
    store::IndexRows rows = Indexer::Default().Index(ParseJson(text));
    EXPECT_TRUE(rows.strings.empty() && rows.tokens.empty() && rows.dates.empty() && rows.references.empty())
        << text;
  }
}

TEST(IndexerTest, MalformedValuesAreSkippedNotFatal) {
  // Wrong JSON types where the model wants others: indexing must neither crash nor fail.
  int skipped = 0;
  store::IndexRows rows = Indexer::Default().Index(ParseJson(R"({"resourceType": "Patient",
      "birthDate": "not a date", "gender": 7, "name": [{"family": ["x"], "given": "y"}],
      "telecom": "555", "deceasedBoolean": [true, false], "address": [{"line": [1, "Main St"]}],
      "generalPractitioner": [{"reference": 5}], "identifier": [{"type": "MR", "value": "1"}]})"),
      &skipped);
  EXPECT_EQ(skipped, 0);  // the engine navigates such JSON without errors
  EXPECT_THAT(Dates(rows, "birthdate"), IsEmpty());
  EXPECT_THAT(Strings(rows, "address"), ElementsAre(StringTuple{"main st", "Main St"}));
  EXPECT_THAT(References(rows, "general-practitioner"), IsEmpty());
}

TEST(IndexerTest, ParametersThatFailToEvaluateAreSkippedAndCounted) {
  // No R4 expression fails on any JSON the engine is given (MalformedValues above), so the
  // failure comes from the step budget.
  Indexer starved(IndexerOptions{.max_steps = 1});
  int skipped = 0;
  store::IndexRows rows = starved.Index(ParseJson(kPatient), &skipped);
  EXPECT_GT(skipped, 20);
  EXPECT_THAT(Tokens(rows, "gender"), IsEmpty());
  // Without `skipped`, the same.
  EXPECT_THAT(Tokens(starved.Index(ParseJson(kPatient)), "gender"), IsEmpty());

  // A budget that a large resource exhausts and a small one does not: only the parameter
  // over a long list fails, the others still index.
  std::string many_names = R"({"resourceType": "Patient", "gender": "male", "name": [)";
  for (int i = 0; i < 2000; ++i) {
    many_names += std::string(i > 0 ? "," : "") + R"({"family": "F)" + std::to_string(i) + R"("})";
  }
  many_names += "]}";
  Indexer bounded(IndexerOptions{.max_steps = 1000});
  skipped = 0;
  rows = bounded.Index(ParseJson(many_names), &skipped);
  EXPECT_GT(skipped, 0);
  EXPECT_THAT(Tokens(rows, "gender"), ElementsAre(TokenTuple{"", "male", ""}));
  EXPECT_THAT(Strings(rows, "family"), IsEmpty());
}

TEST(IndexerTest, ConcurrentCallsAgree) {
  json::Value patient = ParseJson(kPatient);
  json::Value observation = ParseJson(kObservation);
  const Indexer& indexer = Indexer::Default();
  const size_t patient_tokens = indexer.Index(patient).tokens.size();
  const size_t observation_references = indexer.Index(observation).references.size();
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (indexer.Index(patient).tokens.size() != patient_tokens) ++mismatches;
        if (indexer.Index(observation).references.size() != observation_references) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(IndexerTest, EveryExpressionCompiles) {
  // Expected set of R4 parameters whose expression the FHIRPath engine cannot compile:
  // none. A parameter added here is one that is silently never indexed.
  std::vector<std::string> failures;
  for (const Indexer::CompileFailure& f : Indexer::Default().compile_failures()) {
    failures.push_back(f.param_id + ": " + f.message);
  }
  EXPECT_THAT(failures, IsEmpty());
}

}  // namespace
}  // namespace ehr::search
