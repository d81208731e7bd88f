#!/usr/bin/env bash
# The search benchmarks, one command: `make bench-search` (or bench/search/run.sh BUILD_DIR).
# Grows the Synthea sample to EHR_BENCH_PATIENTS patients (replicate.py: default 10,000,
# about a million resources; the issue's 100,000 takes about ten times as long to import),
# imports it (timed), serves it, and runs search_bench against the server and the same
# database file. EHR_BENCH_DB=DIR reuses a data directory from an earlier run (kept with
# EHR_BENCH_KEEP=1). Results are printed and appended to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EHR="$BUILD/ehr"
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
PATIENTS=${EHR_BENCH_PATIENTS:-10000}
REQUESTS=${EHR_BENCH_REQUESTS:-500}
PORT=${EHR_BENCH_PORT:-18182}
WORK=$(mktemp -d /tmp/ehr-search-bench-XXXXXX)
KEEP=${EHR_BENCH_KEEP:-}
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT

IMPORT_LINE=""
DATA=${EHR_BENCH_DB:-}
if [ -z "$DATA" ]; then
  DATA="$WORK/data"
  echo "== population: $PATIENTS patients from $SYNTHEA"
  python3 bench/search/replicate.py "$SYNTHEA" "$WORK/files" "$PATIENTS"
  t0=$(date +%s.%N)
  "$EHR" import --data "$DATA" "$WORK/files" 2> "$WORK/import.log"
  t1=$(date +%s.%N)
  tail -1 "$WORK/import.log" | tr '\r' '\n' | tail -1
  IMPORT_S=$(echo "$t1 - $t0" | bc -l)
  IMPORT_LINE=$(printf "import of the population: %.0f s, database %s" "$IMPORT_S" "$(du -h "$DATA/ehr.db" | cut -f1)")
  echo "$IMPORT_LINE"
  rm -rf "$WORK/files"
  sync
fi
"$EHR" serve --role vault --data "$DATA" --listen "127.0.0.1:$PORT" --auth off --access-log off > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
OUT=$("$BUILD/bench/search/search_bench" "127.0.0.1:$PORT" "$DATA/ehr.db" "$REQUESTS")
echo "$OUT"
{
  echo
  echo "### $(date -u +%Y-%m-%dT%H:%MZ) — search — $(uname -m), $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  [ -n "$IMPORT_LINE" ] && echo "$IMPORT_LINE." && echo
  echo "$OUT" | sed -n '1p'
  echo "$OUT" | sed -n '2,$p'
} >> bench/RESULTS.md
