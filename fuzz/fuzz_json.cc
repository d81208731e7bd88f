// json::Parse on arbitrary bytes: it must never crash, and whatever it accepts must write
// out and parse back to an equal value, byte-stable on the second write.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "fhir/json/value.h"

namespace {

bool HasNul(const uint8_t* data, size_t size) { return std::memchr(data, 0, size) != nullptr; }

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_json", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<json::Value> parsed = json::Parse(text);
  if (!parsed.ok()) {
    Check(parsed.status().code() == Code::kInvalid, "a parse error must be kInvalid");
    Check(!parsed.status().message().empty(), "a parse error must say why");
    return 0;
  }
  // JSON text never holds a raw NUL: not in strings (control characters must be escaped)
  // and not between tokens (only space, tab, CR and LF are whitespace).
  Check(!HasNul(data, size), "accepted input that contains a NUL byte");

  for (bool pretty : {false, true}) {
    std::string written = json::Write(*parsed, {.pretty = pretty});
    Result<json::Value> again = json::Parse(written);
    Check(again.ok(), "the written form of an accepted value does not parse");
    Check(*again == *parsed, "the written form parses to a different value");
    Check(json::Write(*again, {.pretty = pretty}) == written, "writing is not stable");
  }
  return 0;
}
