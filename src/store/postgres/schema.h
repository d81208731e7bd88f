// The PostgreSQL schema (issue 8), versioned like SQLite's (store/sqlite/schema.h): the same
// concepts in PostgreSQL types. Tenant isolation is enforced by PostgreSQL itself as well as
// by the application: every tenant-owned table has row-level security, forced even for its
// owner, with a policy admitting only the rows of the transaction's tenant, the setting
// `ehr.tenant` (SetTenant). A session that has not set it sees and writes nothing.
#pragma once

#include <string>

#include "core/status.h"
#include "store/postgres/pg.h"

namespace ehr::store::pg {

inline constexpr int kSchemaVersion = 9;

// Brings the database to kSchemaVersion, one transaction per migration, as its owner;
// `app_role` (an existing role, not a superuser: superusers bypass row-level security) gets
// the rights the server needs on every table. Returns the version found before. `target`:
// an older version to stop at (tests of a migration's conversion of existing rows).
Result<int> Migrate(Connection& owner, const std::string& app_role, int target = kSchemaVersion);

// The tenant of the current transaction (inside BEGIN ... COMMIT; it lapses at the end).
Status SetTenant(Connection& conn, const std::string& tenant);

}  // namespace ehr::store::pg
