#!/usr/bin/env bash
# `make run-standalone`: one stand-alone FHIR server (a vault outside any federation) with demo data: the Synthea set of ../shared/data (about 92,000
# resources) and a generated population of EHR_DEMO_PATIENTS (300) patients of the served
# region (`ehr synth`, with its ground truth in data/demo/synth/ground-truth) are imported
# into data/demo the first time, then `ehr serve` runs in the foreground, over HTTPS with a
# self-signed certificate made once in data/demo/tls (EHR_TLS=off: plain HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${EHR_DATA:-data/demo}
LISTEN=${EHR_LISTEN:-127.0.0.1:8080}
SYNTHEA=${EHR_DEMO_DATA:-../shared/data/synthea}
REGION=${EHR_REGION:-uk}
mkdir -p "$DATA"
if [ ! -f "$DATA/.demo-loaded" ]; then
  if [ -d "$SYNTHEA" ]; then
    echo "Loading demo data from $SYNTHEA into $DATA ..."
    "$BUILD/ehr" import --data "$DATA" "$SYNTHEA"
    touch "$DATA/.demo-loaded" "$DATA/.search-indexed-4"
  else
    echo "No demo data at $SYNTHEA; starting empty."
  fi
fi
if [ ! -f "$DATA/.synth-loaded" ]; then
  case "$REGION" in uk|de|fr|us) SYNTH_REGION=$REGION ;; *) SYNTH_REGION=uk ;; esac
  echo "Generating ${EHR_DEMO_PATIENTS:-300} patients ($SYNTH_REGION) into $DATA/synth and loading them ..."
  rm -rf "$DATA/synth"
  "$BUILD/ehr" synth --region "$SYNTH_REGION" --patients "${EHR_DEMO_PATIENTS:-300}" --seed 1 --out "$DATA/synth" > /dev/null
  "$BUILD/ehr" import --data "$DATA" "$DATA/synth"
  touch "$DATA/.synth-loaded"
fi
# Demo data loaded by an earlier build lacks index rows added since (search tables; then
# composite, modifier and full-text rows, marker -4): reindexed once.
if [ -f "$DATA/.demo-loaded" ] && [ ! -f "$DATA/.search-indexed-4" ]; then
  "$BUILD/ehr" reindex --data "$DATA"
  touch "$DATA/.search-indexed-4"
fi
. scripts/demo-tls.sh
AUTH=${EHR_AUTH:-on}
if [ "$AUTH" = off ]; then
  echo "Serving without authentication; try: $CURL \"$SCHEME://$LISTEN/fhir/Patient?gender=female&_count=5\"   (Ctrl-C stops)"
  exec "$BUILD/ehr" serve --role vault --data "$DATA" --listen "$LISTEN" --auth off --region "$REGION" "${TLS[@]}"
fi
# Demo accounts, once: a doctor and a clerk with the password in $DATA/demo-password
# (random, mode 0600). The first start of `ehr serve` also creates the administrator
# 'admin' and prints its password once.
# The doctor is the generated practitioner who is GP to the most patients: a doctor reaches
# the patients in their care (and others only by breaking the glass).
if [ ! -f "$DATA/demo-password" ]; then
  ( umask 077; printf 'Demo-%s-7!\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$DATA/demo-password" )
  GP=$(python3 - "$DATA/synth/Patient.ndjson" <<'PY'
import collections, json, sys
counts = collections.Counter()
for line in open(sys.argv[1]):
    for ref in json.loads(line).get("generalPractitioner", []):
        if ref.get("reference", "").startswith("Practitioner/"):
            counts[ref["reference"]] += 1
print(counts.most_common(1)[0][0] if counts else "")
PY
)
  EHR_USER_PASSWORD=$(cat "$DATA/demo-password") "$BUILD/ehr" user add --data "$DATA" \
    --user demo.doctor --roles DOCTOR --tenants default ${GP:+--fhir-user "$GP"}
  EHR_USER_PASSWORD=$(cat "$DATA/demo-password") "$BUILD/ehr" user add --data "$DATA" \
    --user demo.clerk --roles CLERK --tenants default
fi
TOKEN=$("$BUILD/ehr" token --data "$DATA" --user demo.doctor --ttl-seconds 900)
cat <<EOT
Demo accounts demo.doctor (DOCTOR, GP of some of the generated patients: others need the
X-Break-Glass header with a reason) and demo.clerk (CLERK), password in $DATA/demo-password.
A doctor's token for the next 15 minutes:
  TOKEN=$TOKEN
  $CURL -H "Authorization: Bearer \$TOKEN" "$SCHEME://$LISTEN/fhir/Patient?gender=female&_count=5"
Log in for a fresh one: $CURL -X POST -H 'Content-Type: application/json' \\
  -d '{"username":"demo.doctor","password":"'\$(cat $DATA/demo-password)'"}' $SCHEME://$LISTEN/auth/login
Serving (Ctrl-C stops); EHR_AUTH=off make run serves without authentication, EHR_TLS=off without TLS.
EOT
exec "$BUILD/ehr" serve --role vault --data "$DATA" --listen "$LISTEN" --auth on --region "$REGION" "${TLS[@]}"
