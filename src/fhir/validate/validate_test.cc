#include "fhir/validate/validate.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "fhir/json/value.h"
#include "fhir/model/model.h"

namespace ehr::fhir {
namespace {

// An expected issue: its IssueType code and FHIRPath expression.
struct Expected {
  std::string code;
  std::string expression;
  bool operator==(const Expected&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Expected& e) { return out << e.code << " @ '" << e.expression << "'"; }

struct Case {
  std::string name;
  std::string resource;  // JSON
  std::vector<Expected> issues;  // in reporting order; empty: valid
};

std::ostream& operator<<(std::ostream& out, const Case& c) { return out << c.name; }

// A minimal valid Observation with `members` added.
std::string Observation(const std::string& members) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"x"})" +
         (members.empty() ? std::string() : "," + members) + "}";
}

std::string Patient(const std::string& members) {
  return R"({"resourceType":"Patient")" + (members.empty() ? std::string() : "," + members) + "}";
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // --- valid resources ---
      {"MinimalPatient", Patient(""), {}},
      {"FullPatient",
       Patient(R"("id":"p-1.x","meta":{"versionId":"1","lastUpdated":"2024-01-02T03:04:05.123+01:00"},)"
               R"("text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Hi</div>"},)"
               R"("extension":[{"url":"http://example.org/a","valueString":"x"},)"
               R"({"url":"http://example.org/b","extension":[{"url":"c","valueBoolean":true}]}],)"
               R"("identifier":[{"system":"urn:oid:1.2.3.4","value":"123"}],"active":true,)"
               R"("name":[{"use":"official","family":"Chalmers","given":["Peter",null,"James"],)"
               R"("_given":[null,{"extension":[{"url":"http://example.org/x","valueCode":"a b"}]},null]}],)"
               R"("gender":"male","_gender":{"id":"g1"},"birthDate":"1974-12-25","deceasedBoolean":false,)"
               R"("multipleBirthInteger":2147483647,"photo":[{"contentType":"image/png","data":"aGVs bG8="}],)"
               R"("contact":[{"relationship":[{"coding":[{"system":"http://x","code":"N"}]}],"gender":"female"}],)"
               R"("communication":[{"language":{"text":"en"},"preferred":true}])"),
       {}},
      {"PrimitiveWithOnlyExtension", Patient(R"("_birthDate":{"extension":[{"url":"u","valueCode":"unknown"}]})"),
       {}},
      {"RequiredElementPresentOnlyAsExtension",
       R"({"resourceType":"Observation","_status":{"extension":[{"url":"u","valueString":"s"}]},"code":{"text":"x"}})",
       {}},
      {"ValueAndItsExtensionForOneChoice", Observation(R"("valueString":"a","_valueString":{"id":"x"})"), {}},
      {"CodingOfAnotherSystemIsNotChecked",
       R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},)"
       R"("clinicalStatus":{"coding":[{"system":"http://example.org","code":"whatever"}]}})",
       {}},
      {"QuestionnaireItemsRecurse",
       R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group",)"
       R"("item":[{"linkId":"1.1","type":"string"}]}]})",
       {}},

      // --- the root ---
      {"RootNotAnObject", "[1]", {{"structure", ""}}},
      {"MissingResourceType", R"({"id":"x"})", {{"required", ""}}},
      {"UnknownResourceType", R"({"resourceType":"Patientt"})", {{"invalid", ""}}},
      {"AbstractResourceType", R"({"resourceType":"DomainResource"})", {{"invalid", ""}}},
      {"DataTypeAsResourceType", R"({"resourceType":"HumanName"})", {{"invalid", ""}}},
      {"ResourceTypeNotAString", R"({"resourceType":7})", {{"structure", ""}}},

      // --- unknown elements and choices ---
      {"UnknownElement", Patient(R"("foo":1)"), {{"structure", "Patient.foo"}}},
      {"UnknownNestedElement", Patient(R"("name":[{"family":"x","middle":"y"}])"),
       {{"structure", "Patient.name[0].middle"}}},
      {"ResourceTypeInsideADataType", Patient(R"("name":[{"resourceType":"HumanName"}])"),
       {{"structure", "Patient.name[0].resourceType"}}},
      {"ChoiceBaseNameAlone", Observation(R"("value":"x")"), {{"structure", "Observation.value"}}},
      {"ChoiceWithDisallowedType", Observation(R"("valueMoney":{"value":1})"),
       {{"structure", "Observation.valueMoney"}}},
      {"TwoTypesForOneChoice", Observation(R"("valueQuantity":{"value":1},"valueString":"x")"),
       {{"structure", "Observation.valueString"}}},
      {"TwoTypesForOneChoiceViaExtension", Observation(R"("valueString":"x","_valueBoolean":{"id":"a"})"),
       {{"structure", "Observation.valueBoolean"}}},
      {"UnderscoreOfUnknownElement", Patient(R"("_foo":{"id":"a"})"), {{"structure", "Patient._foo"}}},

      // --- JSON representation ---
      {"BooleanAsString", Patient(R"("active":"true")"), {{"structure", "Patient.active"}}},
      {"StringAsNumber", Patient(R"("name":[{"family":12}])"), {{"structure", "Patient.name[0].family"}}},
      {"DecimalAsString", Observation(R"("valueQuantity":{"value":"1.0"})"),
       {{"structure", "Observation.valueQuantity.value"}}},
      {"ArrayForSingleElement", Patient(R"("birthDate":["1970-01-01"])"), {{"structure", "Patient.birthDate"}}},
      {"ObjectForArray", Patient(R"("name":{"family":"x"})"), {{"structure", "Patient.name"}}},
      {"StringForArrayOfStrings", Patient(R"("name":[{"given":"Peter"}])"), {{"structure", "Patient.name[0].given"}}},
      {"StringForObject", Patient(R"("maritalStatus":"M")"), {{"structure", "Patient.maritalStatus"}}},
      {"EmptyObject", Patient(R"("maritalStatus":{})"), {{"structure", "Patient.maritalStatus"}}},
      {"EmptyArray", Patient(R"("name":[])"), {{"structure", "Patient.name"}}},
      {"EmptyObjectInArray", Patient(R"("name":[{}])"), {{"structure", "Patient.name[0]"}}},
      {"EmptyString", Patient(R"("name":[{"family":""}])"), {{"value", "Patient.name[0].family"}}},
      {"NullForSingleElement", Patient(R"("birthDate":null)"), {{"structure", "Patient.birthDate"}}},
      {"NullInArrayWithoutExtension", Patient(R"("name":[{"given":["a",null]}])"),
       {{"structure", "Patient.name[0].given[1]"}}},
      {"NullInArrayOfObjects", Patient(R"("name":[null])"), {{"structure", "Patient.name[0]"}}},
      {"NullOnBothSides", Patient(R"("name":[{"given":["a",null],"_given":[{"id":"x"},null]}])"),
       {{"structure", "Patient.name[0].given[1]"}}},
      {"NullInExtensionArrayWithoutValues", Patient(R"("name":[{"_given":[{"id":"x"},null]}])"),
       {{"structure", "Patient.name[0].given[1]"}}},
      {"ExtensionArrayLengthMismatch", Patient(R"("name":[{"given":["a","b"],"_given":[{"id":"x"}]}])"),
       {{"structure", "Patient.name[0].given"}}},

      // --- primitive values ---
      {"BadDate", Patient(R"("birthDate":"1970-13-01")"), {{"value", "Patient.birthDate"}}},
      {"DayNotInMonth", Patient(R"("birthDate":"1971-02-29")"), {{"value", "Patient.birthDate"}}},
      {"DateTimeWithoutZone", Patient(R"("deceasedDateTime":"2020-01-01T10:00:00")"),
       {{"value", "Patient.deceasedDateTime"}}},
      {"InstantWithoutTime", Observation(R"("issued":"2020-01-01")"), {{"value", "Observation.issued"}}},
      {"BadTime", Observation(R"("valueTime":"25:00:00")"), {{"value", "Observation.valueTime"}}},
      {"BadId", Patient(R"("id":"a b")"), {{"value", "Patient.id"}}},
      {"IdTooLong", Patient(R"("id":")" + std::string(65, 'a') + R"(")"), {{"value", "Patient.id"}}},
      {"IntegerOutOfRange", Patient(R"("multipleBirthInteger":2147483648)"),
       {{"value", "Patient.multipleBirthInteger"}}},
      {"IntegerWithFraction", Patient(R"("multipleBirthInteger":1.5)"), {{"value", "Patient.multipleBirthInteger"}}},
      {"PositiveIntZero", Patient(R"("photo":[{"size":0}],"extension":[{"url":"u","valuePositiveInt":0}])"),
       {{"value", "Patient.extension[0].valuePositiveInt"}}},
      {"UnsignedIntNegative", Patient(R"("photo":[{"size":-1}])"), {{"value", "Patient.photo[0].size"}}},
      {"CodeWithTrailingSpace", Patient(R"("gender":"male ")"), {{"value", "Patient.gender"}}},
      {"UriWithSpace", Patient(R"("identifier":[{"system":"http://a b"}])"),
       {{"value", "Patient.identifier[0].system"}}},
      {"BadOid", Patient(R"("extension":[{"url":"u","valueOid":"1.2.3"}])"),
       {{"value", "Patient.extension[0].valueOid"}}},
      {"UpperCaseUuid", Patient(R"("extension":[{"url":"u","valueUuid":"urn:uuid:A0000000-0000-0000-0000-000000000000"}])"),
       {{"value", "Patient.extension[0].valueUuid"}}},
      {"BadBase64", Patient(R"("photo":[{"data":"abc"}])"), {{"value", "Patient.photo[0].data"}}},
      {"ControlCharacterInString", Patient(R"("name":[{"family":"a\u0001b"}])"), {{"value", "Patient.name[0].family"}}},
      {"NarrativeNotADiv", Patient(R"("text":{"status":"generated","div":"<p>x</p>"})"),
       {{"value", "Patient.text.div"}}},
      {"NarrativeWithScript", Patient(R"("text":{"status":"generated","div":"<div><SCRIPT>x</SCRIPT></div>"})"),
       {{"value", "Patient.text.div"}}},

      // --- cardinality ---
      {"MissingRequiredElements", R"({"resourceType":"Observation"})",
       {{"required", "Observation.status"}, {"required", "Observation.code"}}},
      {"MissingRequiredInBackbone", Patient(R"("communication":[{"preferred":true}])"),
       {{"required", "Patient.communication[0].language"}}},
      {"MissingRequiredInContentReference",
       R"({"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"type":"display"}]}]})",
       {{"required", "Questionnaire.item[0].item[0].linkId"}}},
      {"ProhibitedBySimpleQuantity",
       R"({"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},)"
       R"("subject":{"reference":"Patient/1"},"dosageInstruction":[{"doseAndRate":[{"doseQuantity":{"value":1,"comparator":"<"}}]}]})",
       {{"structure", "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.comparator"}}},

      // --- required bindings ---
      {"CodeNotInValueSet", Patient(R"("gender":"robot")"), {{"code-invalid", "Patient.gender"}}},
      {"CodeNotInValueSetInBackbone", Patient(R"("contact":[{"gender":"robot"}])"),
       {{"code-invalid", "Patient.contact[0].gender"}}},
      {"CodingNotInValueSet",
       R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},)"
       R"("clinicalStatus":{"coding":[{"system":"http://example.org","code":"x"},)"
       R"({"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"bogus"}]}})",
       {{"code-invalid", "Condition.clinicalStatus.coding[1].code"}}},

      // --- primitive extensions (`_name`) ---
      {"UnderscoreWithBadMember", Patient(R"("_birthDate":{"foo":1})"), {{"structure", "Patient.birthDate.foo"}}},
      {"UnderscoreNotAnObject", Patient(R"("_birthDate":"x")"), {{"structure", "Patient.birthDate"}}},
      {"UnderscoreEmpty", Patient(R"("_birthDate":{})"), {{"structure", "Patient.birthDate"}}},
      {"UnderscoreOnComplexElement", Patient(R"("_maritalStatus":{"id":"x"})"),
       {{"structure", "Patient.maritalStatus"}}},
      {"UnderscoreOnAttribute", Patient(R"("extension":[{"url":"u","_url":{"id":"x"},"valueString":"s"}])"),
       {{"structure", "Patient.extension[0].url"}}},
      {"UnderscoreExtensionWithoutUrl", Patient(R"("_birthDate":{"extension":[{"valueString":"x"}]})"),
       {{"required", "Patient.birthDate.extension[0].url"}}},

      // --- extensions ---
      {"ExtensionWithoutUrl", Patient(R"("extension":[{"valueString":"x"}])"), {{"required", "Patient.extension[0].url"}}},
      {"ExtensionWithValueAndExtensions",
       Patient(R"("extension":[{"url":"u","valueString":"x","extension":[{"url":"v","valueString":"y"}]}])"),
       {{"invalid", "Patient.extension[0]"}}},
      {"ExtensionWithNeither", Patient(R"("modifierExtension":[{"url":"u"}])"), {{"invalid", "Patient.modifierExtension[0]"}}},
      {"ExtensionUrlNotAString", Patient(R"("extension":[{"url":5,"valueString":"x"}])"),
       {{"structure", "Patient.extension[0].url"}}},

      // --- nested resources ---
      {"ContainedWithoutId", Patient(R"("contained":[{"resourceType":"Organization","name":"x"}])"),
       {{"required", "Patient.contained[0].ofType(Organization).id"}}},
      {"ContainedWithUnknownElement", Patient(R"("contained":[{"resourceType":"Organization","id":"o","foo":1}])"),
       {{"structure", "Patient.contained[0].ofType(Organization).foo"}}},
      {"ContainedWithoutResourceType", Patient(R"("contained":[{"id":"o"}])"), {{"required", "Patient.contained[0]"}}},
      {"ContainedUnknownType", Patient(R"("contained":[{"resourceType":"Nope","id":"o"}])"),
       {{"invalid", "Patient.contained[0]"}}},
      {"ContainedNotAnObject", Patient(R"("contained":["x"])"), {{"structure", "Patient.contained[0]"}}},
      {"ContainedInContained",
       Patient(R"("contained":[{"resourceType":"Organization","id":"o","contained":[{"resourceType":"Patient","id":"p"}]}])"),
       {{"invalid", "Patient.contained[0].ofType(Organization).contained[0]"}}},
      {"BundleEntryResource",
       R"({"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:0b6f1a52-8e2e-4a39-a3e7-5c1f8b0c2f11",)"
       R"("resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Organization"}},)"
       R"({"resource":{"resourceType":"Patient","name":{"family":"x"}}}]})",
       {{"structure", "Bundle.entry[2].resource.ofType(Patient).name"}}},
      {"BundleEntryWithoutResourceType", R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{}}]})",
       {{"required", "Bundle.entry[0].resource"}}},
      {"ParametersResource",
       R"({"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","gender":"robot"}}]})",
       {{"code-invalid", "Parameters.parameter[0].resource.ofType(Patient).gender"}}},

      // --- several problems: one issue each, in document order ---
      {"SeveralProblems", R"({"resourceType":"Observation","status":"done","foo":1,"valueBoolean":"yes"})",
       {{"code-invalid", "Observation.status"},
        {"structure", "Observation.foo"},
        {"structure", "Observation.valueBoolean"},
        {"required", "Observation.code"}}},
  };
  return cases;
}

class ValidateCaseTest : public testing::TestWithParam<Case> {};

TEST_P(ValidateCaseTest, ReportsExactlyTheExpectedIssues) {
  const Case& c = GetParam();
  Result<json::Value> resource = json::Parse(c.resource);
  ASSERT_TRUE(resource.ok()) << resource.status().message();
  const Status status = ValidateResource(*resource);
  std::vector<Expected> actual;
  for (const Issue& issue : status.issues()) {
    actual.push_back({issue.code, issue.expression});
    EXPECT_EQ(issue.severity, "error");
    EXPECT_FALSE(issue.diagnostics.empty());
  }
  EXPECT_EQ(actual, c.issues) << [&] {
    std::string all;
    for (const Issue& issue : status.issues()) all += issue.expression + ": " + issue.diagnostics + "\n";
    return all;
  }();
  EXPECT_EQ(status.ok(), c.issues.empty());
  EXPECT_EQ(status.code(), c.issues.empty() ? Code::kOk : Code::kInvalid);
}

INSTANTIATE_TEST_SUITE_P(Cases, ValidateCaseTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(ValidateTest, DiagnosticsNameTheProblem) {
  Result<json::Value> resource = json::Parse(R"({"resourceType":"Patient","gender":"robot","birthDate":"1970-13-01"})");
  ASSERT_TRUE(resource.ok());
  const Status status = ValidateResource(*resource);
  ASSERT_EQ(status.issues().size(), 2u);
  EXPECT_NE(status.issues()[0].diagnostics.find("'robot'"), std::string::npos);
  EXPECT_NE(status.issues()[0].diagnostics.find("administrative-gender"), std::string::npos);
  EXPECT_NE(status.issues()[1].diagnostics.find("'1970-13-01'"), std::string::npos);
  EXPECT_EQ(status.http_status(), 400);
}

TEST(ValidateTest, StopsAfterTooManyIssues) {
  std::string text = R"({"resourceType":"Patient")";
  for (int i = 0; i < 150; ++i) text += ",\"bad" + std::to_string(i) + "\":1";
  text += "}";
  Result<json::Value> resource = json::Parse(text);
  ASSERT_TRUE(resource.ok());
  const Status status = ValidateResource(*resource);
  ASSERT_EQ(status.issues().size(), kMaxValidationIssues);
  EXPECT_EQ(status.issues()[kMaxValidationIssues - 2].expression, "Patient.bad98");
  EXPECT_EQ(status.issues().back().code, "too-costly");

  // Exactly the maximum is reported in full.
  text = R"({"resourceType":"Patient")";
  for (size_t i = 0; i < kMaxValidationIssues; ++i) text += ",\"bad" + std::to_string(i) + "\":1";
  text += "}";
  const Status full = ValidateResource(*json::Parse(text));
  ASSERT_EQ(full.issues().size(), kMaxValidationIssues);
  EXPECT_EQ(full.issues().back().expression, "Patient.bad99");
}

TEST(ValidateTest, BareInstanceOfEveryTypeMissesExactlyItsRequiredElements) {
  for (std::string_view type_name : ResourceTypes()) {
    Result<json::Value> resource = json::Parse(R"({"resourceType":")" + std::string(type_name) + R"("})");
    ASSERT_TRUE(resource.ok());
    std::vector<Expected> expected;
    for (const ElementDef& element : FindType(type_name)->elements) {
      if (element.min > 0) expected.push_back({"required", std::string(type_name) + "." + std::string(element.name)});
    }
    std::vector<Expected> actual;
    const Status status = ValidateResource(*resource);
    for (const Issue& issue : status.issues()) actual.push_back({issue.code, issue.expression});
    EXPECT_EQ(actual, expected) << type_name;
  }
}

}  // namespace
}  // namespace ehr::fhir
