// National identifiers (mpi/national_id.h) on arbitrary input: the first byte picks the
// kind, the rest is the value as written. Never crashes; a refusal is kInvalid and says
// why; an accepted value normalises to a fixed point made of letters and digits only,
// whose check digits the check functions agree with.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mpi/national_id.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_national_id", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  if (size == 0) return 0;
  const auto kind = static_cast<mpi::NationalIdKind>(data[0] % 4);
  std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  Result<std::string> r = mpi::NormalizeNationalId(kind, value);
  if (!r.ok()) {
    Check(r.status().code() == Code::kInvalid && !r.status().message().empty(), "a refusal must be kInvalid and say why");
    return 0;
  }
  const std::string& id = *r;
  for (char c : id) Check((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'), "a normalised id is letters and digits");
  Result<std::string> again = mpi::NormalizeNationalId(kind, id);
  Check(again.ok() && *again == id, "normalising twice must change nothing");
  switch (kind) {
    case mpi::NationalIdKind::kNhsNumber:
      Check(mpi::NhsCheckDigit(std::string_view(id).substr(0, 9)) == id[9] - '0', "NHS check digit");
      break;
    case mpi::NationalIdKind::kKvnr:
      Check(mpi::KvnrCheckDigit(id[0], std::string_view(id).substr(1, 8)) == id[9] - '0', "KVNR check digit");
      break;
    case mpi::NationalIdKind::kNir:
      Check(mpi::NirKey(std::string_view(id).substr(0, 13)) == (id[13] - '0') * 10 + (id[14] - '0'), "NIR key");
      break;
    case mpi::NationalIdKind::kSsn:
      Check(id.size() == 9, "an SSN has 9 digits");
      break;
  }
  return 0;
}
