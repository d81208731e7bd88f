#include "fhir/subset/subset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "fhir/model/model.h"
#include "io/resource_files.h"

namespace ehr::fhir {
namespace {

namespace fs = std::filesystem;

// Synthea files read by the tests over real data: the two shared bundles (Organization,
// Location, Practitioner, PractitionerRole) and three patients.
constexpr const char* kSyntheaFiles[] = {
    "0-hospitalInformation1625911868739.json.bz2", "0-practitionerInformation1625911868739.json.bz2",
    "8a4c9c04-1524-9f1c-d65b-9b17e4520fef.json.bz2", "057aa36e-b892-9964-75b9-ffb46b097e34.json.bz2",
    "0696ac49-3128-87d3-7344-04510aa4f324.json.bz2"};
constexpr std::string_view kSyntheaPatientId = "8a4c9c04-1524-9f1c-d65b-9b17e4520fef";
constexpr std::string_view kSubsetted = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue|SUBSETTED";

fs::path SharedData() {
  const char* shared = std::getenv("EHR_SHARED_DATA");
  return shared != nullptr ? fs::path(shared) : fs::path(EHR_SHARED_DATA_DIR);
}

json::Value J(std::string_view text) {
  Result<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status().message() << ": " << text;
  return v.ok() ? std::move(v).value() : json::Value();
}

Subset Summary(SummaryMode mode) { return Subset{mode, {}}; }
Subset Elements(std::vector<std::string> elements) { return Subset{SummaryMode::kFalse, std::move(elements)}; }

std::set<std::string> Keys(const json::Value& v) {
  std::set<std::string> keys;
  for (const json::Member& m : v.as_object()) keys.insert(m.first);
  return keys;
}

std::vector<std::string> Tags(const json::Value& resource) {
  std::vector<std::string> out;
  const json::Value* meta = resource.Find("meta");
  const json::Value* tags = meta != nullptr ? meta->Find("tag") : nullptr;
  if (tags == nullptr) return out;
  for (const json::Value& t : tags->as_array()) {
    out.push_back(std::string(t.GetString("system")) + "|" + std::string(t.GetString("code")));
  }
  return out;
}

int SubsettedTags(const json::Value& resource) {
  std::vector<std::string> tags = Tags(resource);
  return static_cast<int>(std::count(tags.begin(), tags.end(), kSubsetted));
}

std::string_view ElementName(std::string_view key) { return key.size() > 1 && key[0] == '_' ? key.substr(1) : key; }

// ---- Rules on small resources -------------------------------------------------------------

TEST(SummaryMode, Parses) {
  EXPECT_EQ(ParseSummaryMode("true"), SummaryMode::kTrue);
  EXPECT_EQ(ParseSummaryMode("text"), SummaryMode::kText);
  EXPECT_EQ(ParseSummaryMode("data"), SummaryMode::kData);
  EXPECT_EQ(ParseSummaryMode("count"), SummaryMode::kCount);
  EXPECT_EQ(ParseSummaryMode("false"), SummaryMode::kFalse);
  EXPECT_EQ(ParseSummaryMode("TRUE"), std::nullopt);
  EXPECT_EQ(ParseSummaryMode(""), std::nullopt);
}

TEST(Subset, WholeRequestsReturnTheResourceUntouched) {
  const std::string text = R"({"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div/>"}})";
  for (SummaryMode mode : {SummaryMode::kFalse, SummaryMode::kCount}) {
    EXPECT_TRUE(Summary(mode).whole());
    EXPECT_EQ(SubsetJson(text, Summary(mode)), text);
  }
  EXPECT_FALSE(Summary(SummaryMode::kData).whole());
  EXPECT_FALSE(Elements({"name"}).whole());
  EXPECT_EQ(SubsetJson("not json", Summary(SummaryMode::kTrue)), "not json");
}

TEST(Subset, TheModelCarriesTheFlagsOfTheDefinitions) {
  const TypeDef& patient = *FindType("Patient");
  EXPECT_TRUE(FindElement(patient, "name")->is_summary);
  EXPECT_TRUE(FindElement(patient, "birthDate")->is_summary);
  EXPECT_TRUE(FindElement(patient, "deceasedBoolean")->is_summary);
  EXPECT_TRUE(FindElement(patient, "deceasedBoolean")->is_modifier);
  EXPECT_FALSE(FindElement(patient, "communication")->is_summary);
  EXPECT_FALSE(FindElement(patient, "text")->is_summary);
  EXPECT_FALSE(FindElement(patient, "contact")->is_summary);
  EXPECT_TRUE(FindElement(*FindType("Patient.contact"), "modifierExtension")->is_summary);
  // R4 leaves these out of the summary although its own rule puts them in.
  EXPECT_FALSE(FindElement(patient, "modifierExtension")->is_summary);
  EXPECT_TRUE(FindElement(patient, "modifierExtension")->is_modifier);
  EXPECT_FALSE(FindElement(*FindType("Provenance"), "agent")->is_summary);
  EXPECT_EQ(FindElement(*FindType("Provenance"), "agent")->min, 1);
}

TEST(Subset, SummaryTrueKeepsSummaryAndModifierElements) {
  json::Value out = SubsetOf(J(R"({"resourceType":"Patient","id":"p","meta":{"versionId":"3"},
      "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},
      "extension":[{"url":"http://example.org/e","valueString":"x"}],
      "modifierExtension":[{"url":"http://example.org/m","valueBoolean":true}],
      "name":[{"family":"Smith","given":["A","B"],"_given":[null,{"extension":[{"url":"http://example.org/g","valueString":"y"}]}]}],
      "birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://example.org/t","valueTime":"10:00:00"}]},
      "maritalStatus":{"text":"M"},"communication":[{"language":{"text":"en"}}],
      "contact":[{"name":{"family":"Doe"}}],
      "link":[{"other":{"reference":"Patient/q"},"type":"seealso","extension":[{"url":"http://example.org/l","valueString":"z"}]}],
      "unknownThing":1})"),
                             Summary(SummaryMode::kTrue));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "modifierExtension", "name", "birthDate",
                                              "_birthDate", "link"}));
  // Data type values are whole, primitive arrays keep their `_name` siblings.
  EXPECT_EQ(*out.Find("name"), J(R"([{"family":"Smith","given":["A","B"],
      "_given":[null,{"extension":[{"url":"http://example.org/g","valueString":"y"}]}]}])"));
  // Inside a backbone element only its summary children stay (Patient.link.extension is not).
  EXPECT_EQ(*out.Find("link"), J(R"([{"other":{"reference":"Patient/q"},"type":"seealso"}])"));
  EXPECT_EQ(out.Find("meta")->GetString("versionId"), "3");
  EXPECT_EQ(Tags(out), std::vector<std::string>{std::string(kSubsetted)});
}

TEST(Subset, SummaryTrueFiltersBackboneElementsAndDropsEmptyOnes) {
  json::Value out = SubsetOf(J(R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"BP"},
      "category":[{"text":"vital-signs"}],
      "referenceRange":[{"low":{"value":1}}],
      "component":[
        {"code":{"text":"systolic"},"valueQuantity":{"value":120},"interpretation":[{"text":"N"}],
         "referenceRange":[{"text":"normal"}]},
        {"id":"c2","extension":[{"url":"http://example.org/e","valueString":"x"}]}]})"),
                             Summary(SummaryMode::kTrue));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "status", "code", "component"}));
  // The second component had only non-summary members: it is dropped rather than left empty.
  EXPECT_EQ(*out.Find("component"), J(R"([{"code":{"text":"systolic"},"valueQuantity":{"value":120}}])"));
}

TEST(Subset, SummaryTrueKeepsMandatoryElementsTheDefinitionsForgot) {
  // Provenance.agent is min 1 but not marked summary; its mandatory `who` stays with it.
  json::Value out = SubsetOf(J(R"({"resourceType":"Provenance","target":[{"reference":"Patient/p"}],
      "recorded":"2020-01-01T00:00:00Z","reason":[{"text":"r"}],
      "agent":[{"who":{"reference":"Practitioner/x"},"role":[{"text":"author"}]}]})"),
                             Summary(SummaryMode::kTrue));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "meta", "target", "recorded", "agent"}));
  ASSERT_NE(out.Find("agent"), nullptr);
  EXPECT_NE(out.Find("agent")->as_array()[0].Find("who"), nullptr);
}

TEST(Subset, SummaryTrueDropsAttachmentDataAtAnyDepth) {
  json::Value out = SubsetOf(J(R"({"resourceType":"DocumentReference","status":"current",
      "content":[{"attachment":{"contentType":"text/plain","data":"aGVsbG8=","_data":{"id":"d"},"size":5}}],
      "subject":{"reference":"Patient/p","extension":[{"url":"http://example.org/a",
          "valueAttachment":{"contentType":"image/png","data":"AAAA"}}]}})"),
                             Summary(SummaryMode::kTrue));
  EXPECT_EQ(*out.Find("content"), J(R"([{"attachment":{"contentType":"text/plain","size":5}}])"));
  EXPECT_EQ(*out.Find("subject"), J(R"({"reference":"Patient/p","extension":[{"url":"http://example.org/a",
      "valueAttachment":{"contentType":"image/png"}}]})"));
}

TEST(Subset, SummaryTrueKeepsResourcesInsideSummaryElementsWhole) {
  const std::string patient = R"({"resourceType":"Patient","id":"p","text":{"status":"empty","div":"<div/>"},
      "photo":[{"data":"AAAA"}],"communication":[{"language":{"text":"en"}}]})";
  json::Value out = SubsetOf(J(R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1",
      "resource":)" + patient + "}]}"),
                             Summary(SummaryMode::kTrue));
  EXPECT_EQ(*out.Find("entry")->as_array()[0].Find("resource"), J(patient));
}

TEST(Subset, SummaryTextKeepsTextIdMetaAndMandatoryElements) {
  json::Value out = SubsetOf(J(R"({"resourceType":"Observation","id":"o","meta":{"versionId":"1"},
      "text":{"status":"generated","div":"<div/>"},"status":"final","code":{"text":"c"},
      "subject":{"reference":"Patient/p"},"valueString":"v","implicitRules":"http://example.org/r"})"),
                             Summary(SummaryMode::kText));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "text", "status", "code"}));
}

TEST(Subset, SummaryDataDropsOnlyText) {
  const std::string body =
      R"({"resourceType":"Patient","id":"p","extension":[{"url":"http://example.org/e","valueString":"x"}],
      "communication":[{"language":{"text":"en"}}],"unknownThing":1})";
  json::Value in = J(body.substr(0, body.size() - 1) + R"(,"text":{"status":"empty","div":"<div/>"}})");
  json::Value out = SubsetOf(in, Summary(SummaryMode::kData));
  json::Value expected = J(body);
  expected.SetAt(2, "meta", J(R"({"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
      "code":"SUBSETTED"}]})"));
  EXPECT_EQ(out, expected);
  EXPECT_EQ(out.as_object()[2].first, "meta");  // a new meta goes after id
}

TEST(Subset, ElementsKeepsTheListedAndTheMandatoryElements) {
  json::Value out = SubsetOf(J(R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"c"},
      "subject":{"reference":"Patient/p"},"valueString":"v","_valueString":{"id":"x"},"note":[{"text":"n"}]})"),
                             Elements({"subject", "valueString"}));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "status", "code", "subject", "valueString",
                                              "_valueString"}));
  EXPECT_EQ(SubsettedTags(out), 1);
}

TEST(Subset, ElementsNamesAChoiceByItsBaseName) {
  json::Value out = SubsetOf(J(R"({"resourceType":"Observation","id":"o","status":"final","code":{"text":"c"},
      "effectiveDateTime":"2020-01-01","valueQuantity":{"value":1},"note":[{"text":"n"}]})"),
                             Elements({"effective", "value"}));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "status", "code", "effectiveDateTime",
                                              "valueQuantity"}));
}

TEST(Subset, TheTagIsAddedOnceBesideTheOtherTags) {
  json::Value in = J(R"({"resourceType":"Patient","meta":{"tag":[{"system":"http://example.org/s","code":"a"}]},
      "gender":"other"})");
  json::Value once = SubsetOf(in, Summary(SummaryMode::kTrue));
  EXPECT_EQ(Tags(once), (std::vector<std::string>{"http://example.org/s|a", std::string(kSubsetted)}));
  EXPECT_EQ(SubsetOf(once, Summary(SummaryMode::kTrue)), once);
  EXPECT_EQ(SubsetOf(once, Summary(SummaryMode::kData)), once);
}

// ---- Properties over real resources -------------------------------------------------------

// Checks `out` = SubsetOf(in, _summary=true) against the model's flags.
void ExpectSummaryOf(const json::Value& in, const json::Value& out) {
  const std::string type_name(in.GetString("resourceType"));
  SCOPED_TRACE(type_name + "/" + std::string(in.GetString("id")));
  const TypeDef* type = FindType(type_name);
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(out.GetString("resourceType"), type_name);
  EXPECT_EQ(out.GetString("id"), in.GetString("id"));
  EXPECT_EQ(SubsettedTags(out), 1);
  for (const json::Member& m : out.as_object()) {
    if (m.first == "resourceType" || m.first == "meta") continue;
    const ElementDef* e = FindElement(*type, ElementName(m.first));
    ASSERT_NE(e, nullptr) << m.first;
    EXPECT_TRUE(e->is_summary || e->is_modifier || e->min > 0) << m.first << " is not a summary element";
  }
  for (const json::Member& m : in.as_object()) {
    const ElementDef* e = FindElement(*type, ElementName(m.first));
    if (e == nullptr || !e->is_summary) continue;
    const json::Value* kept = out.Find(m.first);
    if (e->types[0].type->kind == TypeKind::kBackbone) continue;  // filtered, possibly to nothing
    ASSERT_NE(kept, nullptr) << m.first << " is a summary element";
    if (e->types.size() == 1 && e->types[0].type->is_primitive()) {
      EXPECT_EQ(*kept, m.second) << m.first;
    }
  }
  EXPECT_EQ(SubsetOf(out, Summary(SummaryMode::kTrue)), out) << "not idempotent";
}

void ExpectTextOf(const json::Value& in, const json::Value& out) {
  const TypeDef& type = *FindType(in.GetString("resourceType"));
  for (const json::Member& m : in.as_object()) {
    const std::string_view name = ElementName(m.first);
    const ElementDef* e = FindElement(type, name);
    const bool keep = name == "resourceType" || name == "id" || name == "text" || (e && e->min > 0);
    if (name == "meta") continue;
    const json::Value* kept = out.Find(m.first);
    EXPECT_EQ(kept != nullptr, keep) << m.first;
    if (keep && kept != nullptr) {
      EXPECT_EQ(*kept, m.second) << m.first;
    }
  }
  EXPECT_EQ(SubsettedTags(out), 1);
}

void ExpectDataOf(json::Value in, const json::Value& out) {
  in.Remove("text");
  json::Value out_without_tag = out;
  json::Array& tags = out_without_tag.Find("meta")->Find("tag")->as_array();
  tags.pop_back();  // the SUBSETTED tag, added last
  if (tags.empty()) out_without_tag.Find("meta")->Remove("tag");
  if (out_without_tag.Find("meta")->as_object().empty()) out_without_tag.Remove("meta");
  EXPECT_EQ(out_without_tag, in);
}

void ForEachResource(const json::Value& document, const std::function<void(const json::Value&)>& fn) {
  fn(document);
  const json::Value* entries = document.Find("entry");
  if (document.GetString("resourceType") != "Bundle" || entries == nullptr) return;
  for (const json::Value& entry : entries->as_array()) {
    if (const json::Value* resource = entry.Find("resource")) fn(*resource);
  }
}

class SubsetOverRealData : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path examples = SharedData() / "fhir-examples";
    std::vector<std::string> files;
    if (fs::is_directory(examples)) {
      for (const auto& entry : fs::directory_iterator(examples)) files.push_back(entry.path().string());
    }
    for (const char* name : kSyntheaFiles) {
      if (fs::exists(SharedData() / "synthea" / name)) files.push_back((SharedData() / "synthea" / name).string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
      if (!io::IsResourceFileName(fs::path(file).filename().string())) continue;
      if (fs::file_size(file) == 0) continue;  // Bundle-valueset-expansions.json is empty in the shared copy
      Status st = io::ForEachDocument(file, [&](std::string&& text) {
        Result<json::Value> doc = json::Parse(text);
        if (!doc.ok()) return doc.status();
        ForEachResource(*doc, [&](const json::Value& r) { resources_->push_back(r); });
        return Status::Ok();
      });
      ASSERT_TRUE(st.ok()) << file << ": " << st.message();
    }
  }

  void SetUp() override {
    if (resources_->size() < 1000) GTEST_SKIP() << "no test data under " << SharedData() << " (set EHR_SHARED_DATA)";
  }

  static const json::Value* Find(std::string_view type, std::string_view id) {
    for (const json::Value& r : *resources_) {
      if (r.GetString("resourceType") == type && r.GetString("id") == id) return &r;
    }
    return nullptr;
  }

  static inline std::vector<json::Value>* resources_ = new std::vector<json::Value>();
};

TEST_F(SubsetOverRealData, SyntheaPatientSummary) {
  const json::Value* patient = Find("Patient", kSyntheaPatientId);
  ASSERT_NE(patient, nullptr);
  for (const char* present : {"text", "communication", "extension", "maritalStatus", "multipleBirthBoolean"}) {
    ASSERT_NE(patient->Find(present), nullptr) << present;  // so that the checks below mean something
  }
  json::Value out = SubsetOf(*patient, Summary(SummaryMode::kTrue));
  EXPECT_EQ(Keys(out), (std::set<std::string>{"resourceType", "id", "meta", "identifier", "name", "telecom", "gender",
                                              "birthDate", "address"}));
  EXPECT_EQ(*out.Find("name"), *patient->Find("name"));
  EXPECT_EQ(*out.Find("address"), *patient->Find("address"));  // with its geolocation extension: a data type is whole
  // The stored meta (profiles) is kept, with the tag.
  EXPECT_EQ(*out.Find("meta")->Find("profile"), *patient->Find("meta")->Find("profile"));

  json::Value text = SubsetOf(*patient, Summary(SummaryMode::kText));
  EXPECT_EQ(Keys(text), (std::set<std::string>{"resourceType", "id", "meta", "text"}));
}

TEST_F(SubsetOverRealData, SyntheaDocumentReferencesLoseTheirNoteTextInTheSummary) {
  int attachments_with_data = 0;
  for (const json::Value& r : *resources_) {
    if (r.GetString("resourceType") != "DocumentReference") continue;
    json::Value out = SubsetOf(r, Summary(SummaryMode::kTrue));
    const json::Array& in_content = r.Find("content")->as_array();
    const json::Array& content = out.Find("content")->as_array();
    ASSERT_EQ(content.size(), in_content.size());
    for (size_t i = 0; i < content.size(); ++i) {
      const json::Value& in_attachment = *in_content[i].Find("attachment");
      const json::Value& attachment = *content[i].Find("attachment");
      if (in_attachment.Find("data") != nullptr) ++attachments_with_data;  // Synthea's notes, base64
      EXPECT_EQ(attachment.Find("data"), nullptr);
      EXPECT_EQ(attachment.GetString("contentType"), in_attachment.GetString("contentType"));
    }
  }
  EXPECT_GT(attachments_with_data, 0);
}

TEST_F(SubsetOverRealData, EveryResourceAgreesWithTheModel) {
  for (const json::Value& r : *resources_) {
    ExpectSummaryOf(r, SubsetOf(r, Summary(SummaryMode::kTrue)));
    ExpectTextOf(r, SubsetOf(r, Summary(SummaryMode::kText)));
    ExpectDataOf(r, SubsetOf(r, Summary(SummaryMode::kData)));
    if (HasFailure()) break;  // one resource's report is enough
  }
  std::cout << resources_->size() << " resources checked\n";
}

}  // namespace
}  // namespace ehr::fhir
