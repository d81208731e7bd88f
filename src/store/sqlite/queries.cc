#include "store/sqlite/queries.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>

namespace ehr::store::sqlite {
namespace {

constexpr std::string_view kVersionColumns = "seq, type, id, version, last_updated, deleted, method, body";

VersionRecord ReadVersionRow(const Stmt& s) {
  VersionRecord r;
  r.seq = s.ColumnInt(0);
  r.type = s.ColumnText(1);
  r.id = s.ColumnText(2);
  r.version = s.ColumnInt(3);
  r.last_updated = s.ColumnInt(4);
  r.deleted = s.ColumnInt(5) != 0;
  r.method = s.ColumnText(6);
  if (!r.deleted) r.body = s.ColumnBlob(7);
  return r;
}

Result<std::optional<VersionRecord>> ReadOneVersion(Stmt& stmt) {
  EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<VersionRecord>();
  return std::optional<VersionRecord>(ReadVersionRow(stmt));
}

// The search index tables, cleared together when a resource gets a new version.
// The full-text row goes by way of the text_pending and text_dropped temp tables (see
// FlushTextRows).
constexpr std::string_view kClearIndexRows[] = {
    "DELETE FROM string_index WHERE seq = ?1",         "DELETE FROM token_index WHERE seq = ?1",
    "DELETE FROM date_index WHERE seq = ?1",           "DELETE FROM number_index WHERE seq = ?1",
    "DELETE FROM quantity_index WHERE seq = ?1",       "DELETE FROM reference_index WHERE seq = ?1",
    "DELETE FROM uri_index WHERE seq = ?1",            "DELETE FROM temp.text_pending WHERE seq = ?1",
    "INSERT OR IGNORE INTO temp.text_dropped (seq) VALUES (?1)",
};

Status ClearIndexRows(Connection& c, int64_t seq) {
  for (std::string_view sql : kClearIndexRows) {
    EHR_ASSIGN_OR_RETURN(Stmt clear, c.Prepare(sql, "clear index rows"));
    clear.BindInt(1, seq);
    EHR_RETURN_IF_ERROR(clear.Run());
  }
  return Status::Ok();
}

// The integer key of a row of a dictionary table (search_param, token_system) whose text
// columns are `values`: read with `find`, else inserted with `add` (its rowid), and
// remembered in the connection's key memo under `memo_key` (cleared by whoever rolls back:
// db.h).
Result<int64_t> DictionaryKey(Connection& c, const std::string& memo_key, std::string_view find, std::string_view add,
                              std::initializer_list<std::string_view> values) {
  if (auto it = c.key_memo().find(memo_key); it != c.key_memo().end()) return it->second;
  EHR_ASSIGN_OR_RETURN(Stmt read, c.Prepare(find, "read dictionary key"));
  int i = 0;
  for (std::string_view v : values) read.BindText(++i, v);
  EHR_ASSIGN_OR_RETURN(bool row, read.Step());
  int64_t key = 0;
  if (row) {
    key = read.ColumnInt(0);
  } else {
    EHR_ASSIGN_OR_RETURN(Stmt insert, c.Prepare(add, "add dictionary key"));
    i = 0;
    for (std::string_view v : values) insert.BindText(++i, v);
    EHR_RETURN_IF_ERROR(insert.Run());
    key = sqlite3_last_insert_rowid(c.raw());
  }
  c.key_memo().emplace(memo_key, key);
  return key;
}

// The key of (tenant, type, param) in search_param, created on first use.
class ParamKeys {
 public:
  ParamKeys(Connection& c, std::string_view tenant, std::string_view type) : c_(c), tenant_(tenant), type_(type) {}
  Result<int64_t> Of(const std::string& param) {
    if (param == last_param_) return last_pk_;
    memo_key_.assign("p").append(1, '\0').append(tenant_).append(1, '\0').append(type_).append(1, '\0').append(param);
    EHR_ASSIGN_OR_RETURN(last_pk_,
                         DictionaryKey(c_, memo_key_, "SELECT pk FROM search_param WHERE tenant = ?1 AND type = ?2 AND param = ?3",
                                       "INSERT INTO search_param (tenant, type, param) VALUES (?1, ?2, ?3)",
                                       {tenant_, type_, param}));
    last_param_ = param;
    return last_pk_;
  }

 private:
  Connection& c_;
  std::string_view tenant_, type_;
  std::string memo_key_;
  std::string last_param_;
  int64_t last_pk_ = 0;
};

// The number of a token system in token_system (schema.cc, migration 6), made on first use.
Result<int64_t> SystemKey(Connection& c, const std::string& system, std::string& memo_key) {
  memo_key.assign("s").append(1, '\0').append(system);
  return DictionaryKey(c, memo_key, "SELECT id FROM token_system WHERE system = ?1",
                       "INSERT INTO token_system (system) VALUES (?1)", {system});
}

// Stmt binds no doubles: numbers travel as their shortest round-trip text and the SQL casts
// them (SQLite parses that text back to the same double).
std::string DoubleText(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, ec == std::errc() ? end : buf);
}

// A number that cannot be stored (NaN would become NULL) or compared meaningfully (an
// overflowed decimal): the row is left out rather than failing the write of the resource.
bool Storable(double d) { return std::isfinite(d); }

// Every row of `ix` for the version `seq`; INSERT OR IGNORE because a resource may repeat a
// value (two identical identifiers) and one row is enough.
Status InsertIndexRows(Connection& c, std::string_view tenant, std::string_view type, int64_t seq,
                       const IndexRows& ix) {
  ParamKeys keys(c, tenant, type);
  for (const StringRow& r : ix.strings) {
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT OR IGNORE INTO string_index (pk, normalized, exact, seq) "
                                             "VALUES (?1, ?2, ?3, ?4)",
                                             "insert string row"));
    add.BindInt(1, pk).BindText(2, r.normalized).BindText(3, r.exact).BindInt(4, seq);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  std::string code, text, memo_key;
  for (const TokenRow& r : ix.tokens) {
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    EHR_ASSIGN_OR_RETURN(int64_t system, SystemKey(c, r.system, memo_key));
    // One row per code (schema.cc, migration 5): a second text of the same code joins the
    // first unless it is there already.
    code = r.code;
    text.clear();
    if (IsOfTypeParam(r.param)) {
      code.append(kTokenTextMark).append(r.text);
    } else if (!r.text.empty()) {
      text.append(kTokenTextMark).append(r.text);
    }
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT INTO token_index (pk, code, system, seq, text) "
                                             "VALUES (?1, ?2, ?3, ?4, ?5) "
                                             "ON CONFLICT (pk, code, system, seq) DO UPDATE SET text = text || excluded.text "
                                             "WHERE instr(text || char(31), excluded.text || char(31)) = 0",
                                             "insert token row"));
    add.BindInt(1, pk).BindText(2, code).BindInt(3, system).BindInt(4, seq).BindText(5, text);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  for (const DateRow& r : ix.dates) {
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT OR IGNORE INTO date_index (pk, low, high, seq) "
                                             "VALUES (?1, ?2, ?3, ?4)",
                                             "insert date row"));
    add.BindInt(1, pk).BindInt(2, r.low).BindInt(3, r.high).BindInt(4, seq);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  for (const NumberRow& r : ix.numbers) {
    if (!Storable(r.value)) continue;
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    const std::string value = DoubleText(r.value);
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT OR IGNORE INTO number_index (pk, value, seq) "
                                             "VALUES (?1, CAST(?2 AS REAL), ?3)",
                                             "insert number row"));
    add.BindInt(1, pk).BindText(2, value).BindInt(3, seq);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  for (const QuantityRow& r : ix.quantities) {
    if (!Storable(r.value)) continue;
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    const bool canonical = !r.canonical_unit.empty() && Storable(r.canonical_value);
    const std::string value = DoubleText(r.value);
    const std::string canonical_value = DoubleText(canonical ? r.canonical_value : 0);
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT OR IGNORE INTO quantity_index "
                                             "(pk, canonical_unit, canonical_value, system, code, value, unit, seq) "
                                             "VALUES (?1, ?2, CAST(?3 AS REAL), ?4, ?5, CAST(?6 AS REAL), ?7, ?8)",
                                             "insert quantity row"));
    // Not a default std::string_view: its null data would bind NULL (and OR IGNORE would drop the row).
    add.BindInt(1, pk).BindText(2, canonical ? std::string_view(r.canonical_unit) : std::string_view(""));
    add.BindText(3, canonical_value).BindText(4, r.system).BindText(5, r.code).BindText(6, value);
    add.BindText(7, r.unit).BindInt(8, seq);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  for (const ReferenceRow& r : ix.references) {
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT OR IGNORE INTO reference_index (pk, target_type, target_id, url, seq) "
                                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                                             "insert reference row"));
    add.BindInt(1, pk).BindText(2, r.target_type).BindText(3, r.target_id).BindText(4, r.url).BindInt(5, seq);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  for (const UriRow& r : ix.uris) {
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(r.param));
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT OR IGNORE INTO uri_index (pk, uri, seq) VALUES (?1, ?2, ?3)",
                                             "insert uri row"));
    add.BindInt(1, pk).BindText(2, r.uri).BindInt(3, seq);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  if (!ix.narrative.empty() || !ix.content.empty()) {
    EHR_ASSIGN_OR_RETURN(int64_t pk, keys.Of(std::string(kTextScopeParam)));
    const std::string scope = TextScope(pk);
    EHR_ASSIGN_OR_RETURN(Stmt add, c.Prepare("INSERT INTO temp.text_pending (seq, scope, narrative, content) "
                                             "VALUES (?1, ?2, ?3, ?4)",
                                             "insert text row"));
    add.BindInt(1, seq).BindText(2, scope).BindText(3, ix.narrative).BindText(4, ix.content);
    EHR_RETURN_IF_ERROR(add.Run());
  }
  return Status::Ok();
}

Status PutSteps(Connection& c, const NewVersion& v, std::string_view stored_body) {
  std::optional<int64_t> current_seq;
  bool current_live = false;
  {
    // The current version is the newest (schema.cc, migration 7).
    EHR_ASSIGN_OR_RETURN(Stmt cur, c.Prepare("SELECT seq, version, deleted FROM resource_version "
                                             "INDEXED BY resource_version_key WHERE tenant = ?1 AND type = ?2 AND id = ?3 "
                                             "ORDER BY version DESC LIMIT 1",
                                             "read current version"));
    cur.BindText(1, v.tenant).BindText(2, v.type).BindText(3, v.id);
    EHR_ASSIGN_OR_RETURN(bool row, cur.Step());
    if (row) {
      // Versions only grow, so version order, seq order and lastUpdated order agree.
      if (v.version <= cur.ColumnInt(1)) return Status::Conflict("storage: the resource already has this version");
      current_seq = cur.ColumnInt(0);
      current_live = cur.ColumnInt(2) == 0;
    }
  }
  if (current_seq) {
    EHR_ASSIGN_OR_RETURN(Stmt demote, c.Prepare("UPDATE resource_version SET is_current = 0 WHERE seq = ?1",
                                                "demote current version"));
    demote.BindInt(1, *current_seq);
    EHR_RETURN_IF_ERROR(demote.Run());
  }
  int64_t seq = 0;
  {
    EHR_ASSIGN_OR_RETURN(
        Stmt insert,
        c.Prepare("INSERT INTO resource_version "
                  "(tenant, type, id, version, last_updated, deleted, method, body, is_current) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)",
                  "insert version"));
    insert.BindText(1, v.tenant).BindText(2, v.type).BindText(3, v.id).BindInt(4, v.version);
    insert.BindInt(5, v.last_updated).BindInt(6, v.deleted ? 1 : 0).BindText(7, v.method);
    if (v.deleted) {
      insert.BindNull(8);
    } else {
      insert.BindBlob(8, stored_body);
    }
    Status inserted = insert.Run();
    if (inserted.ok()) seq = sqlite3_last_insert_rowid(c.raw());
    if (!inserted.ok()) {
      // Undo the demotion by hand: cheaper than a savepoint around every Put, whose
      // sub-journal grows with the whole transaction (quadratic on big Bundles).
      if (current_seq) {
        auto promote = c.Prepare("UPDATE resource_version SET is_current = 1 WHERE seq = ?1", "restore current version");
        if (promote.ok()) {
          promote->BindInt(1, *current_seq);
          (void)promote->Run();
        }
      }
      return inserted;
    }
  }
  // Index rows exist only for a live current version, so a first create or a write after a
  // delete has nothing to clear (saves seven deletes per resource on imports).
  if (current_live) EHR_RETURN_IF_ERROR(ClearIndexRows(c, *current_seq));
  if (!v.deleted) EHR_RETURN_IF_ERROR(InsertIndexRows(c, v.tenant, v.type, seq, v.index));
  return Status::Ok();
}

}  // namespace

Result<std::optional<VersionRecord>> ReadCurrent(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT seq, type, id, version, last_updated, deleted, method, body "
                                            "FROM resource_version INDEXED BY resource_version_key "
                                            "WHERE tenant = ?1 AND type = ?2 AND id = ?3 ORDER BY version DESC LIMIT 1",
                                            "read current version"));
  stmt.BindText(1, tenant).BindText(2, type).BindText(3, id);
  return ReadOneVersion(stmt);
}

Result<std::optional<VersionRecord>> ReadVersion(Connection& c, std::string_view tenant, std::string_view type,
                                                 std::string_view id, int64_t version) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT seq, type, id, version, last_updated, deleted, method, body "
                                            "FROM resource_version "
                                            "WHERE tenant = ?1 AND type = ?2 AND id = ?3 AND version = ?4",
                                            "read version"));
  stmt.BindText(1, tenant).BindText(2, type).BindText(3, id).BindInt(4, version);
  return ReadOneVersion(stmt);
}

Result<std::vector<VersionRecord>> VersionsAfter(Connection& c, std::string_view tenant, std::string_view type,
                                                int64_t after_seq, int limit) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT " + std::string(kVersionColumns) +
                                                " FROM resource_version INDEXED BY resource_history_type"
                                                " WHERE tenant = ?1 AND type = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
                                            "read versions after"));
  stmt.BindText(1, tenant).BindText(2, type).BindInt(3, after_seq).BindInt(4, std::max(limit, 0));
  std::vector<VersionRecord> out;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back(ReadVersionRow(stmt));
  }
}

Result<HistoryPage> History(Connection& c, const HistoryQuery& q) {
  HistoryPage page;
  const int count = std::max(q.count, 0);
  // Parameters keep fixed numbers whatever the filters, so the text alone selects the
  // cached statement (at most 12 variants).
  // Indexes are pinned: without statistics the planner may pick a type-wide index for an
  // instance's history. Within one resource, version order is seq order (Put only accepts
  // growing versions), so the instance level walks resource_version_key backwards.
  const bool instance = !q.type.empty() && !q.id.empty();
  std::string sql = "SELECT ";
  sql += kVersionColumns;
  sql += " FROM resource_version INDEXED BY ";
  sql += instance ? "resource_version_key" : q.type.empty() ? "resource_history_system" : "resource_history_type";
  sql += " WHERE tenant = ?1";
  if (!q.type.empty()) {
    sql += " AND type = ?2";
    if (instance) sql += " AND id = ?3";
  }
  if (q.before_seq) sql += " AND seq < ?4";
  if (q.since) sql += " AND last_updated >= ?5";
  sql += instance ? " ORDER BY version DESC LIMIT ?6" : " ORDER BY seq DESC LIMIT ?6";

  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare(sql, "read history"));
  stmt.BindText(1, q.tenant);
  if (!q.type.empty()) {
    stmt.BindText(2, q.type);
    if (instance) stmt.BindText(3, q.id);
  }
  if (q.before_seq) stmt.BindInt(4, *q.before_seq);
  if (q.since) stmt.BindInt(5, *q.since);
  stmt.BindInt(6, static_cast<int64_t>(count) + 1);  // one extra row tells whether more exist
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(page.entries.size()) == count) {
      page.more = true;
      break;
    }
    page.entries.push_back(ReadVersionRow(stmt));
  }
  return page;
}

Result<std::vector<std::string>> FindIdsByToken(Connection& c, const TokenQuery& q) {
  std::vector<std::string> ids;
  if (q.limit <= 0) return ids;  // LIMIT with a negative value would mean "no limit" in SQLite
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT DISTINCT r.id FROM search_param p "
                                            "JOIN token_index x ON x.pk = p.pk AND x.code = ?4 "
                                            "AND (?5 IS NULL OR x.system = (SELECT id FROM token_system WHERE system = ?5)) "
                                            "JOIN resource_version r ON r.seq = x.seq "
                                            "WHERE p.tenant = ?1 AND p.type = ?2 AND p.param = ?3 LIMIT ?6",
                                            "find by token"));
  stmt.BindText(1, q.tenant).BindText(2, q.type).BindText(3, q.param).BindText(4, q.code);
  if (q.system) {
    stmt.BindText(5, *q.system);
  } else {
    stmt.BindNull(5);
  }
  stmt.BindInt(6, q.limit);
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ids.push_back(stmt.ColumnText(0));
  }
  return ids;
}

Result<std::optional<IdempotencyRecord>> GetIdempotency(Connection& c, std::string_view tenant,
                                                        std::string_view key) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT request_hash, status, headers_json, body, created "
                                            "FROM idempotency WHERE tenant = ?1 AND key = ?2",
                                            "read idempotency record"));
  stmt.BindText(1, tenant).BindText(2, key);
  EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<IdempotencyRecord>();
  IdempotencyRecord r;
  r.request_hash = stmt.ColumnText(0);
  r.status = static_cast<int>(stmt.ColumnInt(1));
  r.headers_json = stmt.ColumnText(2);
  r.body = stmt.ColumnBlob(3);
  r.created = stmt.ColumnInt(4);
  return std::optional<IdempotencyRecord>(std::move(r));
}

Result<int64_t> CountCurrent(Connection& c, std::string_view tenant, std::string_view type) {
  Result<Stmt> prepared =
      type.empty() ? c.Prepare("SELECT count(*) FROM resource_version INDEXED BY resource_live_id "
                               "WHERE tenant = ?1 AND is_current = 1 AND deleted = 0",
                               "count resources")
                   : c.Prepare("SELECT count(*) FROM resource_version INDEXED BY resource_live_id "
                               "WHERE tenant = ?1 AND type = ?2 AND is_current = 1 AND deleted = 0",
                               "count resources");
  if (!prepared.ok()) return prepared.take_status();
  Stmt& stmt = *prepared;
  stmt.BindText(1, tenant);
  if (!type.empty()) stmt.BindText(2, type);
  EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : int64_t{0};
}

Status Put(Connection& c, const NewVersion& v, std::string_view stored_body) {
  // Caller bugs, not user data: the API layer validates resources before storing them.
  if (v.type.empty() || v.id.empty() || v.version < 1) {
    return Status::Internal("storage: a new version needs a type, an id and a positive version");
  }
  if (v.deleted && !v.body.empty()) return Status::Internal("storage: a deleted version has no body");

  // PutSteps fails on user-visible conditions (conflicts) before it changes anything, or
  // puts back what it changed; storage errors fail the whole job, whose savepoint rolls back.
  return PutSteps(c, v, stored_body);
}

Status ReplaceIndexRows(Connection& c, std::string_view tenant, std::string_view type, std::string_view id,
                        const IndexRows& rows) {
  EHR_ASSIGN_OR_RETURN(Stmt cur, c.Prepare("SELECT seq FROM resource_version "
                                           "WHERE tenant = ?1 AND type = ?2 AND id = ?3 AND is_current = 1 AND deleted = 0",
                                           "read current live version"));
  cur.BindText(1, tenant).BindText(2, type).BindText(3, id);
  EHR_ASSIGN_OR_RETURN(bool row, cur.Step());
  if (!row) return Status::NotFound("storage: no live resource to index");
  const int64_t seq = cur.ColumnInt(0);
  EHR_RETURN_IF_ERROR(ClearIndexRows(c, seq));
  return InsertIndexRows(c, tenant, type, seq, rows);
}

Result<std::vector<std::pair<std::string, VersionRecord>>> ScanCurrent(Connection& c, int64_t after_seq, int limit) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT seq, type, id, version, last_updated, deleted, method, body, tenant "
                                            "FROM resource_version WHERE seq > ?1 AND is_current = 1 AND deleted = 0 "
                                            "ORDER BY seq LIMIT ?2",
                                            "scan current versions"));
  stmt.BindInt(1, after_seq).BindInt(2, limit);
  std::vector<std::pair<std::string, VersionRecord>> out;
  while (true) {
    EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.emplace_back(stmt.ColumnText(8), ReadVersionRow(stmt));
  }
  return out;
}

Status OpenWriteSession(Connection& c) {
  return c.ExecScript(
      "CREATE TEMP TABLE IF NOT EXISTS text_pending (seq INTEGER PRIMARY KEY, scope TEXT NOT NULL, "
      "narrative TEXT NOT NULL, content TEXT NOT NULL);"
      "CREATE TEMP TABLE IF NOT EXISTS text_dropped (seq INTEGER PRIMARY KEY);",
      "create write session tables");
}

Status FlushTextRows(Connection& c) {
  static constexpr std::string_view kSteps[] = {
      "DELETE FROM text_index WHERE rowid IN (SELECT seq FROM temp.text_dropped)",
      "INSERT INTO text_index (rowid, scope, narrative, content) "
      "SELECT seq, scope, narrative, content FROM temp.text_pending ORDER BY seq",
      "DELETE FROM temp.text_dropped",
      "DELETE FROM temp.text_pending",
  };
  for (std::string_view sql : kSteps) EHR_RETURN_IF_ERROR(c.Run(sql, "write full-text rows"));
  return Status::Ok();
}

Status PutIdempotency(Connection& c, std::string_view tenant, std::string_view key, const IdempotencyRecord& r) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("INSERT INTO idempotency "
                                            "(tenant, key, request_hash, status, headers_json, body, created) "
                                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                                            "ON CONFLICT (tenant, key) DO UPDATE SET request_hash = ?3, status = ?4, "
                                            "headers_json = ?5, body = ?6, created = ?7",
                                            "record idempotency response"));
  stmt.BindText(1, tenant).BindText(2, key).BindText(3, r.request_hash).BindInt(4, r.status);
  stmt.BindText(5, r.headers_json).BindBlob(6, r.body).BindInt(7, r.created);
  return stmt.Run();
}

Result<int64_t> ExpireIdempotency(Connection& c, Micros created_before, int limit) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("DELETE FROM idempotency WHERE (tenant, key) IN (SELECT tenant, key "
                                            "FROM idempotency WHERE created < ?1 ORDER BY created LIMIT ?2)",
                                            "expire idempotency records"));
  stmt.BindInt(1, created_before).BindInt(2, limit);
  EHR_RETURN_IF_ERROR(stmt.Run());
  return stmt.Changes();
}

Result<Micros> LastWriteTime(Connection& c) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, c.Prepare("SELECT last_updated FROM resource_version ORDER BY seq DESC LIMIT 1",
                                            "read last write time"));
  EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : Micros{0};
}

}  // namespace ehr::store::sqlite
