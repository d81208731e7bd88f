#!/usr/bin/env bash
# Restore drill for an ehr database on PostgreSQL (issue 8; store/postgres/README.md):
#
#   scripts/pg-restore-drill.sh 'host=... port=... user=... dbname=ehr' [DUMP_FILE]
#
# 1. Backs the database up with pg_dump --format=custom: one consistent snapshot, taken
#    while ehr runs (writes go on; the dump holds every transaction committed before it began).
#    DUMP_FILE (default: a temporary file, removed at the end) is where it goes.
# 2. Restores the dump into a scratch database on the same server (pg_restore).
# 3. Verifies the restore against the source: the schema version, then every table row by
#    row (count and digest of its rows): resource versions with their bodies, index rows,
#    idempotency records, the audit log with its subtrees, signed heads and archived segments.
#    Writes that committed after the dump began are in the source and not in the copy: run
#    the drill on a quiet database, or on a replica, to compare exactly.
# 4. Drops the scratch database (EHR_DRILL_KEEP=1 keeps it; EHR_DRILL_DATABASE names it).
#
# The connection (libpq keyword form) must be a superuser's or a backup role's that bypasses
# row-level security (CREATE ROLE ehr_backup LOGIN BYPASSRLS; GRANT pg_read_all_data TO
# ehr_backup; plus CREATEDB for the drill): the server's own role sees one tenant at a time,
# and pg_dump refuses to dump rows a policy would hide. Exit status 0: the copy is complete.
set -euo pipefail
SOURCE=${1:?usage: pg-restore-drill.sh 'CONNINFO' [DUMP_FILE]}
DUMP=${2:-}
SCRATCH=${EHR_DRILL_DATABASE:-"ehr_drill_$(date +%s)_$$"}
CLEAN_DUMP=""
if [ -z "$DUMP" ]; then DUMP=$(mktemp /tmp/ehr-drill-XXXXXX.dump); CLEAN_DUMP=$DUMP; fi
cleanup() {
  [ -n "$CLEAN_DUMP" ] && rm -f "$CLEAN_DUMP"
  [ -n "${EHR_DRILL_KEEP:-}" ] || psql "$SOURCE" -qAtX -c "DROP DATABASE IF EXISTS $SCRATCH" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql() { command psql -v ON_ERROR_STOP=1 "$@"; }

echo "backup: pg_dump --format=custom -> $DUMP"
pg_dump --format=custom --no-password --file="$DUMP" "$SOURCE"
echo "restore: into scratch database $SCRATCH"
psql "$SOURCE" -qAtX -c "CREATE DATABASE $SCRATCH" >/dev/null
pg_restore --no-password --exit-on-error --dbname="$SOURCE dbname=$SCRATCH" "$DUMP"

# Count and digest of every row of a table, independent of the rows' physical order.
digest() { # conninfo table
  psql "$1" -qAtX -c "SELECT count(*) || ' ' || md5(coalesce(string_agg(h, '' ORDER BY h), ''))
                      FROM (SELECT md5(t::text) AS h FROM $2 t) d"
}
tables=$(psql "$SOURCE" -qAtX -c "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
[ -n "$tables" ] || { echo "no tables in the source database" >&2; exit 1; }
failed=0
for table in $tables; do
  a=$(digest "$SOURCE" "$table")
  b=$(digest "$SOURCE dbname=$SCRATCH" "$table")
  if [ "$a" = "$b" ]; then
    echo "  ok      $table (${a%% *} rows)"
  else
    echo "  DIFFERS $table: source ${a%% *} rows, restored ${b%% *} rows" >&2
    failed=1
  fi
done
version=$(psql "$SOURCE dbname=$SCRATCH" -qAtX -c "SELECT max(version) FROM schema_version")
echo "schema version of the copy: $version"
if [ "$failed" != 0 ]; then echo "restore drill FAILED" >&2; exit 1; fi
echo "restore drill passed: every table of the copy equals the source"
