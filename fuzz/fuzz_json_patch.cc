// ApplyJsonPatch on arbitrary documents and patches. The input is the document on the first
// line and the patch after it (seeds are written that way; the fuzzer may put anything
// anywhere). Checked: no crash; a failure is kInvalid or kUnprocessable and leaves the
// document byte for byte as it was; a success writes out and parses back to an equal value
// (the depth limit promises that).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fhir/json/value.h"
#include "fhir/patch/json_patch.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_json_patch", what); }

// True if `v` survives Write and Parse; values that do not (a json::Parse bug, covered by
// fuzz_json) are kept out of this target's checks on the result.
bool RoundTrips(const ehr::json::Value& v) {
  auto again = ehr::json::Parse(ehr::json::Write(v));
  return again.ok() && *again == v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  Result<json::Value> doc = json::Parse(input.substr(0, newline));
  Result<json::Value> patch = json::Parse(input.substr(newline + 1));
  if (!doc.ok() || !patch.ok()) return 0;

  std::string before = json::Write(*doc);
  Status st = fhir::ApplyJsonPatch(*doc, *patch);
  if (!st.ok()) {
    Check(st.code() == Code::kInvalid || st.code() == Code::kUnprocessable, "unexpected error code");
    Check(!st.message().empty(), "an error must say why");
    Check(json::Write(*doc) == before, "a failed patch changed the document");
    return 0;
  }
  auto original = json::Parse(before);
  if (original.ok() && RoundTrips(*original) && RoundTrips(*patch)) {
    Check(RoundTrips(*doc), "the patched document does not write and parse back");
  }
  return 0;
}
