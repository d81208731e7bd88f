#include "store/postgres/audit_log.h"

#include <bit>
#include <iterator>

#include "audit/merkle.h"

namespace ehr::store::pg {
namespace {

constexpr std::string_view kColumns = "seq, tenant, recorded, action, agent, patient, core, detail, leaf";

std::vector<AuditRow> RowsOf(const Rows& rows) {
  std::vector<AuditRow> out;
  for (int i = 0; i < rows.size(); ++i) {
    AuditRow r;
    r.index = static_cast<uint64_t>(rows.Int(i, 0) - 1);
    r.tenant = rows.String(i, 1);
    r.recorded = rows.Int(i, 2);
    r.action = rows.String(i, 3);
    r.agent = rows.String(i, 4);
    if (!rows.IsNull(i, 5)) r.patient = rows.String(i, 5);
    r.core = rows.String(i, 6);
    if (!rows.IsNull(i, 7)) r.detail = rows.String(i, 7);
    r.leaf = rows.String(i, 8);
    out.push_back(std::move(r));
  }
  return out;
}

// The text form of a bytea value ("\x0a1b..."), for arrays of hashes.
std::string ByteaText(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Param Index(uint64_t v) { return Param::Int(static_cast<int64_t>(v)); }

// A constant of this schema (the bytes of "ehraudit"): the key of the advisory lock that
// appenders to the audit log take for their transaction.
constexpr int64_t kAuditLock = 0x6568726175646974;

template <typename T>
void MoveAppend(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  from.clear();
}

}  // namespace

void AuditBuffer::Take(AuditBuffer& later) {
  if (later.empty()) return;
  if (empty()) first = later.first;
  for (auto column : {&AuditBuffer::seq, &AuditBuffer::tenant, &AuditBuffer::recorded, &AuditBuffer::action,
                      &AuditBuffer::agent, &AuditBuffer::patient, &AuditBuffer::core, &AuditBuffer::detail,
                      &AuditBuffer::leaf, &AuditBuffer::node_level, &AuditBuffer::node_index, &AuditBuffer::node_hash}) {
    MoveAppend(this->*column, later.*column);
  }
}

Result<uint64_t> BeginAppending(Connection& c) {
  // One round trip. The size is read by the statement after the lock's: a statement sees
  // what was committed when it began, and the lock may have been waited for.
  EHR_ASSIGN_OR_RETURN(Rows rows, c.ExecRows("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kAuditLock) +
                                             "); SELECT coalesce(max(seq), 0) FROM audit_entry"));
  return static_cast<uint64_t>(rows.Int(0, 0));
}

Status LoadAuditEdge(Connection& c, uint64_t size, AuditEdge& edge) {
  edge = AuditEdge{};
  uint64_t first = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t leaves = uint64_t{1} << level;
    if ((size & leaves) == 0) continue;
    EHR_ASSIGN_OR_RETURN(std::string hash, AuditNode(c, level, first >> level));
    edge.peaks.push_back(std::move(hash));
    first += leaves;
  }
  edge.size = size;
  edge.valid = true;
  return Status::Ok();
}

uint64_t BufferAudit(AuditEdge& edge, const AuditAppend& e, AuditBuffer& buffer) {
  const uint64_t index = edge.size;
  if (buffer.empty()) buffer.first = index;
  std::string hash = audit::LeafHash(e.core);
  buffer.seq.push_back(std::to_string(index + 1));
  buffer.tenant.push_back(e.tenant);
  buffer.recorded.push_back(std::to_string(e.recorded));
  buffer.action.push_back(e.action);
  buffer.agent.push_back(e.agent);
  buffer.patient.push_back(e.patient);  // '' is stored as NULL
  buffer.core.push_back(ByteaText(e.core));
  buffer.detail.push_back(ByteaText(e.detail));
  buffer.leaf.push_back(ByteaText(hash));
  // Leaf i completes one subtree per trailing one bit of i: at each level its left sibling
  // is the edge's last peak.
  int level = 0;
  for (uint64_t bits = index; (bits & 1) != 0; bits >>= 1) {
    hash = audit::NodeHash(edge.peaks.back(), hash);
    edge.peaks.pop_back();
    ++level;
    buffer.node_level.push_back(std::to_string(level));
    buffer.node_index.push_back(std::to_string(index >> level));
    buffer.node_hash.push_back(ByteaText(hash));
  }
  edge.peaks.push_back(std::move(hash));
  edge.size = index + 1;
  return index;
}

Status FlushAudit(Connection& c, AuditBuffer& buffer) {
  if (buffer.empty()) return Status::Ok();
  auto array = [](const std::vector<std::string>& v) { return ArrayLiteral({v.begin(), v.end()}); };
  EHR_ASSIGN_OR_RETURN(
      Rows added,
      c.Run("WITH entry AS (INSERT INTO audit_entry (seq, tenant, recorded, action, agent, patient, core, detail, leaf) "
            "SELECT u.s, u.t, u.r, u.a, u.g, nullif(u.p, ''), u.c, u.d, u.l FROM unnest($2::bigint[], $3::text[], "
            "$4::bigint[], $5::text[], $6::text[], $7::text[], $8::bytea[], $9::bytea[], $10::bytea[]) "
            "AS u(s, t, r, a, g, p, c, d, l) "
            "WHERE (SELECT coalesce(max(seq), 0) FROM audit_entry) = $1::bigint RETURNING seq), "
            "nodes AS (INSERT INTO audit_node (level, idx, hash) "
            "SELECT * FROM unnest($11::integer[], $12::bigint[], $13::bytea[]) WHERE EXISTS (SELECT 1 FROM entry)) "
            "SELECT count(*) FROM entry",
            {Index(buffer.first), array(buffer.seq), array(buffer.tenant), array(buffer.recorded),
             array(buffer.action), array(buffer.agent), array(buffer.patient), array(buffer.core),
             array(buffer.detail), array(buffer.leaf), array(buffer.node_level), array(buffer.node_index),
             array(buffer.node_hash)}));
  if (static_cast<size_t>(added.Int(0, 0)) != buffer.size()) {
    return Status::Conflict("audit: the log grew while its entries were buffered");
  }
  buffer = AuditBuffer{};
  return Status::Ok();
}

Status ArchiveAudit(Connection& c, const AuditSegment& s, uint64_t erased) {
  if (s.count < 2 || !std::has_single_bit(s.count) || s.first % s.count != 0) {
    return Status::Invalid("audit archive: a segment is a complete subtree of at least two entries");
  }
  const int level = std::countr_zero(s.count);
  EHR_ASSIGN_OR_RETURN(std::string subtree, AuditNode(c, level, s.first >> level));
  if (subtree != s.subtree) return Status::Conflict("audit archive: the segment's subtree is not the stored one");
  EHR_ASSIGN_OR_RETURN(Rows counted, c.Run("SELECT count(*), count(*) - count(detail) FROM audit_entry "
                                           "WHERE seq > $1::bigint AND seq <= $2::bigint",
                                           {Index(s.first), Index(s.first + s.count)}));
  if (static_cast<uint64_t>(counted.Int(0, 0)) != s.count) {
    return Status::Conflict("audit archive: entries of the segment are missing from the store");
  }
  if (static_cast<uint64_t>(counted.Int(0, 1)) != erased) {
    return Status::Conflict("audit archive: entries of the segment were erased since its file was written");
  }
  EHR_RETURN_IF_ERROR(c.Run("INSERT INTO audit_archive (first, count, file, sha256, subtree, archived_at) "
                            "VALUES ($1::bigint, $2::bigint, $3, $4::bytea, $5::bytea, $6::bigint)",
                            {Index(s.first), Index(s.count), s.file, Param::Bytes(s.sha256), Param::Bytes(s.subtree),
                             Param::Int(s.archived_at)})
                          .status());
  return c.Run("DELETE FROM audit_entry WHERE seq > $1::bigint AND seq <= $2::bigint",
               {Index(s.first), Index(s.first + s.count)})
      .status();
}

Status SetAuditSegmentDigest(Connection& c, uint64_t first, std::string_view sha256) {
  EHR_ASSIGN_OR_RETURN(Rows changed, c.Run("UPDATE audit_archive SET sha256 = $2::bytea WHERE first = $1::bigint "
                                           "RETURNING first",
                                           {Index(first), Param::Bytes(sha256)}));
  if (changed.size() != 1) return Status::NotFound("audit archive: no segment starts at " + std::to_string(first));
  return Status::Ok();
}

Status PutAuditHead(Connection& c, const AuditHead& head) {
  // A head of a size signed before stands: the log has not grown since.
  return c.Run("INSERT INTO audit_head (size, timestamp, root, signature, key_id) "
               "VALUES ($1::bigint, $2::bigint, $3::bytea, $4::bytea, $5) ON CONFLICT (size) DO NOTHING",
               {Index(head.size), Index(head.timestamp_ms), Param::Bytes(head.root), Param::Bytes(head.signature),
                head.key_id})
      .status();
}

Result<int64_t> EraseAuditDetail(Connection& c, std::string_view tenant, std::string_view patient) {
  EHR_ASSIGN_OR_RETURN(Rows changed, c.Run("UPDATE audit_entry SET patient = NULL, detail = NULL "
                                           "WHERE tenant = $1 AND patient = $2 RETURNING seq",
                                           {tenant, patient}));
  return static_cast<int64_t>(changed.size());
}

Result<std::vector<AuditRow>> AuditSearch(Connection& c, const AuditQuery& q) {
  std::vector<Param> params = {q.tenant};
  auto next = [&](Param p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  };
  std::string sql = "SELECT " + std::string(kColumns) + " FROM audit_entry WHERE tenant = $1";
  if (q.patient) sql += " AND patient = " + next(*q.patient);
  if (q.agent) sql += " AND agent = " + next(*q.agent);
  if (q.action) sql += " AND action = " + next(*q.action);
  if (q.from) sql += " AND recorded >= " + next(Param::Int(*q.from)) + "::bigint";
  if (q.to) sql += " AND recorded <= " + next(Param::Int(*q.to)) + "::bigint";
  if (q.before) sql += " AND seq <= " + next(Index(*q.before)) + "::bigint";  // seq = index + 1
  sql += " ORDER BY seq DESC LIMIT " + next(Param::Int(std::max(q.count, 0))) + "::bigint";
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run(sql, params));
  return RowsOf(rows);
}

Result<std::vector<AuditRow>> AuditRange(Connection& c, uint64_t from, int count) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT " + std::string(kColumns) +
                                            " FROM audit_entry WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint",
                                        {Index(from), Param::Int(std::max(count, 0))}));
  return RowsOf(rows);
}

Result<uint64_t> AuditSize(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT coalesce(max(seq), 0) FROM audit_entry"));
  return static_cast<uint64_t>(rows.Int(0, 0));
}

Result<std::string> AuditNode(Connection& c, int level, uint64_t index) {
  if (level == 0) {
    EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT leaf FROM audit_entry WHERE seq = $1::bigint", {Index(index + 1)}));
    if (rows.size() == 0) return Status::NotFound("audit: no entry " + std::to_string(index));
    return rows.String(0, 0);
  }
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT hash FROM audit_node WHERE level = $1::integer AND idx = $2::bigint",
                                        {Param::Int(level), Index(index)}));
  if (rows.size() == 0) {
    return Status::NotFound("audit: no subtree " + std::to_string(level) + "/" + std::to_string(index));
  }
  return rows.String(0, 0);
}

Result<std::vector<AuditHead>> AuditHeads(Connection& c, bool latest_only) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run(latest_only ? "SELECT size, timestamp, root, signature, key_id FROM audit_head "
                                                      "ORDER BY size DESC LIMIT 1"
                                                    : "SELECT size, timestamp, root, signature, key_id FROM audit_head "
                                                      "ORDER BY size"));
  std::vector<AuditHead> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(AuditHead{static_cast<uint64_t>(rows.Int(i, 0)), rows.String(i, 2),
                            static_cast<uint64_t>(rows.Int(i, 1)), rows.String(i, 3), rows.String(i, 4)});
  }
  return out;
}

Result<std::vector<AuditSegment>> AuditSegments(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Rows rows, c.Run("SELECT first, count, file, sha256, subtree, archived_at FROM audit_archive "
                                        "ORDER BY first"));
  std::vector<AuditSegment> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(AuditSegment{static_cast<uint64_t>(rows.Int(i, 0)), static_cast<uint64_t>(rows.Int(i, 1)),
                               rows.String(i, 2), rows.String(i, 3), rows.String(i, 4), rows.Int(i, 5)});
  }
  return out;
}

}  // namespace ehr::store::pg
