// A head handed to the MPI's witness (mpi/witness_wire.h), as a node's PUT body or a GET's
// answer, on arbitrary input: never crashes; a refusal is kInvalid and says why; an accepted
// submission has 32-byte hashes and keys, a 64-byte signature, at most 64 proof hashes, and
// written back parses to itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mpi/witness_wire.h"

namespace {

void Check(bool ok, const char* what) { ehr::fuzz::Check(ok, "fuzz_witness_submission", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ehr;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<audit::WitnessedHead> head = mpi::ParseWitnessedHead(input);
  if (!head.ok()) Check(head.status().code() == Code::kInvalid && !head.status().message().empty(), "refusals say why");
  Result<mpi::WitnessSubmission> s = mpi::ParseWitnessSubmission(input);
  if (!s.ok()) {
    Check(s.status().code() == Code::kInvalid && !s.status().message().empty(), "a refusal must be kInvalid and say why");
    return 0;
  }
  Check(head.ok(), "a submission holds a head");
  Check(s->head.head.root.size() == 32 && s->head.public_key.size() == 32 && s->head.head.signature.size() == 64,
        "sizes of the hashes, the key and the signature");
  Check(s->consistency.size() <= 64, "at most 64 proof hashes");
  for (const std::string& h : s->consistency) Check(h.size() == 32, "proof hashes are 32 bytes");
  Result<mpi::WitnessSubmission> again = mpi::ParseWitnessSubmission(mpi::WriteWitnessSubmission(*s));
  Check(again.ok(), "a submission written back parses");
  Check(again->head.head.size == s->head.head.size && again->head.head.root == s->head.head.root &&
            again->head.head.timestamp_ms == s->head.head.timestamp_ms &&
            again->head.head.signature == s->head.head.signature && again->head.public_key == s->head.public_key &&
            again->first == s->first && again->consistency == s->consistency,
        "a submission written back parses to itself");
  return 0;
}
