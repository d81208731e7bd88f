#!/usr/bin/env bash
# The search benchmarks, one command: `make bench-search` (or bench/search/run.sh BUILD_DIR).
# Grows the Synthea sample to EHR_BENCH_PATIENTS patients (replicate.py: default 10,000,
# about a million resources; the issue's 100,000 takes about ten times as long to import),
# and for each backend of EHR_BENCH_BACKENDS (default "sqlite postgres"; PostgreSQL is a
# throwaway cluster made here: bench/postgres/cluster.sh) imports it (timed), serves it,
# and runs search_bench against the server and the same database. EHR_BENCH_DB=DIR reuses
# a SQLite data directory from an earlier run (kept with EHR_BENCH_KEEP=1). Each backend's
# results, and the p95 of each query on both with the ratio PostgreSQL / SQLite, are
# printed and appended to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EHR="$BUILD/ehr"
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
PATIENTS=${EHR_BENCH_PATIENTS:-10000}
REQUESTS=${EHR_BENCH_REQUESTS:-500}
PORT=${EHR_BENCH_PORT:-18182}
PGPORT=${EHR_BENCH_PG_PORT:-15433}
BACKENDS=${EHR_BENCH_BACKENDS:-sqlite postgres}
WORK=$(mktemp -d /tmp/ehr-search-bench-XXXXXX)
KEEP=${EHR_BENCH_KEEP:-}
SERVER_PID=""
# shellcheck source=bench/postgres/cluster.sh
source bench/postgres/cluster.sh
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  pg_cluster_stop
  [ -n "$KEEP" ] || rm -rf "$WORK"
}
trap cleanup EXIT

FILES="$WORK/files"
population() { # the replicated files, made once
  [ -d "$FILES" ] && return 0
  echo "== population: $PATIENTS patients from $SYNTHEA"
  python3 bench/search/replicate.py "$SYNTHEA" "$FILES" "$PATIENTS"
}

import() { # label, then ehr import arguments; sets IMPORT_LINE
  local label=$1
  shift
  population
  local t0 t1
  t0=$(date +%s.%N)
  "$EHR" import "$@" "$FILES" 2> "$WORK/import-$label.log"
  t1=$(date +%s.%N)
  tail -1 "$WORK/import-$label.log" | tr '\r' '\n' | tail -1
  IMPORT_LINE=$(printf "import of the population on %s: %.0f s" "$label" "$(echo "$t1 - $t0" | bc -l)")
  echo "$IMPORT_LINE"
  sync
}

measure() { # label, database for search_bench, then ehr serve arguments; prints search_bench's output
  local label=$1 database=$2
  shift 2
  "$EHR" serve --role vault --listen "127.0.0.1:$PORT" --auth off --access-log off "$@" > "$WORK/server-$label.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
  "$BUILD/bench/search/search_bench" "127.0.0.1:$PORT" "$database" "$REQUESTS"
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2> /dev/null || true
  SERVER_PID=""
}

declare -A OUT IMPORTED
for backend in $BACKENDS; do
  IMPORT_LINE=""
  case $backend in
    sqlite)
      DATA=${EHR_BENCH_DB:-}
      if [ -z "$DATA" ]; then
        DATA="$WORK/data-sqlite"
        import sqlite --data "$DATA"
        IMPORT_LINE="$IMPORT_LINE, database $(du -h "$DATA/ehr.db" | cut -f1)"
      fi
      OUT[sqlite]=$(measure sqlite "$DATA/ehr.db" --data "$DATA")
      ;;
    postgres)
      echo "== PostgreSQL: a throwaway cluster in $WORK/pg, port $PGPORT"
      pg_cluster_start "$WORK" "$PGPORT"
      import postgres --data "$WORK/data-postgres" --store "$STORE" --store-migrate "$MIGRATE"
      # What a DBA does after a bulk load (store/postgres/README.md): the planner's statistics,
      # and the visibility map that index-only scans need, without waiting for autovacuum.
      psql -q "$PG_ADMIN" -c "VACUUM ANALYZE" > /dev/null
      IMPORT_LINE="$IMPORT_LINE, database $(psql -qtA "$PG_ADMIN" -c "SELECT pg_size_pretty(pg_database_size('ehr'))")"
      OUT[postgres]=$(measure postgres "$PG_ADMIN" --data "$WORK/data-postgres" --store "$STORE")
      pg_cluster_stop
      ;;
    *) echo "unknown backend $backend (sqlite, postgres)" >&2; exit 2 ;;
  esac
  IMPORTED[$backend]=$IMPORT_LINE
  echo "== $backend"
  echo "${OUT[$backend]}"
done

# The p95 of each query (the count: its median) on both backends, and the ratio.
compare() {
  python3 - "$WORK/out-sqlite" "$WORK/out-postgres" <<'PY'
import re, sys
def rows(path):
    out = {}
    for line in open(path):
        cells = [c.strip().replace("\0", "\\|") for c in line.replace("\\|", "\0").split("|")]
        if len(cells) < 4 or not cells[1] or cells[1] == "benchmark" or cells[1].startswith("---"):
            continue
        m = re.search(r"p95 ([0-9.]+) ms", cells[2]) or re.search(r"\(([0-9.]+) ms\)", cells[2])
        if m:
            out[re.sub(r" \([0-9]+\)$", "", cells[1])] = float(m.group(1))
    return out
sq, pg = rows(sys.argv[1]), rows(sys.argv[2])
print("| query | SQLite p95 ms | PostgreSQL p95 ms | PostgreSQL / SQLite |")
print("|---|---|---|---|")
for name, s in sq.items():
    p = pg.get(name)
    if p is not None:
        print(f"| {name} | {s:.2f} | {p:.2f} | {p / s:.2f} |")
PY
}
COMPARISON=""
if [ -n "${OUT[sqlite]:-}" ] && [ -n "${OUT[postgres]:-}" ]; then
  echo "${OUT[sqlite]}" > "$WORK/out-sqlite"
  echo "${OUT[postgres]}" > "$WORK/out-postgres"
  COMPARISON=$(compare)
  echo "$COMPARISON"
fi
{
  echo
  echo "### $(date -u +%Y-%m-%dT%H:%MZ) — search ($BACKENDS) — $(uname -m), $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(git rev-parse --short HEAD 2>/dev/null)"
  for backend in $BACKENDS; do
    echo
    echo "On $backend. ${IMPORTED[$backend]#, }"
    echo
    echo "${OUT[$backend]}" | sed -n '1p'
    echo "${OUT[$backend]}" | sed -n '2,$p'
  done
  if [ -n "$COMPARISON" ]; then
    echo
    echo "$COMPARISON"
  fi
} >> bench/RESULTS.md
