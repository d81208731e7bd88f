#include "fhir/fhirpath/fhirpath.h"

#include <gtest/gtest.h>

#include <thread>

namespace ehr::fhirpath {
namespace {

json::Value Observation() {
  return *json::Parse(R"({
    "resourceType": "Observation", "id": "o1", "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2020-03-04T10:30:00+01:00",
    "valueQuantity": {"value": 185, "unit": "lbs", "system": "http://unitsofmeasure.org", "code": "[lb_av]"},
    "contained": [{"resourceType": "Practitioner", "id": "dr", "name": [{"family": "Who"}]}],
    "performer": [{"reference": "#dr"}],
    "_status": {"extension": [{"url": "http://example.org/why", "valueString": "checked"}]}
  })");
}

// Evaluates and renders the result as a JSON array text.
std::string Eval(std::string_view expression, const json::Value& resource, const EvalOptions& options = {}) {
  Result<Expression> compiled = Expression::Compile(expression);
  if (!compiled.ok()) return "compile: " + compiled.status().message();
  Result<EvalResult> result = compiled->Evaluate(resource, options);
  if (!result.ok()) return "eval: " + result.status().message();
  json::Value out = json::Value::MakeArray();
  for (const Item& item : result->items) out.as_array().push_back(ToJson(item));
  return json::Write(out);
}

TEST(FhirPath, NavigatesChoiceTypesAndPrimitiveExtensions) {
  json::Value obs = Observation();
  EXPECT_EQ(Eval("Observation.value.value", obs), "[185]");
  EXPECT_EQ(Eval("Observation.value.is(Quantity)", obs), "[true]");
  EXPECT_EQ(Eval("Observation.effective.is(dateTime)", obs), "[true]");
  EXPECT_EQ(Eval("Observation.value.ofType(string)", obs), "[]");
  EXPECT_EQ(Eval("Observation.valueQuantity.unit", obs), "[\"lbs\"]");  // lenient full name
  EXPECT_EQ(Eval("status.extension('http://example.org/why').value", obs), "[\"checked\"]");
  EXPECT_EQ(Eval("status.hasValue() and status.extension.exists()", obs), "[true]");
  EXPECT_EQ(Eval("Observation.value = 185 '[lb_av]'", obs), "[true]");
  EXPECT_EQ(Eval("Observation.value > 80 'kg'", obs), "[true]");
}

TEST(FhirPath, ResolvesContainedBundleAndStoreReferences) {
  json::Value obs = Observation();
  EXPECT_EQ(Eval("performer.resolve().name.family", obs), "[\"Who\"]");
  EXPECT_EQ(Eval("subject.resolve()", obs), "[]");
  EvalOptions options;
  options.resolver = [](std::string_view reference) -> std::shared_ptr<const json::Value> {
    if (reference != "Patient/p1") return nullptr;
    return std::make_shared<json::Value>(*json::Parse(R"({"resourceType":"Patient","id":"p1","gender":"female"})"));
  };
  EXPECT_EQ(Eval("subject.resolve().gender", obs, options), "[\"female\"]");
  EXPECT_EQ(Eval("subject.where(resolve() is Patient).reference", obs, options), "[\"Patient/p1\"]");

  json::Value bundle = *json::Parse(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"fullUrl":"http://x/fhir/Patient/p2","resource":{"resourceType":"Patient","id":"p2","gender":"male"}},
    {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","status":"final",
      "code":{"text":"x"},"subject":{"reference":"Patient/p2"}}}]})");
  EXPECT_EQ(Eval("entry[1].resource.subject.resolve().gender", bundle), "[\"male\"]");
}

TEST(FhirPath, ReportsSyntaxErrorsWithPosition) {
  json::Value obs = Observation();
  EXPECT_EQ(Eval("2 + 2 /", obs), "compile: syntax error at line 1, column 8: unexpected end of expression");
  EXPECT_EQ(Eval("name.\n  where(", obs).substr(0, 37), "compile: syntax error at line 2, colu");
  EXPECT_EQ(Eval("name.nosuch()", obs), "compile: semantic error at line 1, column 6: unknown function 'nosuch'");
  EXPECT_EQ(Eval("'abc", obs).substr(0, 50), "compile: syntax error at line 1, column 1: untermi");
  EXPECT_EQ(Eval("first(1)", obs), "compile: semantic error at line 1, column 1: wrong number of arguments for first(): 1");
}

TEST(FhirPath, EvaluationErrorsAreValuesWithPosition) {
  json::Value obs = Observation();
  EXPECT_EQ(Eval("(1 | 2) + 1", obs),
            "eval: evaluation error at line 1, column 9: an arithmetic operator expects a single item but got 2");
  EXPECT_EQ(Eval("'a' < 1", obs).substr(0, 44), "eval: evaluation error at line 1, column 5: ");
  EXPECT_EQ(Eval("%nosuch", obs), "eval: evaluation error at line 1, column 1: unknown variable %nosuch");
}

TEST(FhirPath, BudgetStopsRunawayExpressions) {
  json::Value obs = Observation();
  EvalOptions options;
  options.max_steps = 10'000;
  std::string r = Eval("(1 | 2 | 3 | 4).select((1 | 2 | 3 | 4).select((1 | 2 | 3 | 4).select("
                       "(1 | 2 | 3 | 4).select((1 | 2 | 3 | 4).select((1|2|3|4).select(1))))))", obs, options);
  EXPECT_NE(r.find("step budget"), std::string::npos) << r;
  std::string deep(300, '(');
  EXPECT_NE(Eval(deep + "1" + std::string(300, ')'), obs).find("nested too deeply"), std::string::npos);
}

TEST(FhirPath, ThreeValuedLogicAndEmptyPropagation) {
  json::Value obs = Observation();
  EXPECT_EQ(Eval("{} and false", obs), "[false]");
  EXPECT_EQ(Eval("{} and true", obs), "[]");
  EXPECT_EQ(Eval("{} or true", obs), "[true]");
  EXPECT_EQ(Eval("{} implies false", obs), "[]");
  EXPECT_EQ(Eval("false implies {}", obs), "[true]");
  EXPECT_EQ(Eval("true xor {}", obs), "[]");
  EXPECT_EQ(Eval("{} = 1", obs), "[]");
  EXPECT_EQ(Eval("{} ~ {}", obs), "[true]");
  EXPECT_EQ(Eval("Observation.subject.display + 1", obs), "[]");
}

TEST(FhirPath, VariablesAndEnvironment) {
  json::Value obs = Observation();
  EvalOptions options;
  options.variables["threshold"] = {Item::Integer(100)};
  EXPECT_EQ(Eval("Observation.value.value > %threshold", obs, options), "[true]");
  EXPECT_EQ(Eval("%resource.id & %context.id", obs), "[\"o1o1\"]");
  EXPECT_EQ(Eval("code.coding.system = %loinc", obs), "[true]");
  EXPECT_EQ(Eval("%`vs-observation-status`", obs), "[\"http://hl7.org/fhir/ValueSet/observation-status\"]");
  EXPECT_EQ(Eval("status.memberOf('http://hl7.org/fhir/ValueSet/observation-status')", obs), "[true]");
  options.now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'600'000'000'123));
  EXPECT_EQ(Eval("now()", obs, options), "[\"2020-09-13T12:26:40.123Z\"]");
  EXPECT_EQ(Eval("today()", obs, options), "[\"2020-09-13\"]");
}

TEST(FhirPath, CompiledExpressionIsSharedAcrossThreads) {
  json::Value obs = Observation();
  Result<Expression> expr = Expression::Compile("Observation.value.value * 2 + performer.resolve().name.count()");
  ASSERT_TRUE(expr.ok());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        Result<EvalResult> r = expr->Evaluate(obs);
        if (!r.ok() || r->items.size() != 1 || ToText(r->items[0]) != "371") ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(FhirPath, TypeReflection) {
  json::Value obs = Observation();
  EXPECT_EQ(Eval("Observation.status.type().name", obs), "[\"code\"]");
  EXPECT_EQ(Eval("Observation.status.type().namespace", obs), "[\"FHIR\"]");
  EXPECT_EQ(Eval("1.type().name", obs), "[\"Integer\"]");
  EXPECT_EQ(Eval("Observation.status.is(string)", obs), "[true]");
  EXPECT_EQ(Eval("Observation.status.as(string)", obs), "[]");  // as/ofType: primitives exactly
  EXPECT_EQ(Eval("Observation.status.is(code)", obs), "[true]");
  EXPECT_EQ(Eval("Observation.status.as(Quantity1)", obs).substr(0, 30), "compile: semantic error at lin");
  EXPECT_EQ(Eval("Observation.nosuch", obs), "eval: evaluation error at line 1, column 13: 'nosuch' is not an element of Observation");
  EXPECT_EQ(Eval("Observation.is(DomainResource)", obs), "[true]");
  EXPECT_EQ(Eval("contained.ofType(Practitioner).id", obs), "[\"dr\"]");
  EXPECT_EQ(Eval("conformsTo('http://hl7.org/fhir/StructureDefinition/Observation')", obs), "[true]");
}

// A small terminology and profile source, standing in for the services later issues add.
class TestServices : public Terminology, public Profiles {
 public:
  std::optional<bool> MemberOf(const Item& code, std::string_view value_set_url) override {
    if (value_set_url != "http://example.org/vs/vitals") return std::nullopt;
    Collection codes;
    if (code.is_element()) AppendChildren(code.element(), "coding", codes);
    for (const Item& c : codes) {
      if (c.element().value->GetString("code") == "29463-7") return true;
    }
    return false;
  }
  std::optional<bool> Subsumes(const Item& a, const Item& b) override {
    return StringView(a) == "animal" && StringView(b) == "dog";
  }
  std::optional<bool> ConformsTo(const Item& item, std::string_view url) override {
    if (url != "http://example.org/StructureDefinition/weight") return std::nullopt;
    return item.is_element() && item.element().value->GetString("status") == "final";
  }
  std::optional<bool> InSlice(const Item& item, std::string_view profile, std::string_view slice) override {
    if (slice != "loinc") return std::nullopt;
    return item.element().value->GetString("system") == "http://loinc.org";
  }
  std::shared_ptr<const json::Value> ElementDefinition(const Item&) override {
    return std::make_shared<json::Value>(*json::Parse(R"({"path":"Observation.status","min":1})"));
  }
};

TEST(FhirPath, TerminologyAndProfileInterfaces) {
  json::Value obs = Observation();
  TestServices services;
  EvalOptions options;
  options.terminology = &services;
  options.profiles = &services;
  EXPECT_EQ(Eval("code.memberOf('http://example.org/vs/vitals')", obs, options), "[true]");
  EXPECT_EQ(Eval("code.memberOf('http://example.org/vs/unknown')", obs, options), "[]");
  EXPECT_EQ(Eval("'animal'.subsumes('dog') and 'dog'.subsumedBy('animal')", obs, options), "[true]");
  EXPECT_EQ(Eval("conformsTo('http://example.org/StructureDefinition/weight')", obs, options), "[true]");
  EXPECT_EQ(Eval("code.coding.slice('http://example.org/StructureDefinition/weight', 'loinc').code", obs, options),
            "[\"29463-7\"]");
  EXPECT_EQ(Eval("status.elementDefinition().min", obs, options), "[1]");
  EXPECT_NE(Eval("conformsTo('http://example.org/nosuch')", obs).find("unknown profile"), std::string::npos);
}

TEST(FhirPath, TraceAndCheckModifiers) {
  json::Value obs = Observation();
  std::vector<std::string> traced;
  EvalOptions options;
  options.trace = [&](std::string_view name, const Collection& items) {
    traced.push_back(std::string(name) + ":" + std::to_string(items.size()));
  };
  EXPECT_EQ(Eval("contained.trace('c').id.trace('ids', $this & '!')", obs, options), "[\"dr\"]");
  EXPECT_EQ(traced, (std::vector<std::string>{"c:1", "ids:1"}));
  EXPECT_EQ(Eval("checkModifiers('http://x').id", obs), "[\"o1\"]");
  json::Value modified = obs;
  modified.Set("modifierExtension", *json::Parse(R"([{"url":"http://example.org/negated","valueBoolean":true}])"));
  EXPECT_NE(Eval("checkModifiers('http://x').id", modified).find("unknown modifier extension"), std::string::npos);
  EXPECT_EQ(Eval("checkModifiers('http://example.org/negated').id", modified), "[\"o1\"]");
}

}  // namespace
}  // namespace ehr::fhirpath
