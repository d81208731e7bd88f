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

// Entries appended in the writer's transaction and not yet inserted: their rows and the
// complete subtrees they make, as columns of text. The writer inserts what a batch
// appended with one statement (FlushAudit), so that an append costs no round trip.
struct AuditBuffer {
  uint64_t first = 0;  // the index of the first entry
  std::vector<std::string> seq, tenant, recorded, action, agent, patient, core, detail, leaf;
  std::vector<std::string> node_level, node_index, node_hash;
  size_t size() const { return seq.size(); }
  bool empty() const { return seq.empty(); }
  // Appends `later` (whose entries follow this buffer's) and empties it.
  void Take(AuditBuffer& later);
};

// Writer. Appends go through the buffer:
//   BeginAppending begins the writer's transaction with the audit log's lock (every
//                  appender takes it, so no one appends between this writer's reading of
//                  the size and its commit) and returns the number of entries stored;
//   LoadAuditEdge  reads the edge of a log of that size, when the writer's is not current;
//   BufferAudit    adds an entry at the edge and returns its index;
//   FlushAudit     inserts the buffer, kConflict when the log does not end where it begins.
Result<uint64_t> BeginAppending(Connection& c);
Status LoadAuditEdge(Connection& c, uint64_t size, AuditEdge& edge);
uint64_t BufferAudit(AuditEdge& edge, const AuditAppend& e, AuditBuffer& buffer);
Status FlushAudit(Connection& c, AuditBuffer& buffer);
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
