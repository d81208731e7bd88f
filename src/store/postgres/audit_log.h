// The audit log on PostgreSQL (store.h AuditAppend; schema.cc migration 3): entries, the
// complete subtrees of their Merkle tree, signed tree heads and archived segments; the
// same behaviour as store/sqlite/audit_log.h. Entry n (from 0) has seq n + 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/postgres/pg.h"
#include "store/store.h"

namespace ehr::store::pg {

// The right edge of the tree as the writer last left it: its complete subtrees, largest
// first. Cleared (valid = false) whenever the writer's transaction or a job rolls back.
struct AuditEdge {
  bool valid = false;
  uint64_t size = 0;
  std::vector<std::string> peaks;
};

// Writer, inside the transaction.
Result<uint64_t> AppendAudit(Connection& c, AuditEdge& edge, const AuditAppend& e);
Status ArchiveAudit(Connection& c, const AuditSegment& segment, uint64_t erased);
Status SetAuditSegmentDigest(Connection& c, uint64_t first, std::string_view sha256);
Status PutAuditHead(Connection& c, const AuditHead& head);
Result<int64_t> EraseAuditDetail(Connection& c, std::string_view tenant, std::string_view patient);

Result<std::vector<AuditRow>> AuditSearch(Connection& c, const AuditQuery& q);
Result<std::vector<AuditRow>> AuditRange(Connection& c, uint64_t from, int count);
Result<uint64_t> AuditSize(Connection& c);
Result<std::string> AuditNode(Connection& c, int level, uint64_t index);
Result<std::vector<AuditHead>> AuditHeads(Connection& c, bool latest_only);
Result<std::vector<AuditSegment>> AuditSegments(Connection& c);

}  // namespace ehr::store::pg
