// The indexer over real data: Synthea transaction Bundles (../shared/data/synthea), every
// resource indexed, concrete rows checked for known resources, and the indexing rate
// printed (parsing excluded). EHR_SYNTHEA_FILES=N indexes the first N files instead of
// the default sample (0: all of them).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "fhir/json/value.h"
#include "io/resource_files.h"
#include "search/indexer.h"

namespace ehr::search {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The patient whose bundle the concrete expectations below describe.
constexpr std::string_view kPatientFile = "8a4c9c04-1524-9f1c-d65b-9b17e4520fef.json.bz2";
constexpr size_t kDefaultFiles = 12;

fs::path SyntheaDir() {
  const char* shared = std::getenv("EHR_SHARED_DATA");
  return fs::path(shared != nullptr ? shared : EHR_SHARED_DATA_DIR) / "synthea";
}

Micros At(std::string_view instant) { return ParseInstant(instant).value_or(0); }

struct Indexed {
  std::string type;
  std::string id;
  store::IndexRows rows;
};

// Parses the files' bundles and indexes every entry's resource. Only Index() is timed.
class SyntheaIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::path dir = SyntheaDir();
    if (!fs::is_directory(dir)) return;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (io::IsResourceFileName(entry.path().filename().string())) files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    size_t limit = kDefaultFiles;
    if (const char* n = std::getenv("EHR_SYNTHEA_FILES")) limit = std::strtoul(n, nullptr, 10);
    // Always the two shared bundles (Organization, Location, Practitioner, PractitionerRole)
    // and the patient the expectations are about, then others in name order.
    std::vector<std::string> sample;
    for (const std::string& f : files) {
      std::string name = fs::path(f).filename().string();
      if (name.starts_with("0-") || name == kPatientFile) sample.push_back(f);
    }
    for (const std::string& f : files) {
      if (limit != 0 && sample.size() >= limit) break;
      if (std::find(sample.begin(), sample.end(), f) == sample.end()) sample.push_back(f);
    }

    json::ParseOptions options;
    options.max_depth = 512;
    std::vector<json::Value> bundles;
    for (const std::string& file : sample) {
      Status st = io::ForEachDocument(file, [&](std::string&& text) {
        Result<json::Value> bundle = json::Parse(text, options);
        if (!bundle.ok()) return bundle.status();
        bundles.push_back(std::move(bundle).value());
        return Status::Ok();
      });
      ASSERT_TRUE(st.ok()) << file << ": " << st.message();
    }

    const Indexer& indexer = Indexer::Default();
    auto start = std::chrono::steady_clock::now();
    for (const json::Value& bundle : bundles) {
      const json::Value* entries = bundle.Find("entry");
      if (entries == nullptr || !entries->is_array()) continue;
      for (const json::Value& entry : entries->as_array()) {
        const json::Value* resource = entry.Find("resource");
        if (resource == nullptr) continue;
        int skipped = 0;
        store::IndexRows rows = indexer.Index(*resource, &skipped);
        skipped_ += skipped;
        resources_->push_back({std::string(resource->GetString("resourceType")), std::string(resource->GetString("id")),
                               std::move(rows)});
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "indexed " << resources_->size() << " resources of " << sample.size() << " files in " << seconds
              << " s: " << static_cast<long>(resources_->size() / seconds) << " resources/s\n";
  }

  static const Indexed* Find(std::string_view type, std::string_view id) {
    for (const Indexed& r : *resources_) {
      if (r.type == type && r.id == id) return &r;
    }
    return nullptr;
  }

  void SetUp() override {
    if (resources_->empty()) GTEST_SKIP() << "no Synthea data at " << SyntheaDir() << " (set EHR_SHARED_DATA)";
  }

  static inline std::vector<Indexed>* resources_ = new std::vector<Indexed>();
  static inline int skipped_ = 0;
};

template <typename Row>
std::vector<Row> Of(const std::vector<Row>& rows, std::string_view param) {
  std::vector<Row> out;
  std::copy_if(rows.begin(), rows.end(), std::back_inserter(out), [param](const Row& r) { return r.param == param; });
  return out;
}

TEST_F(SyntheaIndexTest, EveryExpressionEvaluates) { EXPECT_EQ(skipped_, 0); }

TEST_F(SyntheaIndexTest, KnownPatient) {
  const Indexed* patient = Find("Patient", "8a4c9c04-1524-9f1c-d65b-9b17e4520fef");
  ASSERT_NE(patient, nullptr);
  std::vector<std::tuple<std::string, std::string>> family;
  for (const auto& r : Of(patient->rows.strings, "family")) family.emplace_back(r.normalized, r.exact);
  EXPECT_THAT(family, ElementsAre(std::make_tuple("o'hara248", "O'Hara248")));
  std::vector<std::string> given;
  for (const auto& r : Of(patient->rows.strings, "given")) given.push_back(r.normalized);
  EXPECT_THAT(given, ElementsAre("zandra428"));

  auto birthdate = Of(patient->rows.dates, "birthdate");
  ASSERT_EQ(birthdate.size(), 1u);
  EXPECT_EQ(birthdate[0].low, At("2021-04-03T00:00:00Z"));
  EXPECT_EQ(birthdate[0].high, At("2021-04-04T00:00:00Z") - 1);

  std::vector<std::tuple<std::string, std::string, std::string>> identifiers;
  for (const auto& r : Of(patient->rows.tokens, "identifier")) identifiers.emplace_back(r.system, r.code, r.text);
  EXPECT_THAT(identifiers, Contains(std::make_tuple("http://hl7.org/fhir/sid/us-ssn", "999-12-2220",
                                                    "social security number")));
  EXPECT_THAT(identifiers, Contains(std::make_tuple("https://github.com/synthetichealth/synthea",
                                                    "8a4c9c04-1524-9f1c-d65b-9b17e4520fef", "")));
  auto gender = Of(patient->rows.tokens, "gender");
  ASSERT_EQ(gender.size(), 1u);
  EXPECT_EQ(gender[0].code, "female");
  auto phone = Of(patient->rows.tokens, "phone");
  ASSERT_EQ(phone.size(), 1u);
  EXPECT_EQ(phone[0].code, "555-590-5437");
  auto city = Of(patient->rows.strings, "address-city");
  ASSERT_EQ(city.size(), 1u);
  EXPECT_EQ(city[0].normalized, "amherst");
  auto profile = Of(patient->rows.uris, "_profile");
  ASSERT_EQ(profile.size(), 1u);
  EXPECT_EQ(profile[0].uri, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient");
}

TEST_F(SyntheaIndexTest, KnownObservation) {
  const Indexed* obs = Find("Observation", "718a60f5-1dcc-339c-dfd6-1ca9690731ca");
  ASSERT_NE(obs, nullptr);
  auto code = Of(obs->rows.tokens, "code");
  ASSERT_EQ(code.size(), 1u);
  EXPECT_EQ(code[0].system, "http://loinc.org");
  EXPECT_EQ(code[0].code, "8302-2");
  EXPECT_EQ(code[0].text, "body height");

  // Synthea's bundles refer to entries by their urn:uuid: fullUrl.
  auto subject = Of(obs->rows.references, "subject");
  ASSERT_EQ(subject.size(), 1u);
  EXPECT_EQ(subject[0].url, "urn:uuid:8a4c9c04-1524-9f1c-d65b-9b17e4520fef");
  EXPECT_EQ(subject[0].target_type, "");
  EXPECT_EQ(subject[0].target_id, "");
  // `subject.where(resolve() is Patient)` cannot know the type of a urn:uuid: target.
  EXPECT_THAT(Of(obs->rows.references, "patient"), IsEmpty());

  // effectiveDateTime 2021-04-03T08:03:00+02:00: that second.
  auto date = Of(obs->rows.dates, "date");
  ASSERT_EQ(date.size(), 1u);
  EXPECT_EQ(date[0].low, At("2021-04-03T06:03:00Z"));
  EXPECT_EQ(date[0].high, At("2021-04-03T06:03:01Z") - 1);

  auto value = Of(obs->rows.quantities, "value-quantity");  // 51.3 cm
  ASSERT_EQ(value.size(), 1u);
  EXPECT_EQ(value[0].value, 51.3);
  EXPECT_EQ(value[0].code, "cm");
  EXPECT_EQ(value[0].canonical_unit, "m");
  EXPECT_DOUBLE_EQ(value[0].canonical_value, 0.513);
}

TEST_F(SyntheaIndexTest, KnownEncounterAndImmunization) {
  const Indexed* encounter = Find("Encounter", "679146c3-fb51-ce39-1072-c7d04108fddd");
  ASSERT_NE(encounter, nullptr);
  auto date = Of(encounter->rows.dates, "date");
  ASSERT_EQ(date.size(), 1u);
  EXPECT_EQ(date[0].low, At("2021-04-03T06:03:00Z"));
  EXPECT_EQ(date[0].high, At("2021-04-03T06:18:01Z") - 1);
  auto type = Of(encounter->rows.tokens, "type");
  ASSERT_EQ(type.size(), 1u);
  EXPECT_EQ(type[0].code, "410620009");
  EXPECT_EQ(type[0].text, "well child visit (procedure)");
  // Participants are conditional references ("Practitioner?identifier=..."): no rows.
  EXPECT_THAT(Of(encounter->rows.references, "practitioner"), IsEmpty());
  EXPECT_THAT(Of(encounter->rows.references, "participant"), IsEmpty());

  const Indexed* immunization = Find("Immunization", "02db96d6-cb4d-3282-27e2-b9f4e90992aa");
  ASSERT_NE(immunization, nullptr);
  auto vaccine = Of(immunization->rows.tokens, "vaccine-code");
  ASSERT_EQ(vaccine.size(), 1u);
  EXPECT_EQ(vaccine[0].system, "http://hl7.org/fhir/sid/cvx");
  EXPECT_EQ(vaccine[0].code, "08");
  // Immunization.patient has no resolve(): the urn:uuid: is kept as url.
  auto patient = Of(immunization->rows.references, "patient");
  ASSERT_EQ(patient.size(), 1u);
  EXPECT_EQ(patient[0].url, "urn:uuid:8a4c9c04-1524-9f1c-d65b-9b17e4520fef");
}

TEST_F(SyntheaIndexTest, KnownOrganizationAndPractitioner) {
  const Indexed* org = Find("Organization", "69176529-fd1f-3b3f-abce-a0a3626769eb");
  ASSERT_NE(org, nullptr);
  auto name = Of(org->rows.strings, "name");
  ASSERT_EQ(name.size(), 1u);
  EXPECT_EQ(name[0].normalized, "mount auburn hospital");
  EXPECT_EQ(name[0].exact, "MOUNT AUBURN HOSPITAL");
  auto active = Of(org->rows.tokens, "active");
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].code, "true");

  const Indexed* practitioner = Find("Practitioner", "ffb3f581-4467-35fb-94c5-e5b0ff9ac59e");
  ASSERT_NE(practitioner, nullptr);
  std::set<std::string> names;
  for (const auto& r : Of(practitioner->rows.strings, "name")) names.insert(r.normalized);
  EXPECT_EQ(names, (std::set<std::string>{"fisher429", "janette321", "dr."}));
  auto email = Of(practitioner->rows.tokens, "email");
  ASSERT_EQ(email.size(), 1u);
  EXPECT_EQ(email[0].code, "Janette321.Fisher429@example.com");
}

// Every resource of the main clinical types gets the rows its required elements imply.
TEST_F(SyntheaIndexTest, RequiredElementsAreIndexed) {
  std::map<std::string, int> resources_of;
  for (const Indexed& r : *resources_) {
    ++resources_of[r.type];
    SCOPED_TRACE(r.type + "/" + r.id);
    if (r.type == "Patient") {
      EXPECT_FALSE(Of(r.rows.strings, "name").empty());
      EXPECT_EQ(Of(r.rows.dates, "birthdate").size(), 1u);
    } else if (r.type == "Observation") {
      EXPECT_FALSE(Of(r.rows.tokens, "code").empty());
      EXPECT_EQ(Of(r.rows.references, "subject").size(), 1u);
      EXPECT_EQ(Of(r.rows.tokens, "status").size(), 1u);
    } else if (r.type == "Encounter") {
      EXPECT_EQ(Of(r.rows.dates, "date").size(), 1u);
      EXPECT_EQ(Of(r.rows.tokens, "class").size(), 1u);
    }
    // No row without a parameter, no date range upside down.
    for (const auto& d : r.rows.dates) EXPECT_LE(d.low, d.high) << d.param;
  }
  EXPECT_GE(resources_of["Patient"], 3);
  EXPECT_GE(resources_of["Observation"], 100);
}

}  // namespace
}  // namespace ehr::search
