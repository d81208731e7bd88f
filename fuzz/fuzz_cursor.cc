// Sealed paging cursors (api/cursor_seal.h) on arbitrary input: opening never crashes and
// never accepts what the key did not seal (a forgery would need the key); whatever is
// sealed opens to itself, and only in its own tenant.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/cursor_seal.h"
#include "fuzz_check.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_cursor", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  static const api::CursorSeal seal(std::string(api::CursorSeal::kKeyBytes, '\x2a'));
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<std::string> opened = seal.Open("t", input);
  Check(!opened.ok() && opened.status().code() == Code::kInvalid, "unsealed input must be refused as kInvalid");
  const std::string sealed = seal.Seal("t", input);
  Result<std::string> back = seal.Open("t", sealed);
  Check(back.ok() && *back == input, "a sealed cursor must open to itself");
  Check(!seal.Open("u", sealed).ok(), "a sealed cursor must not open in another tenant");
  return 0;
}
