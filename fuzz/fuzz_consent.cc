// Privacy consents (api/consent.h) from arbitrary JSON: parsing and evaluating never crash,
// only an active consent of scope patient-privacy is read, and what it hides is a bounded
// list of exclusions over real resource types.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/consent.h"
#include "fhir/model/model.h"
#include "fuzz_check.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_consent", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  json::ParseOptions options;
  options.max_depth = 64;
  Result<json::Value> consent = json::Parse(std::string_view(reinterpret_cast<const char*>(data), size), options);
  if (!consent.ok() || !consent->is_object()) return 0;
  std::string patient;
  std::optional<api::Provision> root = api::ParseConsent(*consent, patient);
  if (!root) return 0;
  Check(consent->GetString("status") == "active", "only an active consent is read");
  Check(!patient.empty(), "a consent is read only with its patient");
  const api::Requester who{{"Practitioner/1", "Organization/2"}, {"TREAT"}};
  for (std::string_view now : {"2026-11-23T12:00:00Z", "1999-01-01T00:00:00Z"}) {
    const auto hidden = api::HiddenBy({*root}, who, now);
    Check(hidden.size() <= 256, "a consent hides through a bounded number of exclusions");
    for (const auto& e : hidden) {
      for (const auto& t : e.types) Check(fhir::IsResourceType(t), "exclusions name real resource types");
    }
  }
  return 0;
}
