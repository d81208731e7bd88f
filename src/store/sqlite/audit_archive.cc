#include "store/sqlite/audit_archive.h"

#include <bit>

#include "store/sqlite/audit_log.h"

namespace ehr::store::sqlite {

Status ArchiveAudit(Connection& c, const AuditSegment& s, uint64_t erased) {
  if (s.count < 2 || !std::has_single_bit(s.count) || s.first % s.count != 0) {
    return Status::Invalid("audit archive: a segment is a complete subtree of at least two entries");
  }
  const int level = std::countr_zero(s.count);
  EHR_ASSIGN_OR_RETURN(std::string subtree, AuditNode(c, level, s.first >> level));
  if (subtree != s.subtree) return Status::Conflict("audit archive: the segment's subtree is not the stored one");
  {
    EHR_ASSIGN_OR_RETURN(Stmt q, c.Prepare("SELECT count(*), count(*) - count(detail) FROM audit_entry "
                                           "WHERE seq > ?1 AND seq <= ?2",
                                           "count audit entries to archive"));
    q.BindInt(1, static_cast<int64_t>(s.first)).BindInt(2, static_cast<int64_t>(s.first + s.count));
    EHR_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || static_cast<uint64_t>(q.ColumnInt(0)) != s.count) {
      return Status::Conflict("audit archive: entries of the segment are missing from the store");
    }
    if (static_cast<uint64_t>(q.ColumnInt(1)) != erased) {
      return Status::Conflict("audit archive: entries of the segment were erased since its file was written");
    }
  }
  {
    EHR_ASSIGN_OR_RETURN(Stmt ins, c.Prepare("INSERT INTO audit_archive (first, count, file, sha256, subtree, "
                                             "archived_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                             "record audit archive segment"));
    ins.BindInt(1, static_cast<int64_t>(s.first)).BindInt(2, static_cast<int64_t>(s.count));
    ins.BindText(3, s.file).BindBlob(4, s.sha256).BindBlob(5, s.subtree).BindInt(6, s.archived_at);
    EHR_RETURN_IF_ERROR(ins.Run());
  }
  {
    // Their rows by patient go with them (the file names the patients, the index no longer).
    EHR_ASSIGN_OR_RETURN(Stmt idx, c.Prepare("DELETE FROM audit_patient WHERE (tenant, patient, seq) IN (SELECT "
                                             "tenant, patient, seq FROM audit_entry WHERE seq > ?1 AND seq <= ?2 AND "
                                             "patient IS NOT NULL)",
                                             "delete archived audit patient index"));
    idx.BindInt(1, static_cast<int64_t>(s.first)).BindInt(2, static_cast<int64_t>(s.first + s.count));
    EHR_RETURN_IF_ERROR(idx.Run());
    EHR_RETURN_IF_ERROR(ForgetInAuditPatientCycle(c, s.first, s.first + s.count));
  }
  EHR_ASSIGN_OR_RETURN(
      Stmt del, c.Prepare("DELETE FROM audit_entry WHERE seq > ?1 AND seq <= ?2", "delete archived audit entries"));
  del.BindInt(1, static_cast<int64_t>(s.first)).BindInt(2, static_cast<int64_t>(s.first + s.count));
  return del.Run();
}

Status SetAuditSegmentDigest(Connection& c, uint64_t first, std::string_view sha256) {
  EHR_ASSIGN_OR_RETURN(
      Stmt s, c.Prepare("UPDATE audit_archive SET sha256 = ?2 WHERE first = ?1", "record audit archive digest"));
  s.BindInt(1, static_cast<int64_t>(first)).BindBlob(2, sha256);
  EHR_RETURN_IF_ERROR(s.Run());
  if (s.Changes() != 1) return Status::NotFound("audit archive: no segment starts at " + std::to_string(first));
  return Status::Ok();
}

Result<std::vector<AuditSegment>> AuditSegments(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT first, count, file, sha256, subtree, archived_at FROM audit_archive "
                                         "ORDER BY first",
                                         "read audit archive segments"));
  std::vector<AuditSegment> out;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(AuditSegment{static_cast<uint64_t>(s.ColumnInt(0)), static_cast<uint64_t>(s.ColumnInt(1)),
                               s.ColumnText(2), s.ColumnBlob(3), s.ColumnBlob(4), s.ColumnInt(5)});
  }
}

}  // namespace ehr::store::sqlite
