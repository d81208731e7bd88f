// The SQL of the audit log (store.h, AuditAppend; schema.cc, migration 8), as functions of
// one Connection like queries.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/db.h"
#include "store/store.h"

namespace ehr::store::sqlite {

// Appends the entry and the complete subtrees it completes; the caller holds a write
// transaction. Returns the entry's index.
Result<uint64_t> AppendAudit(Connection& c, const AuditAppend& e);

Result<std::vector<AuditRow>> AuditSearch(Connection& c, const AuditQuery& q);
Result<std::vector<AuditRow>> AuditRange(Connection& c, uint64_t from, int count);
Result<uint64_t> AuditSize(Connection& c);
Result<std::string> AuditNode(Connection& c, int level, uint64_t index);
Result<std::vector<AuditHead>> AuditHeads(Connection& c, bool latest_only);
Status PutAuditHead(Connection& c, const AuditHead& head);
Result<int64_t> EraseAuditDetail(Connection& c, std::string_view tenant, std::string_view patient);

}  // namespace ehr::store::sqlite
