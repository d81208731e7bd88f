#!/usr/bin/env bash
# `make run`: the federation in one process (`ehr serve` without --role; README
# "Federation"): vaults for UK, DE and FR, each loaded on first start with EHR_DEMO_PATIENTS
# (300) generated patients of its region, travellers among them; the Master Patient Index;
# and a gateway of region EHR_REGION (uk) on EHR_LISTEN (127.0.0.1:8080), over HTTPS with a
# self-signed certificate made once in DATA/tls (EHR_TLS=off: plain HTTP). The vaults and the
# MPI listen on the loopback address at the next four ports. Data in data/all-in-one.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
EHR="$(pwd)/$BUILD/ehr"
DATA=${EHR_DATA:-data/all-in-one}
LISTEN=${EHR_LISTEN:-127.0.0.1:8080}
mkdir -p "$DATA"
. scripts/demo-tls.sh
PORT=${LISTEN##*:}
HOST=${LISTEN%:*}
[ "$HOST" = 0.0.0.0 ] || [ "$HOST" = "[::]" ] && HOST=127.0.0.1

# Demo accounts, once, password in $DATA/demo-password (random, mode 0600): demo.doctor at
# the gateway (cross-border lookups) and in the UK vault (local care); the administrator of
# every node gets the same password.
if [ ! -f "$DATA/demo-password" ]; then
  ( umask 077; printf 'Demo-%s-7!\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$DATA/demo-password" )
fi
PASSWORD=$(cat "$DATA/demo-password")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true' EXIT
EHR_ADMIN_PASSWORD=$PASSWORD "$EHR" serve --data "$DATA" --listen "$LISTEN" \
  --demo-patients "${EHR_DEMO_PATIENTS:-300}" "${TLS[@]}" 2>&1 | grep --line-buffered -v '"event":"http_request"' &
PID=$!
for _ in $(seq 1800); do
  $CURL -sf "$SCHEME://$HOST:$PORT/healthz" > /dev/null && break
  kill -0 "$PID" 2>/dev/null || { echo "ehr serve stopped"; exit 1; }
  sleep 0.2
done
if [ ! -f "$DATA/.demo-accounts" ]; then
  EHR_USER_PASSWORD=$PASSWORD "$EHR" user add --data "$DATA/gateway" --user demo.doctor --roles DOCTOR > /dev/null
  # In the UK vault, the doctor is the generated practitioner who is GP to the most patients:
  # a doctor reaches the patients in their care (and others only by breaking the glass).
  GP=$(python3 - "$DATA/demo-synth/uk/Patient.ndjson" <<'PY'
import collections, json, os, sys
counts = collections.Counter()
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        for ref in json.loads(line).get("generalPractitioner", []):
            if ref.get("reference", "").startswith("Practitioner/"):
                counts[ref["reference"]] += 1
print(counts.most_common(1)[0][0] if counts else "")
PY
)
  EHR_USER_PASSWORD=$PASSWORD "$EHR" user add --data "$DATA/vault-uk" --user demo.doctor --roles DOCTOR \
    ${GP:+--fhir-user "$GP"} > /dev/null
  touch "$DATA/.demo-accounts"
fi
TOKEN=$("$EHR" token --data "$DATA/gateway" --user demo.doctor --ttl-seconds 900 2>/dev/null | tail -1)
TRAVELLER=$(awk -F, 'NR == 2 {print $5 "|" $6}' "$DATA/demo-synth/de/ground-truth/travellers.csv" 2>/dev/null || true)
cat <<EOT

Accounts: demo.doctor at the gateway and in the UK vault, and 'admin' on every node, password
in $DATA/demo-password. A doctor's token at the gateway for the next 15 minutes:
  TOKEN=$TOKEN
A traveller recorded in DE and at home (${TRAVELLER:-none: EHR_DEMO_PATIENTS=0}):
  $CURL -H "Authorization: Bearer \$TOKEN" "$SCHEME://$HOST:$PORT/fhir/Patient/\\\$locate?identifier=$TRAVELLER"
  $CURL -H "Authorization: Bearer \$TOKEN" "$SCHEME://$HOST:$PORT/fhir/Patient/\\\$federated-timeline?identifier=$TRAVELLER"
Local care in the UK vault: TOKEN=\$($EHR token --data $DATA/vault-uk --user demo.doctor)
  curl -H "Authorization: Bearer \$TOKEN" "http://127.0.0.1:$((PORT + 1))/fhir/Patient?_count=5"
Serving (Ctrl-C stops). make run-standalone: one stand-alone server with the Synthea data.
EOT
wait "$PID"
