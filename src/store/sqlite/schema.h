// The SQLite schema as an ordered list of migrations, and the code that applies them.
//
// `schema_version` records one row per applied migration; the database's version is the
// highest. Opening a database applies every newer migration in one transaction; a database
// whose version is newer than the newest migration known to this build is refused, as is
// a non-empty SQLite file that has no schema_version table (not an ehr database).
#pragma once

#include <span>

#include "core/clock.h"
#include "core/status.h"
#include "store/sqlite/db.h"

namespace ehr::store::sqlite {

struct Migration {
  int version;      // 1, 2, 3... without gaps
  const char* sql;  // one or more statements, run inside the migration transaction
};

// The migrations of this build, oldest first.
std::span<const Migration> Migrations();

// Version of the database on `conn`: 0 for an empty database.
Result<int> SchemaVersion(Connection& conn);

// Brings the database up to the last of `migrations` (Migrations() in production; tests
// pass longer lists to exercise upgrades). `now` is recorded with each applied migration.
Status Migrate(Connection& conn, std::span<const Migration> migrations, Micros now);

}  // namespace ehr::store::sqlite
