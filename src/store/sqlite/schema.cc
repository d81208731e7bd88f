#include "store/sqlite/schema.h"

#include <string>

namespace ehr::store::sqlite {
namespace {

// Every table holding data carries `tenant` (schema_version describes the file itself and
// is the one exception), directly or, for the search index rows, through search_param. Row order in resource_version is the store-wide write order: seq
// is the rowid, AUTOINCREMENT so that a value is never reused even if rows are removed
// later (expunge), which keeps history cursors valid. queries.cc names the index each query
// must use (INDEXED BY), so a change here that breaks one fails loudly at prepare time.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE resource_version (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant       TEXT    NOT NULL,
  type         TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  version      INTEGER NOT NULL,
  last_updated INTEGER NOT NULL,
  deleted      INTEGER NOT NULL,
  method       TEXT    NOT NULL,
  body         BLOB,
  is_current   INTEGER NOT NULL
);
CREATE UNIQUE INDEX resource_version_key ON resource_version(tenant, type, id, version);
-- At most one current version per resource; serves reads of the current version.
CREATE UNIQUE INDEX resource_current ON resource_version(tenant, type, id) WHERE is_current = 1;
-- Counts of live resources (the flag columns make it a covering index).
CREATE INDEX resource_live ON resource_version(tenant, type, deleted, is_current)
  WHERE is_current = 1 AND deleted = 0;
-- History newest first at system and type level (instance level uses resource_version_key).
CREATE INDEX resource_history_system ON resource_version(tenant, seq);
CREATE INDEX resource_history_type ON resource_version(tenant, type, seq);

-- Token search rows of current versions only; system is '' when absent.
CREATE TABLE token_index (
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  id     TEXT NOT NULL,
  param  TEXT NOT NULL,
  system TEXT NOT NULL,
  code   TEXT NOT NULL,
  PRIMARY KEY (tenant, type, id, param, system, code)
) WITHOUT ROWID;
CREATE INDEX token_lookup ON token_index(tenant, type, param, code, system);

CREATE TABLE idempotency (
  tenant       TEXT    NOT NULL,
  key          TEXT    NOT NULL,
  request_hash TEXT    NOT NULL,
  status       INTEGER NOT NULL,
  headers_json TEXT    NOT NULL,
  body         BLOB    NOT NULL,
  created      INTEGER NOT NULL,
  PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency(created);

CREATE TABLE audit (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT    NOT NULL,
  time   INTEGER NOT NULL,
  entry  BLOB    NOT NULL
);
CREATE INDEX audit_tenant_seq ON audit(tenant, seq);

CREATE TABLE outbox (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant    TEXT    NOT NULL,
  topic     TEXT    NOT NULL,
  payload   BLOB    NOT NULL,
  created   INTEGER NOT NULL,
  delivered INTEGER
);
CREATE INDEX outbox_pending ON outbox(seq) WHERE delivered IS NULL;
)sql"},
    // Search index tables, one per row type of store::IndexRows. Each is WITHOUT ROWID with
    // the primary key (tenant, type, id, param, value columns...): clearing a resource's rows
    // is a prefix delete, a repeated value is stored once, and every secondary index carries
    // (id) so lookups never touch the table. The *_lookup indexes lead with (tenant, type,
    // param) and then the value compared, so a search clause is one index range.
    // token_index is rebuilt (a new `text` column in its primary key: two codings with the
    // same system and code but another display are both kept).
    {2, R"sql(
CREATE TABLE token_index_v2 (
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  id     TEXT NOT NULL,
  param  TEXT NOT NULL,
  system TEXT NOT NULL,
  code   TEXT NOT NULL,
  text   TEXT NOT NULL,
  PRIMARY KEY (tenant, type, id, param, system, code, text)
) WITHOUT ROWID;
INSERT INTO token_index_v2 (tenant, type, id, param, system, code, text)
  SELECT tenant, type, id, param, system, code, '' FROM token_index;
DROP TABLE token_index;
ALTER TABLE token_index_v2 RENAME TO token_index;
CREATE INDEX token_lookup ON token_index(tenant, type, param, code, system);

CREATE TABLE string_index (
  tenant     TEXT NOT NULL,
  type       TEXT NOT NULL,
  id         TEXT NOT NULL,
  param      TEXT NOT NULL,
  normalized TEXT NOT NULL,
  exact      TEXT NOT NULL,
  PRIMARY KEY (tenant, type, id, param, normalized, exact)
) WITHOUT ROWID;
-- Starts-with is a range on normalized; :exact also narrows on normalized first.
CREATE INDEX string_lookup ON string_index(tenant, type, param, normalized);

-- [low, high]: inclusive instants in microseconds (UTC).
CREATE TABLE date_index (
  tenant TEXT    NOT NULL,
  type   TEXT    NOT NULL,
  id     TEXT    NOT NULL,
  param  TEXT    NOT NULL,
  low    INTEGER NOT NULL,
  high   INTEGER NOT NULL,
  PRIMARY KEY (tenant, type, id, param, low, high)
) WITHOUT ROWID;
-- eq, lt, le and sa bound `low`; gt, ge and eb bound `high`.
CREATE INDEX date_low ON date_index(tenant, type, param, low, high);
CREATE INDEX date_high ON date_index(tenant, type, param, high, low);

CREATE TABLE number_index (
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  id     TEXT NOT NULL,
  param  TEXT NOT NULL,
  value  REAL NOT NULL,
  PRIMARY KEY (tenant, type, id, param, value)
) WITHOUT ROWID;
CREATE INDEX number_lookup ON number_index(tenant, type, param, value);

-- canonical_unit is '' when the quantity has no UCUM canonical form.
CREATE TABLE quantity_index (
  tenant          TEXT NOT NULL,
  type            TEXT NOT NULL,
  id              TEXT NOT NULL,
  param           TEXT NOT NULL,
  value           REAL NOT NULL,
  system          TEXT NOT NULL,
  code            TEXT NOT NULL,
  unit            TEXT NOT NULL,
  canonical_value REAL NOT NULL,
  canonical_unit  TEXT NOT NULL,
  PRIMARY KEY (tenant, type, id, param, value, system, code, unit)
) WITHOUT ROWID;
CREATE INDEX quantity_canonical ON quantity_index(tenant, type, param, canonical_unit, canonical_value);
CREATE INDEX quantity_coded ON quantity_index(tenant, type, param, system, code, value);

-- target_type/target_id are '' for a reference known only by url; url is '' for a
-- relative Type/id reference.
CREATE TABLE reference_index (
  tenant      TEXT NOT NULL,
  type        TEXT NOT NULL,
  id          TEXT NOT NULL,
  param       TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target_id   TEXT NOT NULL,
  url         TEXT NOT NULL,
  PRIMARY KEY (tenant, type, id, param, target_type, target_id, url)
) WITHOUT ROWID;
-- Forward: `subject=Patient/1`, chains, _has and _revinclude of one source type and param.
CREATE INDEX reference_lookup ON reference_index(tenant, type, param, target_type, target_id);
-- Reverse: everything that refers to one resource (_revinclude with a wildcard).
CREATE INDEX reference_target ON reference_index(tenant, target_type, target_id);
-- Canonical and absolute references; queries repeat the literal `url <> ''` to use it.
CREATE INDEX reference_url ON reference_index(tenant, type, param, url) WHERE url <> '';

CREATE TABLE uri_index (
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  id     TEXT NOT NULL,
  param  TEXT NOT NULL,
  uri    TEXT NOT NULL,
  PRIMARY KEY (tenant, type, id, param, uri)
) WITHOUT ROWID;
CREATE INDEX uri_lookup ON uri_index(tenant, type, param, uri);

-- The live resources (current, not deleted), each index holding id and the flag columns
-- (SQLite 3.40 reads the table to check a partial index's own WHERE columns otherwise) so
-- that searches and counts never read the table, whose rows carry the bodies: by id (a
-- search driven by a selective clause looks its ids up here; counts), in write order (the
-- default sort, newest first, walks it backwards and stops after a page) and by
-- lastUpdated then seq (the _lastUpdated sort and its tie-break walk it). resource_live_id
-- replaces resource_live, which lacked id.
DROP INDEX resource_live;
CREATE INDEX resource_live_id ON resource_version(tenant, type, deleted, is_current, id)
  WHERE is_current = 1 AND deleted = 0;
CREATE INDEX resource_live_seq ON resource_version(tenant, type, deleted, is_current, seq, id)
  WHERE is_current = 1 AND deleted = 0;
CREATE INDEX resource_live_updated ON resource_version(tenant, type, deleted, is_current, last_updated, seq, id)
  WHERE is_current = 1 AND deleted = 0;
)sql"},
    // The index tables keyed by integers: a row names the live current version it indexes
    // by its seq (index rows exist only for those; a new version clears its predecessor's),
    // and its parameter by `pk`, the key of (tenant, type, param) in search_param. Each table
    // is clustered for lookup, the primary key being (pk, compared values..., seq), so a
    // search clause is one range of the table itself; a *_seq index finds a version's rows
    // to clear them (an append at the end of the index when writing) and to sort by them.
    // Against migration 2's (tenant, type, id, param, ...) text keys with a secondary lookup
    // index per table, a write touches half the random B-tree positions with keys a third
    // as long: 2.3x the write rate and half the size on the Synthea sample.
    {3, R"sql(
CREATE TABLE search_param (
  pk     INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  type   TEXT NOT NULL,
  param  TEXT NOT NULL,
  UNIQUE (tenant, type, param)
);
INSERT INTO search_param (tenant, type, param)
  SELECT tenant, type, param FROM string_index UNION SELECT tenant, type, param FROM token_index
  UNION SELECT tenant, type, param FROM date_index UNION SELECT tenant, type, param FROM number_index
  UNION SELECT tenant, type, param FROM quantity_index UNION SELECT tenant, type, param FROM reference_index
  UNION SELECT tenant, type, param FROM uri_index;

CREATE TABLE string_index_v3 (
  pk         INTEGER NOT NULL,
  normalized TEXT    NOT NULL,
  exact      TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  PRIMARY KEY (pk, normalized, exact, seq)
) WITHOUT ROWID;
INSERT INTO string_index_v3 SELECT p.pk, x.normalized, x.exact, r.seq FROM string_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

-- :text compares `text` within the parameter's range.
CREATE TABLE token_index_v3 (
  pk     INTEGER NOT NULL,
  code   TEXT    NOT NULL,
  system TEXT    NOT NULL,
  text   TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  PRIMARY KEY (pk, code, system, text, seq)
) WITHOUT ROWID;
INSERT INTO token_index_v3 SELECT p.pk, x.code, x.system, x.text, r.seq FROM token_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

-- [low, high]: inclusive instants in microseconds (UTC). eq, lt, le and sa bound `low`
-- (the table); gt, ge and eb bound `high` (date_high).
CREATE TABLE date_index_v3 (
  pk   INTEGER NOT NULL,
  low  INTEGER NOT NULL,
  high INTEGER NOT NULL,
  seq  INTEGER NOT NULL,
  PRIMARY KEY (pk, low, high, seq)
) WITHOUT ROWID;
INSERT INTO date_index_v3 SELECT p.pk, x.low, x.high, r.seq FROM date_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

CREATE TABLE number_index_v3 (
  pk    INTEGER NOT NULL,
  value REAL    NOT NULL,
  seq   INTEGER NOT NULL,
  PRIMARY KEY (pk, value, seq)
) WITHOUT ROWID;
INSERT INTO number_index_v3 SELECT p.pk, x.value, r.seq FROM number_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

-- canonical_unit is '' when the quantity has no UCUM canonical form; such rows are found
-- through quantity_coded.
CREATE TABLE quantity_index_v3 (
  pk              INTEGER NOT NULL,
  canonical_unit  TEXT    NOT NULL,
  canonical_value REAL    NOT NULL,
  system          TEXT    NOT NULL,
  code            TEXT    NOT NULL,
  value           REAL    NOT NULL,
  unit            TEXT    NOT NULL,
  seq             INTEGER NOT NULL,
  PRIMARY KEY (pk, canonical_unit, canonical_value, system, code, value, unit, seq)
) WITHOUT ROWID;
INSERT INTO quantity_index_v3 SELECT p.pk, x.canonical_unit, x.canonical_value, x.system, x.code, x.value, x.unit,
  r.seq FROM quantity_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

-- target_type/target_id are '' for a reference known only by url; url is '' for a
-- relative Type/id reference.
CREATE TABLE reference_index_v3 (
  pk          INTEGER NOT NULL,
  target_type TEXT    NOT NULL,
  target_id   TEXT    NOT NULL,
  url         TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  PRIMARY KEY (pk, target_type, target_id, url, seq)
) WITHOUT ROWID;
INSERT INTO reference_index_v3 SELECT p.pk, x.target_type, x.target_id, x.url, r.seq FROM reference_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

CREATE TABLE uri_index_v3 (
  pk  INTEGER NOT NULL,
  uri TEXT    NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (pk, uri, seq)
) WITHOUT ROWID;
INSERT INTO uri_index_v3 SELECT p.pk, x.uri, r.seq FROM uri_index x
  JOIN search_param p ON p.tenant = x.tenant AND p.type = x.type AND p.param = x.param
  JOIN resource_version r ON r.tenant = x.tenant AND r.type = x.type AND r.id = x.id AND r.is_current = 1;

DROP TABLE string_index;
DROP TABLE token_index;
DROP TABLE date_index;
DROP TABLE number_index;
DROP TABLE quantity_index;
DROP TABLE reference_index;
DROP TABLE uri_index;
ALTER TABLE string_index_v3 RENAME TO string_index;
ALTER TABLE token_index_v3 RENAME TO token_index;
ALTER TABLE date_index_v3 RENAME TO date_index;
ALTER TABLE number_index_v3 RENAME TO number_index;
ALTER TABLE quantity_index_v3 RENAME TO quantity_index;
ALTER TABLE reference_index_v3 RENAME TO reference_index;
ALTER TABLE uri_index_v3 RENAME TO uri_index;

CREATE INDEX string_seq ON string_index(seq);
CREATE INDEX token_seq ON token_index(seq);
CREATE INDEX date_seq ON date_index(seq);
CREATE INDEX date_high ON date_index(pk, high, low);
CREATE INDEX number_seq ON number_index(seq);
CREATE INDEX quantity_seq ON quantity_index(seq);
CREATE INDEX quantity_coded ON quantity_index(pk, system, code, value);
CREATE INDEX reference_seq ON reference_index(seq);
-- Everything that refers to one resource (wildcard _revinclude); rows of other tenants
-- are told apart through their seq.
CREATE INDEX reference_target ON reference_index(target_id, target_type);
-- Canonical and absolute references; queries repeat the literal `url <> ''` to use it.
CREATE INDEX reference_url ON reference_index(pk, url) WHERE url <> '';
CREATE INDEX uri_seq ON uri_index(seq);
)sql"},
    // Full-text search (_text, _content): an FTS5 row per live current version with text,
    // rowid its seq like the other index rows. `scope` holds one word, "k<pk>", pk being the
    // search_param key of (tenant, type, '_content'), so that a MATCH names its tenant and
    // types and never reads another's postings; `narrative` is Resource.text.div without
    // markup, `content` every string of the resource. The table keeps its own copy of the
    // text: SQLite 3.40 (Debian 12) has no contentless_delete, and a contentless table could
    // only drop a row given its old text, which the store does not have when a version is
    // replaced. columnsize=0: nothing is ranked. Resources written before this migration
    // have no text rows until `ehr reindex`.
    {4, R"sql(
CREATE VIRTUAL TABLE text_index USING fts5(scope, narrative, content,
  tokenize = 'unicode61 remove_diacritics 2', columnsize = 0);
)sql"},
    // Token rows unique per (pk, code, system, seq), so that a system|code set counts with
    // count(*) over its range instead of count(DISTINCT seq) and a temporary B-tree (3.6x
    // on the Synthea sample). `text` leaves the key: the texts of one code in one version
    // (display, CodeableConcept.text) are kept together, each preceded by char(31), which
    // :text matches as a word start. An :of-type row (store.h: type system and code, the
    // identifier's value as text) keeps its value in the key, after the type code and
    // char(31), so that it stays one seek.
    {5, R"sql(
CREATE TABLE token_index_v5 (
  pk     INTEGER NOT NULL,
  code   TEXT    NOT NULL,
  system TEXT    NOT NULL,
  seq    INTEGER NOT NULL,
  text   TEXT    NOT NULL,
  PRIMARY KEY (pk, code, system, seq)
) WITHOUT ROWID;
INSERT INTO token_index_v5
  SELECT x.pk, x.code || char(31) || x.text, x.system, x.seq, '' FROM token_index x
  JOIN search_param p ON p.pk = x.pk WHERE p.param LIKE '%:of-type';
INSERT INTO token_index_v5
  SELECT x.pk, x.code, x.system, x.seq, coalesce(group_concat(char(31) || nullif(x.text, ''), ''), '')
  FROM token_index x JOIN search_param p ON p.pk = x.pk WHERE p.param NOT LIKE '%:of-type'
  GROUP BY x.pk, x.code, x.system, x.seq;
DROP TABLE token_index;
ALTER TABLE token_index_v5 RENAME TO token_index;
CREATE INDEX token_seq ON token_index(seq);
)sql"},
    // Token systems by number: a system URI (60 bytes for observation-category) was most of
    // a token row. token_system numbers each system once, for every tenant (a code system is
    // no one's data); '' (no system) is a system like the others. Rows shrink to a third,
    // so a count reads a third of the pages, and compares integers.
    {6, R"sql(
CREATE TABLE token_system (
  id     INTEGER PRIMARY KEY,
  system TEXT NOT NULL UNIQUE
);
INSERT INTO token_system (system) SELECT DISTINCT system FROM token_index ORDER BY system;
CREATE TABLE token_index_v6 (
  pk     INTEGER NOT NULL,
  code   TEXT    NOT NULL,
  system INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  text   TEXT    NOT NULL,
  PRIMARY KEY (pk, code, system, seq)
) WITHOUT ROWID;
INSERT INTO token_index_v6
  SELECT x.pk, x.code, s.id, x.seq, x.text FROM token_index x JOIN token_system s ON s.system = x.system;
DROP TABLE token_index;
ALTER TABLE token_index_v6 RENAME TO token_index;
CREATE INDEX token_seq ON token_index(seq);
)sql"},
    // resource_current duplicated resource_version_key: the current version of a resource is
    // its newest (versions only grow, and a deletion is a version), which the key finds with
    // one seek from the end. One B-tree fewer per write (a random position, by id).
    {7, R"sql(
DROP INDEX resource_current;
)sql"},
    // The audit log (store.h, AuditAppend; audit/README.md) replaces migration 1's unused
    // `audit` table. audit_entry's rowid is the leaf index + 1, without gaps (rows are
    // never deleted: a rolled-back append leaves no hole either). audit_node keeps every
    // complete subtree of the Merkle tree above the leaves (about one per entry), so roots
    // and proofs take O(log n) reads. Triggers make the log append-only through any path:
    // the only change allowed is erasure, setting `patient` and `detail` to NULL. (INSERT OR
    // REPLACE deletes without delete triggers. No path of the server writes so; a trigger
    // refusing it on entries and subtrees halved import throughput, so for those the tree
    // is the guard: `ehr audit verify` names a replaced entry. Heads are refused here.)
    {8, R"sql(
DROP TABLE audit;
CREATE TABLE audit_entry (
  seq      INTEGER PRIMARY KEY,
  tenant   TEXT    NOT NULL,
  recorded INTEGER NOT NULL,
  action   TEXT    NOT NULL,
  agent    TEXT    NOT NULL,
  patient  TEXT,
  core     BLOB    NOT NULL,
  detail   BLOB,
  leaf     BLOB    NOT NULL
);
CREATE INDEX audit_entry_recorded ON audit_entry(tenant, recorded);
CREATE INDEX audit_entry_patient ON audit_entry(tenant, patient) WHERE patient IS NOT NULL;
CREATE INDEX audit_entry_agent ON audit_entry(tenant, agent);
CREATE TABLE audit_node (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE audit_head (
  size      INTEGER PRIMARY KEY,
  timestamp INTEGER NOT NULL,
  root      BLOB    NOT NULL,
  signature BLOB    NOT NULL,
  key_id    TEXT    NOT NULL
);
CREATE TRIGGER audit_head_append_only BEFORE INSERT ON audit_head
  WHEN EXISTS (SELECT 1 FROM audit_head WHERE size = NEW.size)
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
  WHEN NEW.seq IS NOT OLD.seq OR NEW.tenant IS NOT OLD.tenant OR NEW.recorded IS NOT OLD.recorded
    OR NEW.action IS NOT OLD.action OR NEW.agent IS NOT OLD.agent OR NEW.core IS NOT OLD.core
    OR NEW.leaf IS NOT OLD.leaf OR NEW.patient IS NOT NULL AND NEW.patient IS NOT OLD.patient
    OR NEW.detail IS NOT NULL AND NEW.detail IS NOT OLD.detail
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_node_no_delete BEFORE DELETE ON audit_node
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_node_no_update BEFORE UPDATE ON audit_node
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_head_no_update BEFORE UPDATE ON audit_head
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql"},
    // Envelope encryption (keys/README.md): each tenant's data keys by version, wrapped by a
    // key-encryption key that lives outside the database (`kek` names its version); the
    // newest version of a tenant encrypts new bodies. Named secrets (cursor key, blind
    // index key, signing seeds), wrapped the same way.
    {9, R"sql(
CREATE TABLE data_key (
  tenant  TEXT    NOT NULL,
  version INTEGER NOT NULL,
  kek     TEXT    NOT NULL,
  wrapped BLOB    NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY (tenant, version)
) WITHOUT ROWID;
CREATE TABLE secret (
  name    TEXT    PRIMARY KEY,
  kek     TEXT    NOT NULL,
  wrapped BLOB    NOT NULL,
  created INTEGER NOT NULL
) WITHOUT ROWID;
-- The last completed re-encryption: every body up to through_seq is under the key
-- versions and policy `fingerprint` names (key_tables.cc), so a restart does not reread
-- every body to find nothing to do.
CREATE TABLE reencrypt_mark (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint TEXT    NOT NULL,
  through_seq INTEGER NOT NULL
);
)sql"},
    // Retention of the audit log (audit/README.md, archives): segments of old entries moved
    // to signed files, each a complete subtree of the Merkle tree. Recording a segment is
    // what allows its entries to be deleted, and nothing else is; segments are never
    // removed, only their file's digest changes (erasure rewrites the file). The newest
    // entry is never archived, so the log's size stays max(seq). Subtrees are never deleted.
    {10, R"sql(
CREATE TABLE audit_archive (
  first       INTEGER PRIMARY KEY,
  count       INTEGER NOT NULL,
  file        TEXT    NOT NULL,
  sha256      BLOB    NOT NULL,
  subtree     BLOB    NOT NULL,
  archived_at INTEGER NOT NULL
);
CREATE TRIGGER audit_archive_complete_subtree BEFORE INSERT ON audit_archive
  WHEN NEW.count < 2 OR (NEW.count & (NEW.count - 1)) != 0 OR NEW.first % NEW.count != 0
    OR NEW.first + NEW.count >= (SELECT coalesce(max(seq), 0) FROM audit_entry)
    OR EXISTS (SELECT 1 FROM audit_archive WHERE first < NEW.first + NEW.count AND first + count > NEW.first)
  BEGIN SELECT RAISE(ABORT, 'an archived segment is a complete subtree before the newest entry, archived once'); END;
CREATE TRIGGER audit_archive_no_delete BEFORE DELETE ON audit_archive
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_archive_no_update BEFORE UPDATE ON audit_archive
  WHEN NEW.first IS NOT OLD.first OR NEW.count IS NOT OLD.count OR NEW.file IS NOT OLD.file
    OR NEW.subtree IS NOT OLD.subtree OR NEW.archived_at IS NOT OLD.archived_at
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
DROP TRIGGER audit_entry_no_delete;
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
  WHEN coalesce((SELECT first + count FROM audit_archive WHERE first < OLD.seq ORDER BY first DESC LIMIT 1), -1)
       < OLD.seq
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql"},
    // The audit log's entries by patient, indexed behind the log instead of in each append
    // (audit_log.h, IndexAuditPatients): an index on audit_entry(tenant, patient) put each
    // entry at a random place of a B-tree, one page written per entry and commit (a third of
    // an audited read's cost); audit_patient takes the entries after `through` in batches, a
    // page per patient. Searches by patient read audit_patient and scan the entries after
    // `through`. Derived data, kept in step by erasure and archiving.
    {11, R"sql(
DROP INDEX audit_entry_patient;
CREATE TABLE audit_patient (
  tenant  TEXT    NOT NULL,
  patient TEXT    NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (tenant, patient, seq)
) WITHOUT ROWID;
CREATE TABLE audit_patient_mark (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  through INTEGER NOT NULL
);
INSERT INTO audit_patient SELECT tenant, patient, seq FROM audit_entry WHERE patient IS NOT NULL;
INSERT INTO audit_patient_mark VALUES (1, (SELECT coalesce(max(seq), 0) FROM audit_entry));
)sql"},
};

Result<bool> TableExists(Connection& conn, std::string_view name) {
  EHR_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                                               "read schema"));
  stmt.BindText(1, name);
  return stmt.Step();
}

Status RollbackAfter(Connection& conn, Status failure) {
  if (!conn.InAutocommit()) (void)conn.Run("ROLLBACK", "roll back migration");
  return failure;
}

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

Result<int> SchemaVersion(Connection& conn) {
  EHR_ASSIGN_OR_RETURN(bool has_table, TableExists(conn, "schema_version"));
  if (!has_table) return 0;
  EHR_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT coalesce(max(version), 0) FROM schema_version",
                                               "read schema version"));
  EHR_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? static_cast<int>(stmt.ColumnInt(0)) : 0;
}

Status Migrate(Connection& conn, std::span<const Migration> migrations, Micros now) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) return Status::Internal("storage: migrations out of order");
  }
  const int latest = static_cast<int>(migrations.size());

  // One write transaction for the check and every step, so that two processes opening the
  // same file at once cannot both migrate it, and a failing step leaves the file as it was.
  EHR_RETURN_IF_ERROR(conn.Run("BEGIN IMMEDIATE", "begin migration"));
  Result<bool> has_table = TableExists(conn, "schema_version");
  if (!has_table.ok()) return RollbackAfter(conn, has_table.take_status());
  if (!*has_table) {
    Result<Stmt> others =
        conn.Prepare("SELECT 1 FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", "read schema");
    if (!others.ok()) return RollbackAfter(conn, others.take_status());
    Result<bool> any = others->Step();
    if (!any.ok()) return RollbackAfter(conn, any.take_status());
    if (*any) return RollbackAfter(conn, Status::Internal("storage: the file is not an ehr database"));
    Status created = conn.ExecScript(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)",
        "create schema_version");
    if (!created.ok()) return RollbackAfter(conn, created);
  }
  Result<int> current = SchemaVersion(conn);
  if (!current.ok()) return RollbackAfter(conn, current.take_status());
  if (*current > latest) {
    return RollbackAfter(conn, Status::Internal("storage: database schema version " + std::to_string(*current) +
                                                " is newer than this build supports (" +
                                                std::to_string(latest) + ")"));
  }
  for (int v = *current + 1; v <= latest; ++v) {
    Status applied = conn.ExecScript(migrations[v - 1].sql, "apply migration");
    if (!applied.ok()) return RollbackAfter(conn, applied);
    Result<Stmt> record = conn.Prepare("INSERT INTO schema_version (version, applied) VALUES (?1, ?2)",
                                       "record migration");
    if (!record.ok()) return RollbackAfter(conn, record.take_status());
    record->BindInt(1, v).BindInt(2, now);
    Status recorded = record->Run();
    if (!recorded.ok()) return RollbackAfter(conn, recorded);
  }
  Status committed = conn.Run("COMMIT", "commit migration");
  if (!committed.ok()) return RollbackAfter(conn, committed);
  return Status::Ok();
}

}  // namespace ehr::store::sqlite
