#include "store/postgres/schema.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "store/postgres/text_words.h"

namespace ehr::store::pg {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// The tables of a tenant's data carry `tenant` first: the key by which PostgreSQL's
// row-level security (and, on a distributed engine, placement) separates them.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE resource_version (
  seq          bigserial PRIMARY KEY,
  tenant       text    NOT NULL,
  type         text    NOT NULL,
  id           text    NOT NULL,
  version      bigint  NOT NULL,
  last_updated bigint  NOT NULL,
  deleted      boolean NOT NULL,
  method       text    NOT NULL,
  body         bytea,
  is_current   boolean NOT NULL
);
CREATE UNIQUE INDEX resource_version_key ON resource_version (tenant, type, id, version);
CREATE UNIQUE INDEX resource_current ON resource_version (tenant, type, id) WHERE is_current;
CREATE INDEX resource_history_system ON resource_version (tenant, seq);
CREATE INDEX resource_history_type ON resource_version (tenant, type, seq);

CREATE TABLE idempotency (
  tenant       text   NOT NULL,
  key          text   NOT NULL,
  request_hash text   NOT NULL,
  status       integer NOT NULL,
  headers_json text   NOT NULL,
  body         bytea  NOT NULL,
  created      bigint NOT NULL,
  PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_created ON idempotency (created);
)sql"},
    {2, R"sql(
-- The newest version of a resource is its current one; only the writer keeps is_current, so
-- the index need not be unique (the version key is).
DROP INDEX resource_current;
CREATE INDEX resource_current ON resource_version (tenant, type, id) WHERE is_current;
CREATE INDEX resource_live ON resource_version (tenant, type, seq) WHERE is_current AND NOT deleted;

-- Search index rows of live current versions (store::IndexRows), one table per row type,
-- each row naming its version by seq.
CREATE TABLE string_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL,
  normalized text NOT NULL, exact text NOT NULL, seq bigint NOT NULL);
CREATE INDEX string_lookup ON string_index (tenant, type, param, normalized text_pattern_ops);
CREATE INDEX string_seq ON string_index (seq);
CREATE TABLE token_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL,
  system text NOT NULL, code text NOT NULL, text text NOT NULL, seq bigint NOT NULL);
CREATE INDEX token_lookup ON token_index (tenant, type, param, code, system);
CREATE INDEX token_seq ON token_index (seq);
CREATE TABLE date_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL,
  low bigint NOT NULL, high bigint NOT NULL, seq bigint NOT NULL);
CREATE INDEX date_low ON date_index (tenant, type, param, low, high);
CREATE INDEX date_high ON date_index (tenant, type, param, high, low);
CREATE INDEX date_seq ON date_index (seq);
CREATE TABLE number_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL,
  value double precision NOT NULL, seq bigint NOT NULL);
CREATE INDEX number_lookup ON number_index (tenant, type, param, value);
CREATE INDEX number_seq ON number_index (seq);
CREATE TABLE quantity_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL,
  value double precision NOT NULL, system text NOT NULL, code text NOT NULL, unit text NOT NULL,
  canonical_unit text NOT NULL, canonical_value double precision NOT NULL, seq bigint NOT NULL);
CREATE INDEX quantity_canonical ON quantity_index (tenant, type, param, canonical_unit, canonical_value);
CREATE INDEX quantity_coded ON quantity_index (tenant, type, param, code, system, value);
CREATE INDEX quantity_seq ON quantity_index (seq);
CREATE TABLE reference_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL,
  target_type text NOT NULL, target_id text NOT NULL, url text NOT NULL, seq bigint NOT NULL);
CREATE INDEX reference_lookup ON reference_index (tenant, type, param, target_id, target_type);
CREATE INDEX reference_target ON reference_index (tenant, target_id, target_type);
CREATE INDEX reference_url ON reference_index (tenant, type, param, url) WHERE url <> '';
CREATE INDEX reference_seq ON reference_index (seq);
CREATE TABLE uri_index (
  tenant text NOT NULL, type text NOT NULL, param text NOT NULL, uri text NOT NULL, seq bigint NOT NULL);
CREATE INDEX uri_lookup ON uri_index (tenant, type, param, uri);
CREATE INDEX uri_seq ON uri_index (seq);
-- Full text (_text, _content): one row per live current version.
CREATE TABLE text_index (
  tenant text NOT NULL, type text NOT NULL, seq bigint PRIMARY KEY,
  narrative tsvector NOT NULL, content tsvector NOT NULL);
CREATE INDEX text_narrative ON text_index USING gin (narrative);
CREATE INDEX text_content ON text_index USING gin (content);

-- Not tenant data (no row-level security): the tenants that have written, for the work
-- that goes over all of them; and the newest transaction time (the clock's floor).
CREATE TABLE tenant (name text PRIMARY KEY);
CREATE TABLE store_clock (one boolean PRIMARY KEY DEFAULT true CHECK (one), last_write bigint NOT NULL);
INSERT INTO store_clock (last_write) VALUES (0);
)sql"},
    // The audit log (store.h AuditAppend; audit/README.md): one Merkle tree over every
    // tenant's entries, so its tables are shared (no row-level security); the personal
    // part of an entry (detail) is sealed when the store has keys. Append-only by
    // privileges (the server's role may insert, and update only patient and detail) and by
    // triggers: an update may only erase (set patient and detail to NULL), and only the
    // entries of an archived segment may be deleted.
    {3, R"sql(
CREATE TABLE audit_entry (
  seq      bigint PRIMARY KEY,
  tenant   text   NOT NULL,
  recorded bigint NOT NULL,
  action   text   NOT NULL,
  agent    text   NOT NULL,
  patient  text,
  core     bytea  NOT NULL,
  detail   bytea,
  leaf     bytea  NOT NULL
);
CREATE INDEX audit_entry_recorded ON audit_entry (tenant, recorded);
CREATE INDEX audit_entry_patient ON audit_entry (tenant, patient) WHERE patient IS NOT NULL;
CREATE INDEX audit_entry_agent ON audit_entry (tenant, agent);
CREATE TABLE audit_node (
  level integer NOT NULL,
  idx   bigint  NOT NULL,
  hash  bytea   NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE audit_head (
  size      bigint PRIMARY KEY,
  timestamp bigint NOT NULL,
  root      bytea  NOT NULL,
  signature bytea  NOT NULL,
  key_id    text   NOT NULL
);
CREATE TABLE audit_archive (
  first       bigint PRIMARY KEY,
  count       bigint NOT NULL,
  file        text   NOT NULL,
  sha256      bytea  NOT NULL,
  subtree     bytea  NOT NULL,
  archived_at bigint NOT NULL,
  CHECK (count >= 2 AND (count & (count - 1)) = 0 AND first % count = 0)
);
CREATE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM audit_archive WHERE first < OLD.seq AND first + count >= OLD.seq) THEN
      RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = '23514';
    END IF;
    RETURN OLD;
  END IF;
  IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.tenant IS DISTINCT FROM OLD.tenant
     OR NEW.recorded IS DISTINCT FROM OLD.recorded OR NEW.action IS DISTINCT FROM OLD.action
     OR NEW.agent IS DISTINCT FROM OLD.agent OR NEW.core IS DISTINCT FROM OLD.core
     OR NEW.leaf IS DISTINCT FROM OLD.leaf
     OR (NEW.patient IS NOT NULL AND NEW.patient IS DISTINCT FROM OLD.patient)
     OR (NEW.detail IS NOT NULL AND NEW.detail IS DISTINCT FROM OLD.detail) THEN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_entry_guard BEFORE UPDATE OR DELETE ON audit_entry
  FOR EACH ROW EXECUTE FUNCTION audit_entry_guard();
CREATE FUNCTION audit_archive_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.first + NEW.count >= (SELECT coalesce(max(seq), 0) FROM audit_entry)
     OR EXISTS (SELECT 1 FROM audit_archive WHERE first < NEW.first + NEW.count AND first + count > NEW.first) THEN
    RAISE EXCEPTION 'an archived segment is a complete subtree before the newest entry, archived once'
      USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_archive_guard BEFORE INSERT ON audit_archive
  FOR EACH ROW EXECUTE FUNCTION audit_archive_guard();
)sql"},
    // Search (search.h) as SQLite answers it. Text that is compared or sorted compares byte
    // by byte (SQLite's BINARY), whatever the database's locale. Full text is words
    // (text_words.h): each word of a version once in text_word, found by a btree (row-level
    // security lets no index serve an operator that is not leakproof, as @@ and GIN are
    // not), and every word in text_index, where phrases are matched. Rows written before
    // have no words: `ehr reindex` makes them.
    {4, R"sql(
ALTER TABLE string_index ALTER COLUMN param TYPE text COLLATE "C",
  ALTER COLUMN normalized TYPE text COLLATE "C", ALTER COLUMN exact TYPE text COLLATE "C";
ALTER TABLE token_index ALTER COLUMN param TYPE text COLLATE "C", ALTER COLUMN code TYPE text COLLATE "C";
ALTER TABLE date_index ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE number_index ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE quantity_index ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE reference_index ALTER COLUMN param TYPE text COLLATE "C";
ALTER TABLE uri_index ALTER COLUMN param TYPE text COLLATE "C", ALTER COLUMN uri TYPE text COLLATE "C";
ALTER TABLE text_index DROP COLUMN narrative, DROP COLUMN content,
  ADD COLUMN narrative_words text NOT NULL DEFAULT '', ADD COLUMN content_words text NOT NULL DEFAULT '';
CREATE TABLE text_word (
  tenant text NOT NULL, type text NOT NULL, field "char" NOT NULL, word text COLLATE "C" NOT NULL,
  seq bigint NOT NULL);
CREATE INDEX text_word_lookup ON text_word (tenant, type, field, word, seq);
CREATE INDEX text_word_seq ON text_word (seq);
)sql"},
    // Envelope encryption (store/body_cipher.h; keys/README.md): each tenant's data keys by
    // version, wrapped by a key-encryption key kept outside the database; named secrets
    // wrapped the same way; the last complete re-encryption pass. Wrapped keys only: shared
    // by every tenant (the writer reads every tenant's newest version), no row-level security.
    {5, R"sql(
CREATE TABLE data_key (
  tenant  text    NOT NULL,
  version integer NOT NULL,
  kek     text    NOT NULL,
  wrapped bytea   NOT NULL,
  created bigint  NOT NULL,
  PRIMARY KEY (tenant, version)
);
CREATE TABLE secret (
  name    text   PRIMARY KEY,
  kek     text   NOT NULL,
  wrapped bytea  NOT NULL,
  created bigint NOT NULL
);
CREATE TABLE reencrypt_mark (
  one         boolean PRIMARY KEY DEFAULT true CHECK (one),
  fingerprint text    NOT NULL,
  through_seq bigint  NOT NULL
);
)sql"},
    // text_word keeps a number per word (text_words.h WordHash: type, field and word in one
    // bigint) instead of the three, and one index instead of two (a version's rows are found
    // by its words': queries.cc), for the table that takes most rows of a write. Existing rows are converted here ({word_hash}:
    // the same number computed in SQL), with row-level security lifted for the owner meanwhile.
    {6, R"sql(
ALTER TABLE text_word NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
ALTER TABLE text_word ADD COLUMN hash bigint;
UPDATE text_word SET hash = {word_hash};
DROP INDEX text_word_lookup, text_word_seq;
ALTER TABLE text_word DROP COLUMN type, DROP COLUMN field, DROP COLUMN word, ALTER COLUMN hash SET NOT NULL;
CREATE INDEX text_word_lookup ON text_word (tenant, hash, seq);
ALTER TABLE text_word ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
)sql"},
    // The lookup indexes carry seq (and the reverse one what a reverse lookup returns), so
    // that a search can read its matches from the index alone (an index-only scan) instead
    // of visiting each row: counting 194,501 Observations by category took 870 ms for a
    // 10 ms hand-written count of the index (bench/RESULTS.md, 2026-11-24).
    {7, R"sql(
DROP INDEX string_lookup, token_lookup, date_low, date_high, number_lookup, quantity_canonical, quantity_coded,
  reference_lookup, reference_target, uri_lookup;
CREATE INDEX string_lookup ON string_index (tenant, type, param, normalized text_pattern_ops) INCLUDE (seq);
CREATE INDEX token_lookup ON token_index (tenant, type, param, code, system) INCLUDE (seq);
CREATE INDEX date_low ON date_index (tenant, type, param, low, high) INCLUDE (seq);
CREATE INDEX date_high ON date_index (tenant, type, param, high, low) INCLUDE (seq);
CREATE INDEX number_lookup ON number_index (tenant, type, param, value) INCLUDE (seq);
CREATE INDEX quantity_canonical ON quantity_index (tenant, type, param, canonical_unit, canonical_value) INCLUDE (seq);
CREATE INDEX quantity_coded ON quantity_index (tenant, type, param, code, system, value) INCLUDE (seq);
CREATE INDEX reference_lookup ON reference_index (tenant, type, param, target_id, target_type) INCLUDE (seq);
CREATE INDEX reference_target ON reference_index (tenant, target_id, target_type) INCLUDE (type, param, seq);
CREATE INDEX uri_lookup ON uri_index (tenant, type, param, uri) INCLUDE (seq);
)sql"},
    // A version's words (text_words.h WordHash) move into its text_index row, as one array
    // under a GIN index, instead of a row each in text_word: a Synthea resource has about 60,
    // which took two thirds of the writer's time in an import (3.5 us a row, 1.4 a word in an
    // array) and 7.5 of the 14 GB of 10,000 patients. Row-level security lets no index serve
    // the array operators (not leakproof), so a search reads the rows that hold a word (at
    // most so many; NULL: all) from text_matches, a function of the owner that reads the
    // table past its policy and applies the same condition itself (the session's tenant); the table's policy is no longer
    // forced on its owner, and still binds the application's role. Existing rows are
    // converted here.
    {8, R"sql(
ALTER TABLE text_index ADD COLUMN words bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE text_index NO FORCE ROW LEVEL SECURITY;
ALTER TABLE text_word NO FORCE ROW LEVEL SECURITY;
UPDATE text_index t SET words = w.words
  FROM (SELECT seq, array_agg(DISTINCT hash) AS words FROM text_word GROUP BY seq) w WHERE w.seq = t.seq;
DROP TABLE text_word;
CREATE INDEX text_words ON text_index USING gin (words);
DO $$ BEGIN
  EXECUTE format('CREATE FUNCTION text_matches(any_word bigint[], at_most bigint) RETURNS TABLE (seq bigint, '
                 'type text, words bigint[], narrative_words text, content_words text) LANGUAGE sql STABLE '
                 'SECURITY DEFINER SET search_path = %I, pg_temp ROWS 100 AS $f$ SELECT t.seq, t.type, t.words, '
                 't.narrative_words, t.content_words FROM text_index t WHERE t.tenant = '
                 'current_setting(''ehr.tenant'', true) AND t.words && any_word LIMIT at_most $f$',
                 (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.oid = 'text_index'::regclass));
END $$;
REVOKE ALL ON FUNCTION text_matches(bigint[], bigint) FROM PUBLIC;
)sql"},
    // The identity module's accounts (store/accounts.h; `--accounts postgres`): the same
    // tables as the SQLite account database, prefixed, shared by every tenant (a user may act
    // in several), so that a server on PostgreSQL keeps no credentials in its data
    // directory. Kept apart from the clinical tables by their prefix (a research copy
    // excludes `account_*`).
    {9, R"sql(
CREATE TABLE account_user (
  id               text    PRIMARY KEY,
  username         text    NOT NULL UNIQUE,
  password_hash    text    NOT NULL,
  roles            text    NOT NULL,
  tenants          text    NOT NULL,
  fhir_user        text    NOT NULL,
  disabled         boolean NOT NULL,
  failed_logins    integer NOT NULL,
  locked_until     bigint  NOT NULL,
  totp_secret      bytea   NOT NULL,
  totp_confirmed   boolean NOT NULL,
  totp_last_step   bigint  NOT NULL,
  recovery_codes   text    NOT NULL,
  created          bigint  NOT NULL,
  password_changed bigint  NOT NULL
);
CREATE TABLE account_session (
  id        text    PRIMARY KEY,
  user_id   text    NOT NULL,
  tenant    text    NOT NULL,
  scope     text    NOT NULL,
  created   bigint  NOT NULL,
  last_seen bigint  NOT NULL,
  expires   bigint  NOT NULL,
  revoked   boolean NOT NULL,
  client_id text    NOT NULL,
  patient   text    NOT NULL,
  encounter text    NOT NULL
);
CREATE INDEX account_session_by_user ON account_session (user_id);
CREATE TABLE account_refresh_token (
  hash       text    PRIMARY KEY,
  session_id text    NOT NULL,
  spent      boolean NOT NULL
);
CREATE TABLE account_client (
  id            text    PRIMARY KEY,
  name          text    NOT NULL,
  redirect_uris text    NOT NULL,
  secret_hash   text    NOT NULL,
  jwks          text    NOT NULL,
  scope         text    NOT NULL,
  roles         text    NOT NULL,
  tenant        text    NOT NULL,
  disabled      boolean NOT NULL,
  created       bigint  NOT NULL
);
CREATE TABLE account_break_glass (
  id         text   PRIMARY KEY,
  tenant     text   NOT NULL,
  user_id    text   NOT NULL,
  username   text   NOT NULL,
  session_id text   NOT NULL,
  reason     text   NOT NULL,
  started    bigint NOT NULL,
  expires    bigint NOT NULL
);
CREATE INDEX account_break_glass_by_session ON account_break_glass (session_id, expires);
CREATE INDEX account_break_glass_by_start ON account_break_glass (started);
CREATE TABLE account_signing_key (
  kid         text   PRIMARY KEY,
  private_pem text   NOT NULL,
  created     bigint NOT NULL,
  retired     bigint NOT NULL
);
)sql"},
};

// Tables whose rows belong to one tenant, by the migration that made them: row-level
// security on each.
struct TenantTable {
  int migration;
  const char* name;
  int dropped = 0;  // the migration that dropped it; 0: none
};
constexpr TenantTable kTenantTables[] = {
    {1, "resource_version"}, {1, "idempotency"},     {2, "string_index"},    {2, "token_index"},
    {2, "date_index"},       {2, "number_index"},    {2, "quantity_index"},  {2, "reference_index"},
    {2, "uri_index"},        {2, "text_index"},      {4, "text_word", 8},
};
// Tables shared by every tenant (the server reads and writes them whatever its tenant).
constexpr const char* kSharedTables[] = {"tenant", "store_clock", "data_key", "secret", "reencrypt_mark"};

bool IsIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return !std::isdigit(static_cast<unsigned char>(name.front()));
}

}  // namespace

Result<int> Migrate(Connection& owner, const std::string& app_role, int target) {
  if (!IsIdentifier(app_role)) return Status::Invalid("postgres: the application role must be a plain lower-case name");
  EHR_RETURN_IF_ERROR(owner.Exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"));
  EHR_ASSIGN_OR_RETURN(Rows found, owner.Query("SELECT coalesce(max(version), 0) FROM schema_version"));
  const int before = static_cast<int>(found.Int(0, 0));
  if (before > kSchemaVersion) {
    return Status::Invalid("postgres: the database has schema version " + std::to_string(before) +
                           ", newer than this ehr (" + std::to_string(kSchemaVersion) + ")");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= before || m.version > target) continue;
    std::string sql = std::string("BEGIN;\n") + m.sql;
    if (size_t at = sql.find("{word_hash}"); at != std::string::npos) {
      sql.replace(at, 11, WordHashSql("type", "field::text", "word"));
    }
    for (const TenantTable& table : kTenantTables) {
      if (table.migration != m.version) continue;
      const std::string t(table.name);
      sql += "ALTER TABLE " + t + " ENABLE ROW LEVEL SECURITY;\n";
      sql += "ALTER TABLE " + t + " FORCE ROW LEVEL SECURITY;\n";
      // current_setting(..., true) is NULL when unset: NULL admits no row.
      sql += "CREATE POLICY tenant_isolation ON " + t +
             " USING (tenant = current_setting('ehr.tenant', true))"
             " WITH CHECK (tenant = current_setting('ehr.tenant', true));\n";
    }
    sql += "INSERT INTO schema_version (version) VALUES (" + std::to_string(m.version) + ");\nCOMMIT;";
    if (Status st = owner.Exec(sql); !st.ok()) {
      (void)owner.Exec("ROLLBACK");
      return st;
    }
  }
  const int reached = std::max(before, std::min(target, kSchemaVersion));
  std::string grants = "BEGIN;\n";
  for (const TenantTable& table : kTenantTables) {
    if (table.migration > reached || (table.dropped != 0 && table.dropped <= reached)) continue;
    grants += "GRANT SELECT, INSERT, UPDATE, DELETE ON " + std::string(table.name) + " TO " + app_role + ";\n";
  }
  if (reached >= 8) grants += "GRANT EXECUTE ON FUNCTION text_matches(bigint[], bigint) TO " + app_role + ";\n";
  for (const char* table : kSharedTables) {
    grants += "GRANT SELECT, INSERT, UPDATE ON " + std::string(table) + " TO " + app_role + ";\n";
  }
  // Accounts (migration 9): signing keys are deleted once retired long enough; sessions,
  // tokens and users are changed in place, as in the SQLite account database.
  if (reached >= 9) {
    for (const char* table : {"account_user", "account_session", "account_refresh_token", "account_client",
                              "account_break_glass", "account_signing_key"}) {
      grants += "GRANT SELECT, INSERT, UPDATE, DELETE ON " + std::string(table) + " TO " + app_role + ";\n";
    }
  }
  // Data key versions nothing is sealed with any more are deleted (`ehr keys retire`).
  grants += "GRANT DELETE ON data_key TO " + app_role + ";\n";
  // The audit log: appended to, never changed, but for erasure and archiving (migration 3).
  grants += "GRANT SELECT, INSERT ON audit_entry, audit_node, audit_head, audit_archive TO " + app_role + ";\n";
  grants += "GRANT UPDATE (patient, detail), DELETE ON audit_entry TO " + app_role + ";\n";
  grants += "GRANT UPDATE (sha256) ON audit_archive TO " + app_role + ";\n";
  grants += "GRANT SELECT ON schema_version TO " + app_role + ";\n";
  grants += "GRANT USAGE, SELECT ON SEQUENCE resource_version_seq_seq TO " + app_role + ";\nCOMMIT;";
  EHR_RETURN_IF_ERROR(owner.Exec(grants));
  return before;
}

Status SetTenant(Connection& conn, const std::string& tenant) {
  if (tenant.empty()) return Status::Invalid("postgres: a tenant is required");
  return conn.Query("SELECT set_config('ehr.tenant', $1, true)", {tenant}).status();
}

}  // namespace ehr::store::pg
