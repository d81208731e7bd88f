#include "store/postgres/schema.h"

#include <cctype>

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
};

// Tables whose rows belong to one tenant: row-level security on each.
constexpr const char* kTenantTables[] = {"resource_version", "idempotency"};

bool IsIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return !std::isdigit(static_cast<unsigned char>(name.front()));
}

}  // namespace

Result<int> Migrate(Connection& owner, const std::string& app_role) {
  if (!IsIdentifier(app_role)) return Status::Invalid("postgres: the application role must be a plain lower-case name");
  EHR_RETURN_IF_ERROR(owner.Exec("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"));
  EHR_ASSIGN_OR_RETURN(Rows found, owner.Query("SELECT coalesce(max(version), 0) FROM schema_version"));
  const int before = static_cast<int>(found.Int(0, 0));
  if (before > kSchemaVersion) {
    return Status::Invalid("postgres: the database has schema version " + std::to_string(before) +
                           ", newer than this ehr (" + std::to_string(kSchemaVersion) + ")");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= before) continue;
    std::string sql = std::string("BEGIN;\n") + m.sql;
    if (m.version == 1) {
      for (const char* table : kTenantTables) {
        const std::string t(table);
        sql += "ALTER TABLE " + t + " ENABLE ROW LEVEL SECURITY;\n";
        sql += "ALTER TABLE " + t + " FORCE ROW LEVEL SECURITY;\n";
        // current_setting(..., true) is NULL when unset: NULL admits no row.
        sql += "CREATE POLICY tenant_isolation ON " + t +
               " USING (tenant = current_setting('ehr.tenant', true))"
               " WITH CHECK (tenant = current_setting('ehr.tenant', true));\n";
      }
    }
    sql += "INSERT INTO schema_version (version) VALUES (" + std::to_string(m.version) + ");\nCOMMIT;";
    if (Status st = owner.Exec(sql); !st.ok()) {
      (void)owner.Exec("ROLLBACK");
      return st;
    }
  }
  std::string grants = "BEGIN;\n";
  for (const char* table : kTenantTables) {
    grants += "GRANT SELECT, INSERT, UPDATE, DELETE ON " + std::string(table) + " TO " + app_role + ";\n";
  }
  grants += "GRANT SELECT ON schema_version TO " + app_role + ";\n";
  grants += "GRANT USAGE ON SEQUENCE resource_version_seq_seq TO " + app_role + ";\nCOMMIT;";
  EHR_RETURN_IF_ERROR(owner.Exec(grants));
  return before;
}

Status SetTenant(Connection& conn, const std::string& tenant) {
  if (tenant.empty()) return Status::Invalid("postgres: a tenant is required");
  return conn.Query("SELECT set_config('ehr.tenant', $1, true)", {tenant}).status();
}

}  // namespace ehr::store::pg
