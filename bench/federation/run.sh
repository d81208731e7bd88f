#!/usr/bin/env bash
# The federation benchmark, one command: `make bench-federation` (or bench/federation/run.sh BUILD_DIR).
# Five processes on loopback as in tests/federation: an MPI, vaults UK and DE, a gateway FR.
# A Synthea record of about 500 resources is loaded into the UK vault under an NHS number,
# and a small record of the same person into DE (a traveller). Measured with wrk:
#   cross-border lookup + fetch + merge (GET $federated-everything at the gateway, a DOCTOR's
#   bearer token) at 1 connection (latency) and 16 (throughput),
#   against the UK vault's own Patient/{id}/$everything of the same record (same run):
#   the ratio is the cost of the federation (MPI lookup, node token, second vault, merge).
# Targets (issue 9): p95 under 50 ms, at least 500 lookups/s. Appended to bench/RESULTS.md.
# EHR_BENCH_MTLS=1: every node serves HTTPS with its own self-signed certificate, pinned in
# the federation file, and the nodes call one another over mutual TLS (README "Federation").
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
EHR="$(pwd)/$BUILD/ehr"
SYNTHEA=${EHR_BENCH_DATA:-../shared/data/synthea}
RECORD=${EHR_BENCH_RECORD:-b6f92fa3-b989-fa1b-aad8-aafb1020a5e9}
DURATION=${EHR_BENCH_SECONDS:-10}
BASE_PORT=${EHR_BENCH_PORT:-18301}
WORK=$(mktemp -d /tmp/ehr-federation-bench-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
NHS=9434765919
SYSTEM=https://fhir.nhs.uk/Id/nhs-number

echo "== setting up the federation in $WORK"
for n in mpi uk de gw; do mkdir -p "$WORK/$n"; done
declare -A KEY PORT PIN TLS
MTLS=${EHR_BENCH_MTLS:-}
SCHEME=http
[ -n "$MTLS" ] && SCHEME=https
i=0
for n in mpi uk de gw; do
  KEY[$n]=$("$EHR" federation node-key --data "$WORK/$n" 2>/dev/null | tail -1)
  PORT[$n]=$((BASE_PORT + i)); i=$((i + 1))
  PIN[$n]=""; TLS[$n]=""
  if [ -n "$MTLS" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -sha256 -days 2 -subj "/CN=$n" \
      -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/$n/key.pem" -out "$WORK/$n/cert.pem" 2> /dev/null
    PIN[$n]=", \"certificates\": [\"$("$EHR" federation certificate "$WORK/$n/cert.pem")\"]"
    TLS[$n]="--tls-cert $WORK/$n/cert.pem --tls-key $WORK/$n/key.pem"
  fi
done
# curl to a node: its own certificate is the authority to trust.
curl_node() { local n=$1; shift; if [ -n "$MTLS" ]; then curl --cacert "$WORK/$n/cert.pem" "$@"; else curl "$@"; fi; }
url() { echo "$SCHEME://127.0.0.1:${PORT[$1]}"; }
"$EHR" federation pepper > "$WORK/pepper"; chmod 600 "$WORK/pepper"
cat > "$WORK/federation.json" <<JSON
{"deadlineMs": 2000, "nodes": [
 {"name": "mpi", "role": "mpi", "url": "$(url mpi)", "key": "${KEY[mpi]}"${PIN[mpi]}},
 {"name": "vault-uk", "role": "vault", "region": "uk", "url": "$(url uk)", "key": "${KEY[uk]}"${PIN[uk]}},
 {"name": "vault-de", "role": "vault", "region": "de", "url": "$(url de)", "key": "${KEY[de]}"${PIN[de]}},
 {"name": "gateway-fr", "role": "gateway", "region": "fr", "url": "$(url gw)", "key": "${KEY[gw]}"${PIN[gw]}}]}
JSON

# The UK record: Synthea's patient with an NHS number added, after the practitioners and
# organisations its references need.
mkdir -p "$WORK/load"
bzcat "$SYNTHEA"/0-hospitalInformation*.json.bz2 > "$WORK/load/0-hospital.json"
bzcat "$SYNTHEA"/0-practitionerInformation*.json.bz2 > "$WORK/load/0-practitioner.json"
bzcat "$SYNTHEA/$RECORD.json.bz2" | python3 -c '
import json, sys
b = json.load(sys.stdin)
for e in b["entry"]:
    r = e["resource"]
    if r["resourceType"] == "Patient":
        r.setdefault("identifier", []).append({"system": "'$SYSTEM'", "value": "'$NHS'"})
json.dump(b, sys.stdout)' > "$WORK/load/1-record.json"
"$EHR" import --data "$WORK/uk" "$WORK/load" 2> "$WORK/import.log"
start() { # name, extra args...
  local n=$1; shift
  local args=(serve --listen "127.0.0.1:${PORT[$n]}" --data "$WORK/$n" --federation "$WORK/federation.json" --access-log off "$@")
  [ "$n" != mpi ] && args+=(--federation-pepper-file "$WORK/pepper")
  # shellcheck disable=SC2206 # TLS: flags and paths without spaces
  [ -n "$MTLS" ] && args+=(${TLS[$n]})
  "$EHR" "${args[@]}" > "$WORK/$n.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl_node "$n" -sf "$(url "$n")/healthz" > /dev/null && return; sleep 0.1; done
  echo "the $n node did not start:"; cat "$WORK/$n.log"; exit 1
}
start mpi --role mpi --node mpi
start uk --role vault --node vault-uk --auth off
start de --role vault --node vault-de --auth off
EHR_USER_PASSWORD='Bench-Clinician-2026' "$EHR" user add --data "$WORK/gw" --user dr-fr --roles DOCTOR > /dev/null 2>&1
TOKEN=$("$EHR" token --data "$WORK/gw" --user dr-fr 2>/dev/null | tail -1)
start gw --role gateway --node gateway-fr

# The traveller's small German record.
DE_PATIENT=$(curl_node de -sf -X POST -H 'Content-Type: application/fhir+json' "$(url de)/fhir/Patient" \
  --data-binary '{"resourceType":"Patient","name":[{"family":"Bench"}],"identifier":[{"system":"'$SYSTEM'","value":"'$NHS'"}]}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for k in $(seq 10); do
  curl_node de -sf -o /dev/null -X POST -H 'Content-Type: application/fhir+json' "$(url de)/fhir/Observation" \
    --data-binary '{"resourceType":"Observation","status":"final","code":{"text":"Body weight"},"subject":{"reference":"Patient/'"$DE_PATIENT"'"},"effectiveDateTime":"2024-0'$((k % 9 + 1))'-01","valueQuantity":{"value":'$((60 + k))',"unit":"kg"}}'
done
IDENT="identifier=$SYSTEM%7C$NHS"
for _ in $(seq 100); do
  n=$(curl_node gw -sf -H "Authorization: Bearer $TOKEN" "$(url gw)/fhir/Patient/\$locate?$IDENT" |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("parameter", [])))' || echo 0)
  [ "$n" = 2 ] && break; sleep 0.2
done
[ "$n" = 2 ] || { echo "the vaults did not register at the MPI"; exit 1; }
curl_node gw -sf -H "Authorization: Bearer $TOKEN" "$(url gw)/fhir/Patient/\$federated-everything?$IDENT" \
  > "$WORK/merged.json"
RESOURCES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$WORK/merged.json")
# The UK record's id there (the import assigned it).
UK_PATIENT=$(python3 -c '
import json, sys
for e in json.load(open(sys.argv[1]))["entry"]:
    r = e["resource"]
    if r["resourceType"] == "Patient" and r["meta"]["source"] == "urn:ehr:region:uk":
        print(r["id"])' "$WORK/merged.json")
UK_RESOURCES=$(curl_node uk -sf "$(url uk)/fhir/Patient/$UK_PATIENT/\$everything?_count=1000" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entry"]))')
DE_RESOURCES=$(python3 -c '
import json, sys
print(sum(1 for e in json.load(open(sys.argv[1]))["entry"]
          if e["resource"].get("meta", {}).get("source") == "urn:ehr:region:de"))' "$WORK/merged.json")
echo "merged record: $RESOURCES resources ($UK_RESOURCES from the UK vault, $DE_RESOURCES from DE)"
if [ "$RESOURCES" -lt "$UK_RESOURCES" ]; then
  echo "the merged record lacks the UK vault's part:"; head -c 1000 "$WORK/merged.json"; echo; tail -5 "$WORK/uk.log"; exit 1
fi

GW_PATH="/fhir/Patient/\$federated-everything?$IDENT"
UK_PATH="/fhir/Patient/$UK_PATIENT/\$everything?_count=1000"
bench() { # name port path auth connections
  local out
  out=$(EHR_BENCH_TARGET="$3" EHR_BENCH_AUTH="$4" wrk -t1 -c"$5" -d"${DURATION}s" -s bench/federation/get.lua \
        "$SCHEME://127.0.0.1:$2" 2>&1 || true)
  echo "$out" > "$WORK/wrk-$1.txt"
  echo "$out" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}'
}
echo "== vault's own \$everything (baseline)"
read -r B1_P50 B1_P95 B1_P99 B1_RPS B1_ERR <<< "$(bench base-1 "${PORT[uk]}" "$UK_PATH" "" 1)"
read -r B16_P50 B16_P95 B16_P99 B16_RPS B16_ERR <<< "$(bench base-16 "${PORT[uk]}" "$UK_PATH" "" 16)"
echo "== gateway \$federated-everything"
read -r G1_P50 G1_P95 G1_P99 G1_RPS G1_ERR <<< "$(bench fed-1 "${PORT[gw]}" "$GW_PATH" "Bearer $TOKEN" 1)"
read -r G16_P50 G16_P95 G16_P99 G16_RPS G16_ERR <<< "$(bench fed-16 "${PORT[gw]}" "$GW_PATH" "Bearer $TOKEN" 16)"
echo "errors (non-200): vault $B1_ERR/$B16_ERR, gateway $G1_ERR/$G16_ERR"

ratio() { echo "$1 / $2" | bc -l | xargs printf "%.2f"; }
TABLE=$(cat <<MD

### $(date -u +%Y-%m-%dT%H:%MZ) — federation — $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(git rev-parse --short HEAD)

$([ -n "$MTLS" ] && echo "Every node on HTTPS with its own self-signed certificate, pinned in the federation file; node-to-node calls over mutual TLS (a GET's connection kept for the next: one handshake per connection). ")A traveller's record: $RESOURCES matches in the merged Bundle ($UK_RESOURCES entries from the UK vault's \$everything, $DE_RESOURCES from DE); five processes on loopback; wrk ${DURATION} s per row; non-200 answers: $G1_ERR, $G16_ERR.

| benchmark | result | baseline (same run): the UK vault's own \$everything | ratio |
|---|---|---|---|
| \$federated-everything, 1 connection | p50 $G1_P50 ms, p95 $G1_P95 ms, p99 $G1_P99 ms, $G1_RPS/s | p50 $B1_P50 ms, p95 $B1_P95 ms, $B1_RPS/s | p95 $(ratio "$G1_P95" "$B1_P95") |
| \$federated-everything, 16 connections | $G16_RPS lookups/s, p95 $G16_P95 ms | $B16_RPS/s, p95 $B16_P95 ms | $(ratio "$G16_RPS" "$B16_RPS") |
MD
)
echo "$TABLE"
echo "$TABLE" >> bench/RESULTS.md
