// The SQL of the audit log's archived segments (store.h, AuditSegment; schema.cc,
// migration 10), as functions of one Connection like audit_log.h.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace ehr::store::sqlite {

// Records the segment and deletes its entries; the caller holds a write transaction.
// The subtree must be the stored one, every entry of the range present, and exactly
// `erased` of them erased (else kConflict: the archive file no longer matches the store).
Status ArchiveAudit(Connection& c, const AuditSegment& s, uint64_t erased);
Status SetAuditSegmentDigest(Connection& c, uint64_t first, std::string_view sha256);
Result<std::vector<AuditSegment>> AuditSegments(Connection& c);

}  // namespace ehr::store::sqlite
