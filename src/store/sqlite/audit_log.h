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
// Removes the patient and detail of the patient's entries, and their rows of audit_patient.
Result<int64_t> EraseAuditDetail(Connection& c, std::string_view tenant, std::string_view patient);
// Indexing the log's entries by patient behind it (audit_patient, migration 11): in cycles,
// each over the entries after the mark, sorted by patient into a temporary table of the
// writer's connection (BeginAuditPatientCycle: how many, 0 when none), then moved into
// audit_patient a slice at a time in the writer's batches (IndexAuditPatientSlice: false
// once none is left), a page per patient rather than an entry per page; EndAuditPatientCycle
// moves the mark. Entries appended meanwhile wait for the next cycle; searches scan the
// entries after the mark, so an entry is found throughout.
Result<int64_t> BeginAuditPatientCycle(Connection& c, uint64_t through);
Result<bool> IndexAuditPatientSlice(Connection& c, int64_t after_row, int64_t rows);
Status EndAuditPatientCycle(Connection& c, uint64_t through);
// Rows of a cycle in progress that erasure or archiving removed from the log's index.
Status ForgetInAuditPatientCycle(Connection& c, std::string_view tenant, std::string_view patient);
Status ForgetInAuditPatientCycle(Connection& c, uint64_t first, uint64_t last);
// audit_patient against the entries: an entry up to the mark that names a patient and is
// not in it, or a row of it naming no such entry (a search by patient would miss or invent
// it). At most `max` lines.
Result<std::vector<std::string>> VerifyAuditPatients(Connection& c, size_t max);
// The mark (every entry up to it is in audit_patient) and the log's size.
Result<std::pair<uint64_t, uint64_t>> AuditPatientBacklog(Connection& c);

}  // namespace ehr::store::sqlite
