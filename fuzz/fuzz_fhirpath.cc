// FHIRPath on arbitrary input. The first line is the expression; the rest, when it is JSON,
// is the resource (else a small Patient is used). Compiling and evaluating must never
// crash, hang or exhaust memory: errors come back as values with a position, and the step
// and size budgets stop hostile expressions (deep nesting, repeat()/descendants() blow-ups,
// huge literals).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fhir/fhirpath/fhirpath.h"
#include "fhir/json/value.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_fhirpath", what); }

const ehr::json::Value& DefaultPatient() {
  static const ehr::json::Value patient = *ehr::json::Parse(
      R"({"resourceType":"Patient","id":"p1","active":true,"birthDate":"1974-12-25",
          "_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                      "valueDateTime":"1974-12-25T14:35:45-05:00"}]},
          "name":[{"use":"official","family":"Chalmers","given":["Peter","James"]},
                  {"use":"usual","given":["Jim"]}],
          "contained":[{"resourceType":"Organization","id":"o1","name":"Clinic"}],
          "managingOrganization":{"reference":"#o1"},
          "telecom":[{"system":"phone","value":"(03) 5555 6473","use":"work"}]})");
  return patient;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t newline = text.find('\n');
  std::string_view expression_text = text.substr(0, newline);
  std::string_view resource_text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

  Result<fhirpath::Expression> expression = fhirpath::Expression::Compile(expression_text);
  if (!expression.ok()) {
    Check(expression.status().code() == Code::kInvalid, "a compile error must be kInvalid");
    Check(expression.status().message().find("error at line") != std::string::npos,
          "a compile error must give its position");
    return 0;
  }
  Result<json::Value> parsed = json::Parse(resource_text);
  const json::Value& resource = parsed.ok() && parsed->is_object() ? *parsed : DefaultPatient();
  fhirpath::EvalOptions options;
  options.max_steps = 200'000;
  options.max_items = 20'000;
  options.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  Result<fhirpath::EvalResult> result = expression->Evaluate(resource, options);
  if (!result.ok()) {
    Check(result.status().code() == Code::kInvalid, "an evaluation error must be kInvalid");
    return 0;
  }
  // Every result item must be printable (ToJson/ToText must handle all of them).
  for (const fhirpath::Item& item : result->items) {
    (void)fhirpath::ToJson(item);
    (void)fhirpath::ToText(item);
  }
  return 0;
}
