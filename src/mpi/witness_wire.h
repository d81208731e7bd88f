// The bodies of the MPI's witness API (mpi_service.h; audit/witness.h): a head as a node's
// own API shows it (api/audit_search.cc: tree_size, timestamp, sha256_root_hash and
// tree_head_signature, base64) with the `public_key` that signed it (base64); a PUT adds
// the consistency proof `consistency` (base64 hashes) from `first`, the size of the head
// the witness holds (0: none yet). A GET's answer adds `refusals`, how many heads of the
// node the witness refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/witness.h"
#include "core/status.h"
#include "fhir/json/value.h"

namespace ehr::mpi {

struct WitnessSubmission {
  audit::WitnessedHead head;
  uint64_t first = 0;
  std::vector<std::string> consistency;
};

json::Value WitnessedHeadJson(const audit::WitnessedHead& head);
std::string WriteWitnessSubmission(const WitnessSubmission& submission);

// kInvalid naming the member that is missing or malformed (never its value). Sizes and
// counts are bounded: at most 64 hashes of 32 bytes each.
Result<WitnessSubmission> ParseWitnessSubmission(std::string_view body);
// A GET's answer (the submission's members but the proof).
Result<audit::WitnessedHead> ParseWitnessedHead(std::string_view body);

}  // namespace ehr::mpi
