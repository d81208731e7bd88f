// Witnessing a node's audit log from outside it (issue 7, tamper evidence). A node's own
// signed heads prove nothing against someone holding its signing key and its database: they
// can rebuild the log, sign new heads and verify clean. A witness (the federation's MPI,
// run apart from the vaults: mpi/mpi_service.h) keeps each node's newest head and accepts
// a newer one only with a consistency proof that it extends the one held (RFC 6962 2.1.2),
// so a log that was rolled back, rewritten or forked is refused there, and an auditor
// compares the node's log with the head the witness holds (`ehr audit witness`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "core/status.h"

namespace ehr::audit {

// A node's head as a witness holds it, with the public key that signed it.
struct WitnessedHead {
  TreeHead head;
  std::string public_key;  // 32 bytes, Ed25519
};

// OK when `next`, signed with `public_key`, extends `last` (the head held; none: anything
// well signed is the first): signed by the same key, not older, not smaller, at the same
// size the same root, and at a larger size `proof` a consistency proof from `last` to it.
// kInvalid for a head that is malformed or badly signed; kConflict saying which check
// failed for a log that does not extend the one witnessed (rolled back, rewritten, forked,
// or its key replaced).
Status CheckExtends(const std::optional<WitnessedHead>& last, const TreeHead& next, std::string_view public_key,
                    const std::vector<std::string>& proof);

// OK when the log whose complete subtrees `node` gives, `size` leaves long, extends the
// witnessed `head` (its size is at most `size` and the root there is the head's); kConflict
// otherwise.
Status LogExtends(const TreeHead& head, uint64_t size, const NodeAt& node);

}  // namespace ehr::audit
