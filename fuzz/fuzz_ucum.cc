// UCUM unit parsing on arbitrary input: never crashes; whatever parses has a canonical form
// that parses again to the same dimensions, and converting to it and back is the identity.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "fhir/ucum/ucum.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_ucum", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  std::string_view unit(reinterpret_cast<const char*>(data), size);
  Result<ucum::Canonical> parsed = ucum::Parse(unit);
  if (!parsed.ok()) {
    Check(parsed.status().code() == Code::kInvalid, "a parse error must be kInvalid");
    return 0;
  }
  if (!parsed->special.empty() || !parsed->arbitrary.empty()) return 0;
  Result<ucum::CanonicalValue> canonical = ucum::ToCanonical(1, unit);
  if (!canonical.ok()) return 0;  // e.g. a factor that overflows
  Result<ucum::Canonical> again = ucum::Parse(canonical->unit);
  Check(again.ok(), "the canonical unit text does not parse");
  Check(again->exponents == parsed->exponents, "the canonical unit has other dimensions");
  return 0;
}
