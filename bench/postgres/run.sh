#!/usr/bin/env bash
# The foundation figures on SQLite and on PostgreSQL in one run (issue 8): `make bench-postgres`
# (or bench/postgres/run.sh BUILD_DIR). For each backend, a fresh `ehr serve --role vault`:
#   import   the Synthea transaction Bundles POSTed to /fhir (2 at a time), resources/s
#            (then, on PostgreSQL, VACUUM ANALYZE and CHECKPOINT, as after any bulk load)
#   read     GET Patient by id, wrk, 64 connections
#   create   POST Patient (durable), wrk, 64 connections
# PostgreSQL is a throwaway cluster made here (initdb, fsync on, as in production), on the
# same machine and disk; the ehr server and PostgreSQL share its cores. Each PostgreSQL
# figure is also given as the ratio to SQLite's, measured in the same run. Results are
# printed and appended to bench/RESULTS.md with the machine and date.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EHR="$BUILD/ehr"
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
DURATION=${EHR_BENCH_SECONDS:-10}
CONNS=${EHR_BENCH_CONNECTIONS:-64}
PORT=${EHR_BENCH_PORT:-18191}
PGPORT=${EHR_BENCH_PG_PORT:-15432}
WORK=$(mktemp -d /tmp/ehr-bench-pg-XXXXXX)
chmod 755 "$WORK"
SERVER_PID=""
# shellcheck source=bench/postgres/cluster.sh
source bench/postgres/cluster.sh
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  pg_cluster_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s.%N; }

echo "== PostgreSQL: a throwaway cluster in $WORK/pg, port $PGPORT"
pg_cluster_start "$WORK" "$PGPORT"

# The Bundles as plain JSON; the hospital and practitioner files first (the others refer to them).
mkdir -p "$WORK/json"
for f in "$SYNTHEA"/*.json.bz2; do bzcat "$f" > "$WORK/json/$(basename "${f%.bz2}")"; done
RESOURCES=$(python3 - "$WORK/json" <<'PY'
import json, sys, glob, os
print(sum(len(json.load(open(f)).get("entry", [])) for f in glob.glob(os.path.join(sys.argv[1], "*.json"))))
PY
)

post_bundle() { # file: the status code
  curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/fhir+json' \
    --data-binary @"$1" "http://127.0.0.1:$PORT/fhir"
}
export -f post_bundle
export PORT

run_wrk() { # wrk arguments; prints "rps p99 non2xx"
  local out
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" 2>&1)
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}') $(echo "$out" | awk '/Non-2xx/ {print $5}' | grep . || echo 0)"
}

measure() { # label, then ehr serve arguments; prints "import_rate read_rps read_p99 create_rps create_p99 errors"
  local label=$1
  shift
  "$EHR" serve --role vault --listen "127.0.0.1:$PORT" --auth off --access-log off "$@" > "$WORK/server-$label.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" > /dev/null && break; sleep 0.1; done
  local t0 t1 failed
  t0=$(now)
  failed=$( (ls "$WORK"/json/*Information*.json | xargs -n1 bash -c 'post_bundle "$0"'
             ls "$WORK"/json/*.json | grep -v Information | xargs -P 2 -n1 bash -c 'post_bundle "$0"') | grep -vc '^200$' || true)
  t1=$(now)
  local rate
  rate=$(echo "$RESOURCES / ($t1 - $t0)" | bc -l)
  # What a DBA does after a bulk load (README, "PostgreSQL"), so that the reads below do not
  # share the two cores with autovacuum's first pass and the checkpoint of the import.
  if [ "$label" = postgres ]; then psql -q "$PG_ADMIN" -c "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null; fi
  curl -sf "http://127.0.0.1:$PORT/fhir/Patient/_history?_count=1000" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entry"]:
    print(e["resource"]["id"])' > "$WORK/ids-$label.txt"
  local r c
  r=$(EHR_BENCH_IDS="$WORK/ids-$label.txt" run_wrk -s bench/read.lua "http://127.0.0.1:$PORT")
  c=$(run_wrk -s bench/create.lua "http://127.0.0.1:$PORT/fhir/Patient")
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2> /dev/null || true
  SERVER_PID=""
  read -r r_rps r_p99 r_err <<< "$r"
  read -r c_rps c_p99 c_err <<< "$c"
  echo "$rate $r_rps $r_p99 $c_rps $c_p99 $((failed + r_err + c_err))"
}

echo "== SQLite"
read -r SQ_IMPORT SQ_READ SQ_READ_P99 SQ_CREATE SQ_CREATE_P99 SQ_ERR <<< "$(measure sqlite --data "$WORK/sqlite")"
echo "== PostgreSQL"
read -r PG_IMPORT PG_READ PG_READ_P99 PG_CREATE PG_CREATE_P99 PG_ERR <<< \
  "$(measure postgres --data "$WORK/postgres" --store "$STORE" --store-migrate "$MIGRATE")"

ratio() { echo "$1 / $2" | bc -l; }
table() {
  echo "| benchmark | SQLite | PostgreSQL | PostgreSQL / SQLite |"
  echo "|---|---|---|---|"
  printf "| import Synthea Bundles over HTTP (%d resources), resources/s | %.0f | %.0f | %.2f |\n" "$RESOURCES" \
    "$SQ_IMPORT" "$PG_IMPORT" "$(ratio "$PG_IMPORT" "$SQ_IMPORT")"
  printf "| read Patient by id, %d conns, req/s (p99) | %.0f (%s) | %.0f (%s) | %.2f |\n" "$CONNS" "$SQ_READ" "$SQ_READ_P99" \
    "$PG_READ" "$PG_READ_P99" "$(ratio "$PG_READ" "$SQ_READ")"
  printf "| create Patient (durable), %d conns, req/s (p99) | %.0f (%s) | %.0f (%s) | %.2f |\n" "$CONNS" "$SQ_CREATE" \
    "$SQ_CREATE_P99" "$PG_CREATE" "$PG_CREATE_P99" "$(ratio "$PG_CREATE" "$SQ_CREATE")"
  printf "| failed requests | %d | %d | |\n" "$SQ_ERR" "$PG_ERR"
}
table
{
  echo
  echo "### PostgreSQL and SQLite (bench/postgres/run.sh), $(date -u +%Y-%m-%dT%H:%MZ) — $(uname -m), $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  table
  echo
  echo "Targets on PostgreSQL (issue 8): import >= 5,000 resources/s, read by id >= 10,000 req/s."
} >> bench/RESULTS.md
