#include "store/sqlite/audit_log.h"

#include "audit/merkle.h"

namespace ehr::store::sqlite {
namespace {

constexpr std::string_view kColumns = "seq, tenant, recorded, action, agent, patient, core, detail, leaf";

AuditRow RowOf(const Stmt& s) {
  AuditRow r;
  r.index = static_cast<uint64_t>(s.ColumnInt(0) - 1);
  r.tenant = s.ColumnText(1);
  r.recorded = s.ColumnInt(2);
  r.action = s.ColumnText(3);
  r.agent = s.ColumnText(4);
  if (!s.ColumnIsNull(5)) r.patient = s.ColumnText(5);
  r.core = s.ColumnBlob(6);
  if (!s.ColumnIsNull(7)) r.detail = s.ColumnBlob(7);
  r.leaf = s.ColumnBlob(8);
  return r;
}

Result<std::vector<AuditRow>> Rows(Stmt& s) {
  std::vector<AuditRow> out;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(RowOf(s));
  }
}

Result<std::string> Leaf(Connection& c, uint64_t index) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT leaf FROM audit_entry WHERE seq = ?1", "read audit leaf"));
  s.BindInt(1, static_cast<int64_t>(index + 1));
  EHR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("audit: no entry " + std::to_string(index));
  return s.ColumnBlob(0);
}

// Marks the connection's audit edge as current in its key memo (db.h, AuditEdge), which
// every rollback clears.
constexpr std::string_view kEdgeMark = "audit edge";

// Reads the right edge of the tree of `size` leaves: its complete subtrees, largest first.
Status LoadEdge(Connection& c, uint64_t size, Connection::AuditEdge& edge) {
  edge.size = 0;
  edge.peaks.clear();
  uint64_t first = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t leaves = uint64_t{1} << level;
    if ((size & leaves) == 0) continue;
    EHR_ASSIGN_OR_RETURN(std::string hash, AuditNode(c, level, first >> level));
    edge.peaks.push_back(std::move(hash));
    first += leaves;
  }
  edge.size = size;
  return Status::Ok();
}

}  // namespace

Result<uint64_t> AppendAudit(Connection& c, const AuditAppend& e) {
  EHR_ASSIGN_OR_RETURN(uint64_t index, AuditSize(c));
  Connection::AuditEdge& edge = c.audit_edge();
  Connection::KeyMemo& memo = c.key_memo();
  auto mark = memo.find(kEdgeMark);
  const bool current = mark != memo.end() && static_cast<uint64_t>(mark->second) == index && edge.size == index;
  if (mark != memo.end()) memo.erase(mark);  // until this append has succeeded
  if (!current) EHR_RETURN_IF_ERROR(LoadEdge(c, index, edge));
  std::string hash = audit::LeafHash(e.core);
  {
    EHR_ASSIGN_OR_RETURN(
        Stmt s, c.Prepare("INSERT INTO audit_entry (seq, tenant, recorded, action, agent, patient, core, detail, leaf) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                          "append audit entry"));
    s.BindInt(1, static_cast<int64_t>(index + 1)).BindText(2, e.tenant).BindInt(3, e.recorded);
    s.BindText(4, e.action).BindText(5, e.agent);
    if (e.patient.empty()) {
      s.BindNull(6);
    } else {
      s.BindText(6, e.patient);
    }
    s.BindBlob(7, e.core).BindBlob(8, e.detail).BindBlob(9, hash);
    EHR_RETURN_IF_ERROR(s.Run());
  }
  // Leaf i completes one subtree per trailing one bit of i: at each level its left sibling
  // is the edge's last peak.
  int level = 0;
  edge.size = index + 1;  // the edge is out of step until the loop ends (the mark is gone)
  for (uint64_t bits = index; (bits & 1) != 0; bits >>= 1) {
    hash = audit::NodeHash(edge.peaks.back(), hash);
    edge.peaks.pop_back();
    ++level;
    EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("INSERT INTO audit_node (level, idx, hash) VALUES (?1, ?2, ?3)",
                                           "append audit node"));
    s.BindInt(1, level).BindInt(2, static_cast<int64_t>(index >> level)).BindBlob(3, hash);
    EHR_RETURN_IF_ERROR(s.Run());
  }
  edge.peaks.push_back(std::move(hash));
  memo.emplace(kEdgeMark, static_cast<int64_t>(index + 1));
  return index;
}

// The entries of tenant ?1 about patient ?2: those indexed, and those after the index's mark
// (audit_log.h), looked up by seq (`+tenant` keeps the planner off the indexes led by
// tenant, which would visit every entry of the tenant).
constexpr std::string_view kOfPatient =
    "+tenant = ?1 AND patient = ?2 AND seq IN (SELECT seq FROM audit_patient WHERE tenant = ?1 AND patient = ?2 "
    "UNION ALL SELECT seq FROM audit_entry WHERE seq > (SELECT through FROM audit_patient_mark))";

Result<std::vector<AuditRow>> AuditSearch(Connection& c, const AuditQuery& q) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM audit_entry WHERE " +
                    (q.patient ? std::string(kOfPatient) : "tenant = ?1");
  if (q.agent) sql += " AND agent = ?3";
  if (q.action) sql += " AND action = ?4";
  if (q.from) sql += " AND recorded >= ?5";
  if (q.to) sql += " AND recorded <= ?6";
  if (q.before) sql += " AND seq <= ?7";
  sql += " ORDER BY seq DESC LIMIT ?8";
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare(sql, "search audit log"));
  s.BindText(1, q.tenant);
  if (q.patient) s.BindText(2, *q.patient);
  if (q.agent) s.BindText(3, *q.agent);
  if (q.action) s.BindText(4, *q.action);
  if (q.from) s.BindInt(5, *q.from);
  if (q.to) s.BindInt(6, *q.to);
  if (q.before) s.BindInt(7, static_cast<int64_t>(*q.before));  // seq = index + 1
  s.BindInt(8, q.count);
  return Rows(s);
}

Result<std::vector<AuditRow>> AuditRange(Connection& c, uint64_t from, int count) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT " + std::string(kColumns) +
                                             " FROM audit_entry WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                                         "read audit entries"));
  s.BindInt(1, static_cast<int64_t>(from)).BindInt(2, count);
  return Rows(s);
}

Result<uint64_t> AuditSize(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT coalesce(max(seq), 0) FROM audit_entry", "read audit size"));
  EHR_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? static_cast<uint64_t>(s.ColumnInt(0)) : 0;
}

Result<std::string> AuditNode(Connection& c, int level, uint64_t index) {
  if (level == 0) return Leaf(c, index);
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT hash FROM audit_node WHERE level = ?1 AND idx = ?2",
                                         "read audit node"));
  s.BindInt(1, level).BindInt(2, static_cast<int64_t>(index));
  EHR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("audit: no subtree " + std::to_string(level) + "/" + std::to_string(index));
  return s.ColumnBlob(0);
}

Result<std::vector<AuditHead>> AuditHeads(Connection& c, bool latest_only) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare(latest_only ? "SELECT size, timestamp, root, signature, key_id FROM "
                                                       "audit_head ORDER BY size DESC LIMIT 1"
                                                     : "SELECT size, timestamp, root, signature, key_id FROM "
                                                       "audit_head ORDER BY size",
                                         "read audit tree heads"));
  std::vector<AuditHead> out;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return out;
    out.push_back(AuditHead{static_cast<uint64_t>(s.ColumnInt(0)), s.ColumnBlob(2),
                            static_cast<uint64_t>(s.ColumnInt(1)), s.ColumnBlob(3), s.ColumnText(4)});
  }
}

Status PutAuditHead(Connection& c, const AuditHead& head) {
  {
    EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT 1 FROM audit_head WHERE size = ?1", "find audit tree head"));
    s.BindInt(1, static_cast<int64_t>(head.size));
    EHR_ASSIGN_OR_RETURN(bool exists, s.Step());
    if (exists) return Status::Ok();  // the log has not grown since: the head signed first stands
  }
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("INSERT INTO audit_head (size, timestamp, root, signature, key_id) "
                                         "VALUES (?1, ?2, ?3, ?4, ?5)",
                                         "store audit tree head"));
  s.BindInt(1, static_cast<int64_t>(head.size)).BindInt(2, static_cast<int64_t>(head.timestamp_ms));
  s.BindBlob(3, head.root).BindBlob(4, head.signature).BindText(5, head.key_id);
  return s.Run();
}

Result<int64_t> EraseAuditDetail(Connection& c, std::string_view tenant, std::string_view patient) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("UPDATE audit_entry SET patient = NULL, detail = NULL WHERE " +
                                             std::string(kOfPatient),
                                         "erase audit detail"));
  s.BindText(1, tenant).BindText(2, patient);
  EHR_RETURN_IF_ERROR(s.Run());
  const int64_t erased = s.Changes();
  EHR_ASSIGN_OR_RETURN(Stmt d, c.Prepare("DELETE FROM audit_patient WHERE tenant = ?1 AND patient = ?2",
                                         "erase audit patient index"));
  d.BindText(1, tenant).BindText(2, patient);
  EHR_RETURN_IF_ERROR(d.Run());
  EHR_RETURN_IF_ERROR(ForgetInAuditPatientCycle(c, tenant, patient));
  return erased;
}

namespace {

// The cycle's table exists (it is the writer connection's, made by BeginAuditPatientCycle).
Result<bool> CycleTableExists(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT 1 FROM temp.sqlite_master WHERE name = 'audit_patient_tail'",
                                         "find audit patient cycle"));
  return s.Step();
}

}  // namespace

Result<int64_t> BeginAuditPatientCycle(Connection& c, uint64_t through) {
  EHR_RETURN_IF_ERROR(c.Run("DROP TABLE IF EXISTS temp.audit_patient_tail", "end audit patient cycle"));
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("CREATE TEMP TABLE audit_patient_tail AS SELECT tenant, patient, seq FROM "
                                         "audit_entry WHERE seq > (SELECT through FROM audit_patient_mark) AND "
                                         "seq <= ?1 AND patient IS NOT NULL ORDER BY tenant, patient, seq",
                                         "begin audit patient cycle"));
  s.BindInt(1, static_cast<int64_t>(through));
  EHR_RETURN_IF_ERROR(s.Run());
  EHR_ASSIGN_OR_RETURN(Stmt n, c.Prepare("SELECT count(*) FROM temp.audit_patient_tail", "count audit patient cycle"));
  EHR_ASSIGN_OR_RETURN(bool row, n.Step());
  return row ? n.ColumnInt(0) : 0;
}

Result<bool> IndexAuditPatientSlice(Connection& c, int64_t after_row, int64_t rows) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("INSERT OR IGNORE INTO audit_patient (tenant, patient, seq) SELECT tenant, "
                                         "patient, seq FROM temp.audit_patient_tail WHERE rowid > ?1 AND rowid <= ?2 "
                                         "ORDER BY rowid",
                                         "index audit entries by patient"));
  s.BindInt(1, after_row).BindInt(2, after_row + rows);
  EHR_RETURN_IF_ERROR(s.Run());
  EHR_ASSIGN_OR_RETURN(Stmt more, c.Prepare("SELECT 1 FROM temp.audit_patient_tail WHERE rowid > ?1 LIMIT 1",
                                            "find more audit entries to index"));
  more.BindInt(1, after_row + rows);
  return more.Step();
}

Status EndAuditPatientCycle(Connection& c, uint64_t through) {
  EHR_ASSIGN_OR_RETURN(Stmt m, c.Prepare("UPDATE audit_patient_mark SET through = ?1 WHERE id = 1 AND through < ?1",
                                         "advance audit patient index"));
  m.BindInt(1, static_cast<int64_t>(through));
  EHR_RETURN_IF_ERROR(m.Run());
  return c.Run("DROP TABLE IF EXISTS temp.audit_patient_tail", "end audit patient cycle");
}

Result<std::vector<std::string>> VerifyAuditPatients(Connection& c, size_t max) {
  std::vector<std::string> out;
  EHR_ASSIGN_OR_RETURN(Stmt missing, c.Prepare("SELECT e.seq FROM audit_entry e WHERE e.patient IS NOT NULL AND "
                                               "e.seq <= (SELECT through FROM audit_patient_mark) AND NOT EXISTS "
                                               "(SELECT 1 FROM audit_patient p WHERE p.tenant = e.tenant AND "
                                               "p.patient = e.patient AND p.seq = e.seq) ORDER BY e.seq LIMIT ?1",
                                               "verify audit patient index"));
  missing.BindInt(1, static_cast<int64_t>(max));
  while (out.size() < max) {
    EHR_ASSIGN_OR_RETURN(bool row, missing.Step());
    if (!row) break;
    out.push_back("entry " + std::to_string(missing.ColumnInt(0) - 1) +
                  " is missing from the index by patient (a search by its patient would not find it)");
  }
  EHR_ASSIGN_OR_RETURN(Stmt stray, c.Prepare("SELECT p.seq FROM audit_patient p WHERE NOT EXISTS (SELECT 1 FROM "
                                             "audit_entry e WHERE e.seq = p.seq AND e.tenant = p.tenant AND "
                                             "e.patient = p.patient) ORDER BY p.seq LIMIT ?1",
                                             "verify audit patient index"));
  stray.BindInt(1, static_cast<int64_t>(max));
  while (out.size() < max) {
    EHR_ASSIGN_OR_RETURN(bool row, stray.Step());
    if (!row) break;
    out.push_back("the index by patient names entry " + std::to_string(stray.ColumnInt(0) - 1) +
                  " under a patient it is not about (or an entry that is not in the log)");
  }
  return out;
}

Result<std::pair<uint64_t, uint64_t>> AuditPatientBacklog(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Stmt s, c.Prepare("SELECT (SELECT through FROM audit_patient_mark), "
                                         "(SELECT coalesce(max(seq), 0) FROM audit_entry)",
                                         "read audit patient index mark"));
  EHR_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::Internal("audit: no patient index mark");
  return std::pair<uint64_t, uint64_t>(static_cast<uint64_t>(s.ColumnInt(0)), static_cast<uint64_t>(s.ColumnInt(1)));
}

// What a cycle has not indexed yet of `tenant`'s `patient` (erasure), or of entries in
// (first, last] (archiving), goes from its table too.
Status ForgetInAuditPatientCycle(Connection& c, std::string_view tenant, std::string_view patient) {
  EHR_ASSIGN_OR_RETURN(bool cycle, CycleTableExists(c));
  if (!cycle) return Status::Ok();
  EHR_ASSIGN_OR_RETURN(Stmt d, c.Prepare("DELETE FROM temp.audit_patient_tail WHERE tenant = ?1 AND patient = ?2",
                                         "erase audit patient cycle rows"));
  d.BindText(1, tenant).BindText(2, patient);
  return d.Run();
}

Status ForgetInAuditPatientCycle(Connection& c, uint64_t first, uint64_t last) {
  EHR_ASSIGN_OR_RETURN(bool cycle, CycleTableExists(c));
  if (!cycle) return Status::Ok();
  EHR_ASSIGN_OR_RETURN(Stmt d, c.Prepare("DELETE FROM temp.audit_patient_tail WHERE seq > ?1 AND seq <= ?2",
                                         "archive audit patient cycle rows"));
  d.BindInt(1, static_cast<int64_t>(first)).BindInt(2, static_cast<int64_t>(last));
  return d.Run();
}

}  // namespace ehr::store::sqlite
