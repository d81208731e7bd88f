#!/usr/bin/env bash
# The population generator's benchmark, one command: `make bench-synth` (or
# bench/synth/run.sh BUILD_DIR). Generates EHR_BENCH_PATIENTS patients (default 100,000) of
# region EHR_BENCH_REGION (uk) with `ehr synth`, imports them with `ehr import`, and reports
# generation rate, import rate, database size and peak memory, each with a baseline
# measured in the same run:
#   generation  vs. copying its output files (cp: the disk's write floor)
#   import      vs. importing the Synthea sample into the same, then empty, database
# The Synthea sample goes in first, so the search benchmark that follows (on by default,
# EHR_BENCH_SEARCH=0 skips it) finds its patient with about 1,000 resources among the
# oldest patients. EHR_BENCH_KEEP=1 keeps the data directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EHR="$BUILD/ehr"
PATIENTS=${EHR_BENCH_PATIENTS:-100000}
REGION=${EHR_BENCH_REGION:-uk}
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
WORK=$(mktemp -d /tmp/ehr-synth-bench-XXXXXX)
KEEP=${EHR_BENCH_KEEP:-}
cleanup() { [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT
now() { date +%s.%N; }

# Made and loaded in EHR_BENCH_PARTS parts (ehr synth --part), so that the generated files
# of one part at a time sit on disk beside the database.
PARTS=${EHR_BENCH_PARTS:-5}
echo "== import the Synthea sample"
/usr/bin/time -f "%e %M" -o "$WORK/import-synthea.time" \
  "$EHR" import --data "$WORK/data" "$SYNTHEA" 2> "$WORK/import-synthea.log"
read -r SYNTHEA_S SYNTHEA_KB < "$WORK/import-synthea.time"
SYNTHEA_RESOURCES=$(tr '\r' '\n' < "$WORK/import-synthea.log" | awk '/resources/ {n=$4} END {print n}' | tr -d ,)

SYNTH_S=0; SYNTH_KB=0; CP_S=0; IMPORT_S=0; IMPORT_KB=0; RESOURCES=0; BYTES=0
for ((k = 0; k < PARTS; k++)); do
  echo "== part $k of $PARTS: generate ($PATIENTS patients in all, $REGION), import"
  /usr/bin/time -f "%e %M" -o "$WORK/synth.time" "$EHR" synth --region "$REGION" --patients "$PATIENTS" \
    --seed 1 --part "$k/$PARTS" --out "$WORK/files" > "$WORK/synth.out"
  head -1 "$WORK/synth.out"
  read -r s kb < "$WORK/synth.time"
  SYNTH_S=$(echo "$SYNTH_S + $s" | bc -l); [ "$kb" -gt "$SYNTH_KB" ] && SYNTH_KB=$kb
  RESOURCES=$((RESOURCES + $(awk '/^wrote/ {print $4}' "$WORK/synth.out" | tr -d ,)))
  BYTES=$((BYTES + $(du -sb "$WORK/files" | cut -f1)))
  sync
  t0=$(now); cp -r "$WORK/files" "$WORK/copy"; sync; t1=$(now)
  CP_S=$(echo "$CP_S + $t1 - $t0" | bc -l)
  rm -rf "$WORK/copy"
  /usr/bin/time -f "%e %M" -o "$WORK/import.time" \
    "$EHR" import --data "$WORK/data" "$WORK/files" 2> "$WORK/import.log"
  tr '\r' '\n' < "$WORK/import.log" | tail -1
  read -r s kb < "$WORK/import.time"
  IMPORT_S=$(echo "$IMPORT_S + $s" | bc -l); [ "$kb" -gt "$IMPORT_KB" ] && IMPORT_KB=$kb
  rm -rf "$WORK/files"
done
sync
DB_BYTES=$(du -sb "$WORK/data" | cut -f1)

OUT=$(
  printf "| benchmark | result | baseline (same run) | ratio |\n|---|---|---|---|\n"
  printf "| generate %d patients, %d resources, %.1f GB | %.1f s: %.0f patients/s, %.0f resources/s, %.0f MB/s; peak memory %.0f MB | cp of the output %.1f s, %.0f MB/s | %.2f |\n" \
    "$PATIENTS" "$RESOURCES" "$(echo "$BYTES / 1000000000" | bc -l)" "$SYNTH_S" "$(echo "$PATIENTS / $SYNTH_S" | bc -l)" \
    "$(echo "$RESOURCES / $SYNTH_S" | bc -l)" "$(echo "$BYTES / 1000000 / $SYNTH_S" | bc -l)" "$(echo "$SYNTH_KB / 1024" | bc -l)" \
    "$CP_S" "$(echo "$BYTES / 1000000 / $CP_S" | bc -l)" "$(echo "$CP_S / $SYNTH_S" | bc -l)"
  printf "| import the population (NDJSON, %d parts) | %.0f s: %.0f resources/s; peak memory %.0f MB | Synthea sample, %d resources: %.0f resources/s | %.2f |\n" \
    "$PARTS" "$IMPORT_S" "$(echo "$RESOURCES / $IMPORT_S" | bc -l)" "$(echo "$IMPORT_KB / 1024" | bc -l)" "$SYNTHEA_RESOURCES" \
    "$(echo "$SYNTHEA_RESOURCES / $SYNTHEA_S" | bc -l)" \
    "$(echo "($RESOURCES / $IMPORT_S) / ($SYNTHEA_RESOURCES / $SYNTHEA_S)" | bc -l)"
  printf "| database size | %.1f GB, %.0f bytes per resource | generated NDJSON %.1f GB | %.2f |\n" \
    "$(echo "$DB_BYTES / 1000000000" | bc -l)" "$(echo "$DB_BYTES / ($RESOURCES + $SYNTHEA_RESOURCES)" | bc -l)" \
    "$(echo "$BYTES / 1000000000" | bc -l)" "$(echo "$DB_BYTES / $BYTES" | bc -l)"
)
echo "$OUT"
{
  echo
  echo "### $(date -u +%Y-%m-%dT%H:%MZ) — synth — $(uname -m), $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "$OUT"
} >> bench/RESULTS.md

if [ "${EHR_BENCH_SEARCH:-1}" != 0 ]; then
  echo "== search over the population"
  EHR_BENCH_BACKENDS=sqlite EHR_BENCH_DB="$WORK/data" ./bench/search/run.sh "$BUILD"
fi
