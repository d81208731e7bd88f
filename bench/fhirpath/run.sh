#!/usr/bin/env bash
# The FHIRPath benchmark, one command: `make bench-fhirpath` (or bench/fhirpath/run.sh BUILD_DIR
# after `ninja -C BUILD_DIR fhirpath_bench`; this script builds nothing).
#
# Our engine against the reference, HL7's fhirpath.js (npm `fhirpath`), in the same run, on
# the same inputs: every R4 search parameter expression over the resources of a sample of
# the Synthea Bundles, plus the expressions of the FHIRPath R4 suite over their inputs.
#   1. workload.py builds the (expression, resource) pairs once
#   2. each engine compiles every expression once, evaluates every pair once and writes
#      its normalised results; reference.js compares them pair by pair
#   3. each engine evaluates the pairs that succeeded in both, in whole passes, for
#      EHR_BENCH_FHIRPATH_SECONDS: evaluations per second of compiled expressions, one thread
# Results are printed and appended to bench/RESULTS.md with the machine and date.
#
# Environment: EHR_BENCH_DATA (Synthea Bundles, default ../shared/data/synthea),
# EHR_BENCH_FHIRPATH_PATIENTS (patient Bundles in the sample, default 12),
# EHR_BENCH_FHIRPATH_SECONDS (timed seconds per engine, default 10),
# EHR_BENCH_FHIRPATH_SHOW (disagreeing expressions to print, default 40),
# EHR_BENCH_KEEP=1 keeps the work directory (workload, results, every disagreement).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
BENCH="$BUILD/bench/fhirpath/fhirpath_bench"
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
PATIENTS=${EHR_BENCH_FHIRPATH_PATIENTS:-12}
DURATION=${EHR_BENCH_FHIRPATH_SECONDS:-10}
KEEP=${EHR_BENCH_KEEP:-}
HERE=bench/fhirpath

if [ ! -x "$BENCH" ]; then
  echo "no $BENCH: build it first (ninja -C $BUILD fhirpath_bench, or make bench-fhirpath)" >&2
  exit 2
fi
if [ ! -d node_modules/fhirpath ]; then
  echo "no node_modules/fhirpath: run npm ci (make deps) first" >&2
  exit 2
fi
WORK=$(mktemp -d /tmp/ehr-fhirpath-bench-XXXXXX)
cleanup() { if [ -n "$KEEP" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

echo "== workload"
python3 "$HERE/workload.py" "$WORK/workload" --synthea "$SYNTHEA" --patients "$PATIENTS"

echo "== results: every pair evaluated once by each engine"
"$BENCH" "$WORK/workload" --results "$WORK/ehr.ndjson"
node "$HERE/reference.js" results "$WORK/workload" "$WORK/fhirpath-js.ndjson"

echo "== timed passes: ${DURATION}s per engine over the pairs that succeed in both"
"$BENCH" "$WORK/workload" --time "$DURATION" --ok-in "$WORK/ehr.ndjson" --ok-in "$WORK/fhirpath-js.ndjson" \
  --timing-out "$WORK/ehr-timing.json"
node "$HERE/reference.js" time "$WORK/workload" "$DURATION" "$WORK/fhirpath-js-timing.json" \
  "$WORK/ehr.ndjson" "$WORK/fhirpath-js.ndjson"

echo "== agreement and speed"
node "$HERE/reference.js" compare "$WORK/workload" "$WORK/ehr.ndjson" "$WORK/fhirpath-js.ndjson" \
  "$WORK/ehr-timing.json" "$WORK/fhirpath-js-timing.json" "$WORK/summary.sh" "$WORK/disagreements.txt"
# shellcheck source=/dev/null
. "$WORK/summary.sh"
AGREE_PCT=$(echo "100 * $FP_AGREE / $FP_PAIRS" | bc -l)

{
  echo
  echo "### $(date -u +%Y-%m-%dT%H:%MZ) — FHIRPath — $(uname -m), $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  printf "Workload: %d Synthea Bundles (%d resources) x their R4 search parameter expressions, plus %d suite tests: %d pairs, %d distinct expressions; fhirpath.js %s, Node %s; %s s per engine, one thread.\n" \
    "$FP_BUNDLES" "$FP_RESOURCES" "$FP_SUITE_PAIRS" "$FP_PAIRS" "$FP_EXPRESSIONS" "$FP_REF_VERSION" "$(node --version)" "$DURATION"
  echo
  echo "| benchmark | result | baseline (same run) | ratio |"
  echo "|---|---|---|---|"
  printf "| FHIRPath, compiled, %d pairs that succeed in both | %d evaluations/s | fhirpath.js %d evaluations/s | %.1f |\n" \
    "$FP_TIMED_PAIRS" "$FP_OURS_RATE" "$FP_REF_RATE" "$FP_RATIO"
  printf "| agreement with fhirpath.js | %d / %d pairs (%.2f%%) | %d disagreeing expressions: %d different values, %d other order, %d errors in ours only, %d in fhirpath.js only | |\n" \
    "$FP_AGREE" "$FP_PAIRS" "$AGREE_PCT" "$FP_DISAGREEING_EXPRESSIONS" "$FP_DIFFERENT" "$FP_ORDER_ONLY" "$FP_OURS_ERROR" "$FP_REF_ERROR"
} | tee -a bench/RESULTS.md
