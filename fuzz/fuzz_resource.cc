// A resource as a client sends it: json::Parse then fhir::ValidateResource. Neither may
// crash; validation errors must be kInvalid with issues; a resource that validates must
// still validate after a write/parse round trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "fhir/json/value.h"
#include "fhir/validate/validate.h"

namespace {
void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_resource", what); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  auto parsed = json::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  Status st = fhir::ValidateResource(*parsed);
  if (!st.ok()) {
    Check(st.code() == Code::kInvalid, "validation failures must be kInvalid");
    Check(!st.issues().empty(), "validation failures must carry issues");
    for (const auto& issue : st.issues()) Check(!issue.diagnostics.empty(), "every issue must say why");
    return 0;
  }
  auto again = json::Parse(json::Write(*parsed));
  Check(again.ok(), "a valid resource must write to parseable JSON");
  Check(fhir::ValidateResource(*again).ok(), "a valid resource must stay valid after a round trip");
  return 0;
}
