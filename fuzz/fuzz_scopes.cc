// SMART scope strings (security/scopes.h) on arbitrary input: parsing never crashes, what
// an intersection grants is granted by both sides, and its text parses back to itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "security/scopes.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_scopes", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr::security;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Scopes asked = ParseScopes(input);
  static const Scopes held = ParseScopes("openid fhirUser user/Observation.rs user/Patient.cruds patient/*.r");
  const std::string granted_text = held.Intersect(asked);
  const Scopes granted = ParseScopes(granted_text);
  Check(granted.ignored.empty(), "an intersection must be made of valid scopes");
  Check(granted.Intersect(granted) == granted_text, "an intersection must parse back to itself");
  for (const ResourceScope& r : granted.resources) {
    Check(held.Grants(r.context, r.type == "*" ? "Observation" : r.type, r.permissions) ||
              (r.context == ScopeContext::kPatient && held.Grants(ScopeContext::kUser, r.type, r.permissions)),
          "an intersection must not grant more than is held");
    Check(r.permissions != 0, "a granted scope has permissions");
  }
  for (const ResourceScope& r : asked.resources) Check(r.permissions != 0 && !r.type.empty(), "parsed scopes are whole");
  return 0;
}
