#include "fhir/model/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <unistd.h>

namespace ehr::fhir {
namespace {

namespace fs = std::filesystem;

TEST(ModelTest, ResourceTypesAreSortedConcreteResources) {
  std::span<const std::string_view> types = ResourceTypes();
  EXPECT_EQ(types.size(), 147u);  // R4's 146 and SubscriptionStatus, which the package adds
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_TRUE(IsResourceType("Patient"));
  EXPECT_TRUE(IsResourceType("Bundle"));
  EXPECT_FALSE(IsResourceType("Resource"));
  EXPECT_FALSE(IsResourceType("DomainResource"));
  EXPECT_FALSE(IsResourceType("HumanName"));
  EXPECT_FALSE(IsResourceType("patient"));
  EXPECT_FALSE(IsResourceType(""));
  for (std::string_view name : types) {
    const TypeDef* type = FindType(name);
    ASSERT_NE(type, nullptr) << name;
    EXPECT_TRUE(type->is_resource());
    EXPECT_FALSE(type->is_abstract);
  }
}

TEST(ModelTest, EveryElementIsResolved) {
  size_t max_elements = 0;
  std::span<const TypeDef> all = AllTypes();
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const TypeDef& a, const TypeDef& b) { return a.name < b.name; }));
  for (const TypeDef& type : all) {
    max_elements = std::max(max_elements, type.elements.size());
    EXPECT_EQ(FindType(type.name), &type);
    size_t required = 0;
    for (const ElementDef& element : type.elements) {
      ASSERT_FALSE(element.types.empty()) << element.path;
      for (const TypeRef& ref : element.types) ASSERT_NE(ref.type, nullptr) << element.path;
      EXPECT_TRUE(element.is_choice || element.types.size() == 1) << element.path;
      if (element.min > 0) ++required;
      // Every JSON name resolves back to its element.
      if (!element.is_choice) {
        EXPECT_EQ(FindElement(type, element.name), &element) << element.path;
      }
    }
    EXPECT_EQ(type.required_count, required) << type.name;
  }
  EXPECT_EQ(MaxElementsPerType(), max_elements);
}

TEST(ModelTest, BackboneElementsAreTypesOfTheirOwn) {
  const TypeDef* patient = FindType("Patient");
  ASSERT_NE(patient, nullptr);
  EXPECT_EQ(patient->base, "DomainResource");
  const ElementDef* contact = FindElement(*patient, "contact");
  ASSERT_NE(contact, nullptr);
  EXPECT_TRUE(contact->is_array);
  EXPECT_EQ(contact->max, kUnbounded);
  const TypeDef* contact_type = contact->types[0].type;
  EXPECT_EQ(contact_type->name, "Patient.contact");
  EXPECT_EQ(contact_type->kind, TypeKind::kBackbone);
  EXPECT_EQ(contact_type, FindType("Patient.contact"));
  EXPECT_NE(FindElement(*contact_type, "relationship"), nullptr);
  EXPECT_NE(FindElement(*contact_type, "modifierExtension"), nullptr);
  EXPECT_EQ(FindElement(*contact_type, "birthDate"), nullptr);

  const TypeDef* repeat = FindType("Timing.repeat");  // a backbone inside a data type
  ASSERT_NE(repeat, nullptr);
  EXPECT_EQ(repeat->base, "Element");
  EXPECT_NE(FindElement(*repeat, "boundsPeriod"), nullptr);
}

TEST(ModelTest, ChoiceNamesResolveToTheirType) {
  const TypeDef& observation = *FindType("Observation");
  ElementMatch quantity = MatchElement(observation, "valueQuantity");
  ASSERT_TRUE(quantity);
  EXPECT_EQ(quantity.element->name, "value");
  EXPECT_EQ(quantity.element->path, "Observation.value[x]");
  EXPECT_TRUE(quantity.element->is_choice);
  EXPECT_EQ(quantity.type->code, "Quantity");
  EXPECT_EQ(quantity.type->type->name, "Quantity");
  ElementMatch date_time = MatchElement(observation, "effectiveDateTime");
  ASSERT_TRUE(date_time);
  EXPECT_EQ(date_time.type->type->primitive, Primitive::kDateTime);
  EXPECT_FALSE(MatchElement(observation, "value"));
  EXPECT_FALSE(MatchElement(observation, "valueMoney"));  // not allowed for Observation.value[x]
  EXPECT_FALSE(MatchElement(observation, "valuequantity"));
  EXPECT_FALSE(MatchElement(observation, "effectiveQuantity"));

  const TypeDef& extension = *FindType("Extension");
  EXPECT_TRUE(MatchElement(extension, "valueCodeableConcept"));
  EXPECT_TRUE(MatchElement(extension, "valueBase64Binary"));
  EXPECT_EQ(MatchElement(extension, "valueUuid").type->type->primitive, Primitive::kUuid);
}

TEST(ModelTest, ProfiledTypesAndContentReferences) {
  // Dosage.doseAndRate.dose[x] allows SimpleQuantity, which forbids a comparator.
  const TypeDef* dose_and_rate = FindType("Dosage.doseAndRate");
  ASSERT_NE(dose_and_rate, nullptr);
  ElementMatch dose = MatchElement(*dose_and_rate, "doseQuantity");
  ASSERT_TRUE(dose);
  EXPECT_EQ(dose.type->code, "Quantity");
  EXPECT_EQ(dose.type->type->name, "SimpleQuantity");
  const ElementDef* comparator = FindElement(*dose.type->type, "comparator");
  ASSERT_NE(comparator, nullptr);
  EXPECT_EQ(comparator->max, 0);
  EXPECT_FALSE(comparator->is_array);

  const ElementDef* item = FindElement(*FindType("Questionnaire.item"), "item");
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->content_reference, "Questionnaire.item");
  EXPECT_EQ(item->types[0].type, FindType("Questionnaire.item"));
}

TEST(ModelTest, PrimitivesAndAttributes) {
  const TypeDef* string_type = FindType("string");
  ASSERT_NE(string_type, nullptr);
  EXPECT_EQ(string_type->kind, TypeKind::kPrimitive);
  EXPECT_EQ(string_type->primitive, Primitive::kString);
  ASSERT_EQ(string_type->elements.size(), 2u);  // id and extension: the members of `_name`
  EXPECT_EQ(string_type->elements[0].name, "id");
  EXPECT_TRUE(string_type->elements[0].is_attribute);
  EXPECT_EQ(string_type->elements[1].name, "extension");

  // Resource.id is an `id`; Element.id a plain string attribute.
  EXPECT_EQ(FindElement(*FindType("Patient"), "id")->types[0].type->primitive, Primitive::kId);
  const ElementDef* element_id = FindElement(*FindType("HumanName"), "id");
  EXPECT_EQ(element_id->types[0].type->primitive, Primitive::kString);
  EXPECT_TRUE(element_id->is_attribute);
  const ElementDef* url = FindElement(*FindType("Extension"), "url");
  EXPECT_TRUE(url->is_attribute);
  EXPECT_EQ(url->min, 1);
  EXPECT_EQ(url->types[0].type->primitive, Primitive::kUri);
  EXPECT_FALSE(FindElement(*FindType("Patient"), "birthDate")->is_attribute);

  const ElementDef* contained = FindElement(*FindType("Patient"), "contained");
  EXPECT_EQ(contained->types[0].type->name, "Resource");
  EXPECT_TRUE(contained->types[0].type->is_abstract);
  EXPECT_EQ(FindElement(*FindType("Narrative"), "div")->types[0].type->primitive, Primitive::kXhtml);
}

TEST(ModelTest, PrimitiveRulesComeFromTheDefinitions) {
  EXPECT_EQ(PrimitiveRules().size(), 20u);
  const PrimitiveRule* id = FindPrimitiveRule(Primitive::kId);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->type, "id");
  EXPECT_EQ(id->regex, "[A-Za-z0-9\\-\\.]{1,64}");
  EXPECT_TRUE(FindPrimitiveRule(Primitive::kXhtml)->regex.empty());
  for (const PrimitiveRule& rule : PrimitiveRules()) {
    EXPECT_EQ(FindType(rule.type)->primitive, rule.primitive);
    if (!rule.regex.empty()) {
      EXPECT_NO_THROW(std::regex(std::string(rule.regex))) << rule.type;
    }
  }
  EXPECT_EQ(FindPrimitiveRule(Primitive::kNone), nullptr);
}

TEST(ModelTest, RequiredBindings) {
  const ElementDef* gender = FindElement(*FindType("Patient"), "gender");
  ASSERT_NE(gender->binding, nullptr);
  EXPECT_EQ(gender->binding->url, "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1");
  ASSERT_TRUE(gender->binding->checkable);
  EXPECT_TRUE(ValueSetContains(*gender->binding, "", "female"));
  EXPECT_TRUE(ValueSetContains(*gender->binding, "http://hl7.org/fhir/administrative-gender", "unknown"));
  EXPECT_FALSE(ValueSetContains(*gender->binding, "", "robot"));
  EXPECT_FALSE(ValueSetContains(*gender->binding, "http://example.org", "female"));
  EXPECT_TRUE(ValueSetHasSystem(*gender->binding, "http://hl7.org/fhir/administrative-gender"));

  // A preferred binding is not kept.
  EXPECT_EQ(FindElement(*FindType("Patient"), "language")->binding, nullptr);

  // Hierarchical code systems contribute their nested codes.
  const ElementDef* clinical = FindElement(*FindType("Condition"), "clinicalStatus");
  ASSERT_NE(clinical->binding, nullptr);
  EXPECT_TRUE(ValueSetContains(*clinical->binding, "http://terminology.hl7.org/CodeSystem/condition-clinical", "recurrence"));

  // Units of time enumerate UCUM codes explicitly: checkable. UCUM units as a whole are not.
  const ElementDef* period_unit = FindElement(*FindType("Timing.repeat"), "periodUnit");
  ASSERT_TRUE(period_unit->binding->checkable);
  EXPECT_TRUE(ValueSetContains(*period_unit->binding, "", "wk"));
  EXPECT_FALSE(ValueSetContains(*period_unit->binding, "", "week"));
  bool saw_ucum = false;
  for (const ValueSetDef& value_set : RequiredValueSets()) {
    if (value_set.url.starts_with("http://hl7.org/fhir/ValueSet/ucum-units")) {
      saw_ucum = true;
      EXPECT_FALSE(value_set.checkable);
      EXPECT_NE(value_set.reason.find("unitsofmeasure.org"), std::string_view::npos);
    }
    if (value_set.checkable) {
      EXPECT_FALSE(value_set.systems.empty()) << value_set.url;
    }
  }
  EXPECT_TRUE(saw_ucum);
}

TEST(ModelTest, SearchParameters) {
  EXPECT_EQ(SearchParams().size(), 1378u);
  const SearchParamDef* birthdate = FindSearchParam("Patient", "birthdate");
  ASSERT_NE(birthdate, nullptr);
  EXPECT_EQ(birthdate->type, SearchParamType::kDate);
  EXPECT_NE(birthdate->expression.find("Patient.birthDate"), std::string_view::npos);

  const SearchParamDef* gp = FindSearchParam("Patient", "general-practitioner");
  ASSERT_NE(gp, nullptr);
  EXPECT_EQ(gp->type, SearchParamType::kReference);
  std::set<std::string_view> targets(gp->targets.begin(), gp->targets.end());
  EXPECT_EQ(targets, (std::set<std::string_view>{"Organization", "Practitioner", "PractitionerRole"}));

  // Inherited: Resource for every type, DomainResource only for domain resources.
  EXPECT_NE(FindSearchParam("Patient", "_id"), nullptr);
  EXPECT_NE(FindSearchParam("Patient", "_text"), nullptr);
  EXPECT_NE(FindSearchParam("Bundle", "_lastUpdated"), nullptr);
  EXPECT_EQ(FindSearchParam("Bundle", "_text"), nullptr);
  EXPECT_EQ(FindSearchParam("Patient", "no-such-param"), nullptr);
  EXPECT_TRUE(SearchParamsFor("NoSuchType").empty());

  // A parameter shared by several bases applies to each.
  EXPECT_EQ(FindSearchParam("Observation", "patient"), FindSearchParam("Condition", "patient"));

  const SearchParamDef* composite = FindSearchParam("Observation", "code-value-quantity");
  ASSERT_NE(composite, nullptr);
  EXPECT_EQ(composite->type, SearchParamType::kComposite);
  ASSERT_EQ(composite->components.size(), 2u);
  EXPECT_EQ(composite->components[0].definition, "http://hl7.org/fhir/SearchParameter/clinical-code");

  // Every component names a parameter of the tables, and every composite starts with a
  // token (what the search engine's composite rows rely on).
  EXPECT_EQ(FindSearchParamByUrl("http://hl7.org/fhir/SearchParameter/clinical-code")->type, SearchParamType::kToken);
  EXPECT_EQ(FindSearchParamByUrl("http://hl7.org/fhir/SearchParameter/no-such"), nullptr);
  int composites = 0;
  for (const SearchParamDef& p : SearchParams()) {
    if (p.type != SearchParamType::kComposite) continue;
    ++composites;
    ASSERT_GE(p.components.size(), 2u) << p.id;
    for (const SearchParamComponent& c : p.components) {
      ASSERT_NE(FindSearchParamByUrl(c.definition), nullptr) << p.id << " " << c.definition;
    }
    EXPECT_EQ(FindSearchParamByUrl(p.components[0].definition)->type, SearchParamType::kToken) << p.id;
  }
  EXPECT_EQ(composites, 46);
}

TEST(ModelTest, PatientCompartment) {
  std::span<const std::string_view> observation = PatientCompartmentParams("Observation");
  EXPECT_EQ(std::vector<std::string_view>(observation.begin(), observation.end()),
            (std::vector<std::string_view>{"subject", "performer"}));
  EXPECT_EQ(PatientCompartmentParams("Patient").size(), 1u);
  EXPECT_TRUE(PatientCompartmentParams("Organization").empty());
  EXPECT_TRUE(PatientCompartmentParams("NoSuchType").empty());
  // Every parameter named by the compartment exists for its resource type.
  for (std::string_view type : ResourceTypes()) {
    for (std::string_view code : PatientCompartmentParams(type)) {
      EXPECT_NE(FindSearchParam(type, code), nullptr) << type << "." << code;
    }
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ModelTest, GeneratorReproducesCheckedInTables) {
  if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not on PATH";
  const char* source_dir = std::getenv("EHR_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "EHR_SOURCE_DIR is not set";
  const fs::path checked_in = fs::path(source_dir) / "src/fhir/model/generated";
  const fs::path out = fs::temp_directory_path() / ("ehr_gen_model_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string command =
      "node '" + (fs::path(source_dir) / "tools/gen_model.js").string() + "' --out '" + out.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  std::set<std::string> generated_names;
  for (const auto& entry : fs::directory_iterator(out)) generated_names.insert(entry.path().filename());
  std::set<std::string> checked_in_names;
  for (const auto& entry : fs::directory_iterator(checked_in)) checked_in_names.insert(entry.path().filename());
  EXPECT_EQ(generated_names, checked_in_names);
  for (const std::string& name : generated_names) {
    EXPECT_TRUE(ReadFile(out / name) == ReadFile(checked_in / name)) << name << " differs; run node tools/gen_model.js";
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace ehr::fhir
