#!/usr/bin/env bash
# The foundation benchmarks, one command: `make bench` (or bench/run.sh BUILD_DIR).
# Each figure is reported absolute and as a ratio to a baseline measured in the same run:
#   import       vs. decompressing the same files alone (bzcat), and from plain JSON too
#   read by id   vs. GET /healthz (the server's no-op endpoint), wrk, 64 connections
#   create/update (durable commits) vs. the same no-op endpoint
#   read by id with a bearer token (--auth on) vs. read by id without authentication
#   the audit log: import, read, create and update vs. the same with --audit off
#   encryption at rest: import, read and create of Observations vs. the same with
#   --encrypt-bodies off (Patients carry national ids: sealed either way)
# Results are printed and appended to bench/RESULTS.md with the machine and date.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
EHR="$BUILD/ehr"
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
DURATION=${EHR_BENCH_SECONDS:-10}
CONNS=${EHR_BENCH_CONNECTIONS:-64}
# One wrk thread saturates the server and leaves the second core to it: wrk shares this
# 2-core machine, and two wrk threads mostly add context switches (measured: read by id
# 25k req/s with -t2, 42k with -t1; healthz 55k and 84k).
WRK_THREADS=${EHR_BENCH_WRK_THREADS:-1}
WORK=$(mktemp -d /tmp/ehr-bench-XXXXXX)
KEEP=${EHR_BENCH_KEEP:-}
PORT=${EHR_BENCH_PORT:-18181}
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; [ -n "$KEEP" ] || rm -rf "$WORK"; }
trap cleanup EXIT

now() { date +%s.%N; }
count_resources() { # total entries of the files' Bundles
  python3 - "$@" <<'PY'
import bz2, json, sys, glob, os
n = 0
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json*"))):
    opener = bz2.open if f.endswith(".bz2") else open
    with opener(f, "rt") as fh:
        n += len(json.load(fh).get("entry", []))
print(n)
PY
}

echo "== import ($SYNTHEA)"
RESOURCES=$(count_resources "$SYNTHEA")
t0=$(now); for f in "$SYNTHEA"/*.bz2; do bzcat "$f" > /dev/null; done; t1=$(now)
BZCAT_S=$(echo "$t1 - $t0" | bc -l)
t0=$(now); "$EHR" import --data "$WORK/import-bz2" "$SYNTHEA" 2> "$WORK/import-bz2.log"; t1=$(now)
IMPORT_BZ2_S=$(echo "$t1 - $t0" | bc -l)
mkdir -p "$WORK/json"
for f in "$SYNTHEA"/*.bz2; do bzcat "$f" > "$WORK/json/$(basename "${f%.bz2}")"; done
t0=$(now); "$EHR" import --data "$WORK/import-json" "$WORK/json" 2> "$WORK/import-json.log"; t1=$(now)
IMPORT_JSON_S=$(echo "$t1 - $t0" | bc -l)
# The same import without the audit log's entries (one per version written), for its cost.
t0=$(now); "$EHR" import --data "$WORK/import-json-noaudit" --audit off "$WORK/json" 2> "$WORK/import-noaudit.log"; t1=$(now)
IMPORT_NOAUDIT_S=$(echo "$t1 - $t0" | bc -l)
rm -rf "$WORK/import-json-noaudit"
# The same import with bodies stored plain (--encrypt-bodies off), for the cost of sealing
# them; the database is kept for the HTTP figures without encryption.
t0=$(now); "$EHR" import --data "$WORK/import-json-plain" --encrypt-bodies off "$WORK/json" 2> "$WORK/import-plain.log"; t1=$(now)
IMPORT_PLAIN_S=$(echo "$t1 - $t0" | bc -l)
IMPORT_PLAIN_RATE=$(echo "$RESOURCES / $IMPORT_PLAIN_S" | bc -l)
IMPORT_BZ2_RATE=$(echo "$RESOURCES / $IMPORT_BZ2_S" | bc -l)
IMPORT_JSON_RATE=$(echo "$RESOURCES / $IMPORT_JSON_S" | bc -l)
BZCAT_RATE=$(echo "$RESOURCES / $BZCAT_S" | bc -l)
IMPORT_NOAUDIT_RATE=$(echo "$RESOURCES / $IMPORT_NOAUDIT_S" | bc -l)
printf "import .json without the audit log %.1f s = %.0f res/s (with it: %.2f x)\n" "$IMPORT_NOAUDIT_S" "$IMPORT_NOAUDIT_RATE" \
  "$(echo "$IMPORT_JSON_RATE / $IMPORT_NOAUDIT_RATE" | bc -l)"
printf "resources %d; bzcat alone %.1f s; import .json.bz2 %.1f s = %.0f res/s; import .json %.1f s = %.0f res/s\n" \
  "$RESOURCES" "$BZCAT_S" "$IMPORT_BZ2_S" "$IMPORT_BZ2_RATE" "$IMPORT_JSON_S" "$IMPORT_JSON_RATE"

# The imports leave hundreds of MB of dirty pages; let the kernel write them out first so
# that their flushing does not stall the HTTP measurements.
sync
echo "== HTTP ($CONNS connections, $WRK_THREADS wrk thread(s), ${DURATION}s each)"
"$EHR" serve --role vault --data "$WORK/import-json" --listen "127.0.0.1:$PORT" --auth off > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/fhir/Patient/_history?_count=1000" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entry"]:
    print(e["resource"]["id"])' > "$WORK/ids.txt"
export EHR_BENCH_IDS="$WORK/ids.txt"

run_wrk() { # name, then wrk arguments; prints "rps p99 non2xx"
  local name=$1 out
  shift
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$@" 2>&1)
  echo "$out" > "$WORK/wrk-$name.txt"
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  local errors
  errors=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  echo "$rps ${p99:-?} ${errors:-0}"
}
to_ms() { # wrk latency text (e.g. 1.23ms, 850.00us, 1.2s) -> ms
  echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v); print v} else if (v ~ /s$/) {sub(/s/,"",v); print v*1000} else print v}'
}
run_wrk warmup "http://127.0.0.1:$PORT/healthz" > /dev/null
read -r H_RPS H_P99 _ <<< "$(run_wrk healthz "http://127.0.0.1:$PORT/healthz")"
read -r R_RPS R_P99 R_ERR <<< "$(run_wrk read -s bench/read.lua "http://127.0.0.1:$PORT")"
read -r C_RPS C_P99 C_ERR <<< "$(run_wrk create -s bench/create.lua "http://127.0.0.1:$PORT/fhir/Patient")"
read -r U_RPS U_P99 U_ERR <<< "$(run_wrk update -s bench/update.lua "http://127.0.0.1:$PORT")"
# Observations, for the cost of encryption: Synthea's Patients (and the created ones) carry
# national ids, so their bodies are sealed even with --encrypt-bodies off.
obs_ids() { curl -sf "http://127.0.0.1:$PORT/fhir/Observation/_history?_count=1000" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entry"]:
    print(e["resource"]["id"])'; }
obs_ids > "$WORK/obs-ids.txt"
read -r RO_RPS _ _ <<< "$(EHR_BENCH_OBS_IDS="$WORK/obs-ids.txt" run_wrk read-obs -s bench/read-observation.lua "http://127.0.0.1:$PORT")"
read -r CO_RPS _ _ <<< "$(run_wrk create-obs -s bench/create-observation.lua "http://127.0.0.1:$PORT/fhir/Observation")"
# The same reads with authentication on: a bearer token checked per request (signature,
# claims, session) and the doctor's reach (they are in the care team of every patient read:
# each read resolves the doctor's patients, cached, and tests the record against them),
# against the unauthenticated reads just measured.
python3 - "$WORK/ids.txt" > "$WORK/care-teams.json" <<'PY'
import json, sys
ids = [line.strip() for line in open(sys.argv[1]) if line.strip()]
entries = [{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "resource": {"resourceType": "Practitioner", "id": "bench-gp"},
            "request": {"method": "PUT", "url": "Practitioner/bench-gp"}}]
for pid in ids:
    entries.append({"resource": {"resourceType": "CareTeam", "status": "active",
                                 "subject": {"reference": "Patient/" + pid},
                                 "participant": [{"member": {"reference": "Practitioner/bench-gp"}}]},
                    "request": {"method": "POST", "url": "CareTeam"}})
print(json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
PY
curl -sf -o /dev/null -X POST -H 'Content-Type: application/fhir+json' --data-binary @"$WORK/care-teams.json" \
  "http://127.0.0.1:$PORT/fhir"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
# The same reads and writes with the audit log off (--audit off), for its cost: every read
# above waited for its entry's commit, every write appended one in its transaction.
"$EHR" serve --role vault --data "$WORK/import-json" --listen "127.0.0.1:$PORT" --auth off --audit off > "$WORK/server-noaudit.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
read -r NR_RPS NR_P99 _ <<< "$(run_wrk read-noaudit -s bench/read.lua "http://127.0.0.1:$PORT")"
read -r NC_RPS NC_P99 _ <<< "$(run_wrk create-noaudit -s bench/create.lua "http://127.0.0.1:$PORT/fhir/Patient")"
read -r NU_RPS NU_P99 _ <<< "$(run_wrk update-noaudit -s bench/update.lua "http://127.0.0.1:$PORT")"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
# The same reads and writes on the database imported with plain bodies, served with
# --encrypt-bodies off: the cost of AES-256-GCM on every body written and read.
"$EHR" serve --role vault --data "$WORK/import-json-plain" --listen "127.0.0.1:$PORT" --auth off --encrypt-bodies off \
  > "$WORK/server-plain.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/fhir/Patient/_history?_count=1000" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entry"]:
    print(e["resource"]["id"])' > "$WORK/ids-plain.txt"
read -r PR_RPS PR_P99 _ <<< "$(EHR_BENCH_IDS="$WORK/ids-plain.txt" run_wrk read-plain -s bench/read.lua "http://127.0.0.1:$PORT")"
read -r PC_RPS PC_P99 _ <<< "$(run_wrk create-plain -s bench/create.lua "http://127.0.0.1:$PORT/fhir/Patient")"
read -r PU_RPS PU_P99 _ <<< "$(EHR_BENCH_IDS="$WORK/ids-plain.txt" run_wrk update-plain -s bench/update.lua "http://127.0.0.1:$PORT")"
obs_ids > "$WORK/obs-ids-plain.txt"
read -r PRO_RPS _ _ <<< "$(EHR_BENCH_OBS_IDS="$WORK/obs-ids-plain.txt" run_wrk read-obs-plain -s bench/read-observation.lua "http://127.0.0.1:$PORT")"
read -r PCO_RPS _ _ <<< "$(run_wrk create-obs-plain -s bench/create-observation.lua "http://127.0.0.1:$PORT/fhir/Observation")"
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
EHR_USER_PASSWORD="Bench-Reader-$RANDOM-7!" "$EHR" user add --data "$WORK/import-json" --user bench.doctor --roles DOCTOR \
  --fhir-user Practitioner/bench-gp 2> /dev/null
TOKEN=$("$EHR" token --data "$WORK/import-json" --user bench.doctor --ttl-seconds 3600)
EHR_ADMIN_PASSWORD="Bench-Keeper-$RANDOM-7!" "$EHR" serve --role vault --data "$WORK/import-json" --listen "127.0.0.1:$PORT" --auth on \
  --rate-limit-user 10000000 --rate-limit-tenant 10000000 > "$WORK/server-auth.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
read -r A_RPS A_P99 A_ERR <<< "$(run_wrk read-auth -s bench/read.lua -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT")"
A_RATIO=$(echo "$A_RPS / $R_RPS" | bc -l)
R_RATIO=$(echo "$R_RPS / $H_RPS" | bc -l)
printf "healthz %.0f req/s (p99 %s ms)\n" "$H_RPS" "$(to_ms "$H_P99")"
printf "read    %.0f req/s (p99 %s ms) = %.2f x healthz, non-2xx %s\n" "$R_RPS" "$(to_ms "$R_P99")" "$R_RATIO" "$R_ERR"
printf "read with a bearer token, as a doctor in the patients' care teams, %.0f req/s (p99 %s ms) = %.2f x read without, non-2xx %s\n" "$A_RPS" "$(to_ms "$A_P99")" "$A_RATIO" "$A_ERR"
printf "create  %.0f req/s (p99 %s ms) = %.2f x healthz, non-2xx %s\n" "$C_RPS" "$(to_ms "$C_P99")" "$(echo "$C_RPS / $H_RPS" | bc -l)" "$C_ERR"
printf "update  %.0f req/s (p99 %s ms) = %.2f x healthz, non-2xx %s\n" "$U_RPS" "$(to_ms "$U_P99")" "$(echo "$U_RPS / $H_RPS" | bc -l)" "$U_ERR"
printf "audit log off: read %.0f, create %.0f, update %.0f req/s; with it on: %.2f, %.2f, %.2f x\n" "$NR_RPS" "$NC_RPS" "$NU_RPS" \
  "$(echo "$R_RPS / $NR_RPS" | bc -l)" "$(echo "$C_RPS / $NC_RPS" | bc -l)" "$(echo "$U_RPS / $NU_RPS" | bc -l)"
printf "bodies plain: import %.0f res/s, read Observation %.0f, create Observation %.0f req/s; encrypted: %.2f, %.2f, %.2f x\n" \
  "$IMPORT_PLAIN_RATE" "$PRO_RPS" "$PCO_RPS" "$(echo "$IMPORT_JSON_RATE / $IMPORT_PLAIN_RATE" | bc -l)" \
  "$(echo "$RO_RPS / $PRO_RPS" | bc -l)" "$(echo "$CO_RPS / $PCO_RPS" | bc -l)"

{
  echo
  echo "### $(date -u +%Y-%m-%dT%H:%MZ) — $(uname -m), $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(git rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "| benchmark | result | baseline (same run) | ratio |"
  echo "|---|---|---|---|"
  printf "| import Synthea .json.bz2 (%d resources) | %.0f resources/s (%.1f s) | bzcat alone %.1f s (%.0f res/s) | %.2f |\n" \
    "$RESOURCES" "$IMPORT_BZ2_RATE" "$IMPORT_BZ2_S" "$BZCAT_S" "$BZCAT_RATE" "$(echo "$IMPORT_BZ2_RATE / $BZCAT_RATE" | bc -l)"
  printf "| import Synthea .json | %.0f resources/s (%.1f s) | | |\n" "$IMPORT_JSON_RATE" "$IMPORT_JSON_S"
  printf "| GET /healthz, %d conns | %.0f req/s, p99 %s ms | — | 1.00 |\n" "$CONNS" "$H_RPS" "$(to_ms "$H_P99")"
  printf "| read Patient by id, %d conns | %.0f req/s, p99 %s ms | healthz %.0f req/s | %.2f |\n" "$CONNS" "$R_RPS" "$(to_ms "$R_P99")" "$H_RPS" "$R_RATIO"
  printf "| read Patient by id with a bearer token (--auth on), a DOCTOR in each patient's care team (%d patients), %d conns |" \
    "$(wc -l < "$WORK/ids.txt")" "$CONNS"
  printf " %.0f req/s, p99 %s ms | read without auth %.0f req/s | %.2f |\n" "$A_RPS" "$(to_ms "$A_P99")" "$R_RPS" "$A_RATIO"
  printf "| create Patient (durable), %d conns | %.0f req/s, p99 %s ms | healthz | %.2f |\n" "$CONNS" "$C_RPS" "$(to_ms "$C_P99")" "$(echo "$C_RPS / $H_RPS" | bc -l)"
  printf "| update Patient (durable), %d conns | %.0f req/s, p99 %s ms | healthz | %.2f |\n" "$CONNS" "$U_RPS" "$(to_ms "$U_P99")" "$(echo "$U_RPS / $H_RPS" | bc -l)"
  printf "| audit log cost: import .json | %.0f resources/s | --audit off %.0f resources/s | %.2f |\n" "$IMPORT_JSON_RATE" "$IMPORT_NOAUDIT_RATE" "$(echo "$IMPORT_JSON_RATE / $IMPORT_NOAUDIT_RATE" | bc -l)"
  printf "| audit log cost: read by id | %.0f req/s, p99 %s ms | --audit off %.0f req/s, p99 %s ms | %.2f |\n" "$R_RPS" "$(to_ms "$R_P99")" "$NR_RPS" "$(to_ms "$NR_P99")" "$(echo "$R_RPS / $NR_RPS" | bc -l)"
  printf "| audit log cost: create | %.0f req/s | --audit off %.0f req/s | %.2f |\n" "$C_RPS" "$NC_RPS" "$(echo "$C_RPS / $NC_RPS" | bc -l)"
  printf "| audit log cost: update | %.0f req/s | --audit off %.0f req/s | %.2f |\n" "$U_RPS" "$NU_RPS" "$(echo "$U_RPS / $NU_RPS" | bc -l)"
  printf "| encryption cost: import .json | %.0f resources/s | --encrypt-bodies off %.0f resources/s | %.2f |\n" "$IMPORT_JSON_RATE" "$IMPORT_PLAIN_RATE" "$(echo "$IMPORT_JSON_RATE / $IMPORT_PLAIN_RATE" | bc -l)"
  printf "| encryption cost: read Observation by id | %.0f req/s | --encrypt-bodies off %.0f req/s | %.2f |\n" "$RO_RPS" "$PRO_RPS" "$(echo "$RO_RPS / $PRO_RPS" | bc -l)"
  printf "| encryption cost: create Observation | %.0f req/s | --encrypt-bodies off %.0f req/s | %.2f |\n" "$CO_RPS" "$PCO_RPS" "$(echo "$CO_RPS / $PCO_RPS" | bc -l)"
  printf "| (Patients hold national ids: sealed either way) read, create, update Patient | %.0f, %.0f, %.0f req/s | %.0f, %.0f, %.0f req/s | — |\n" "$R_RPS" "$C_RPS" "$U_RPS" "$PR_RPS" "$PC_RPS" "$PU_RPS"
} | tee -a bench/RESULTS.md
