#!/usr/bin/env bash
# Starts the server with demo data: the Synthea set of ../shared/data is imported into
# data/demo the first time (about 92,000 resources), then `ehr serve` runs in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DATA=${EHR_DATA:-data/demo}
LISTEN=${EHR_LISTEN:-127.0.0.1:8080}
SYNTHEA=${EHR_DEMO_DATA:-../shared/data/synthea}
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
# Demo data loaded by an earlier build lacks index rows added since (search tables; then
# composite, modifier and full-text rows, marker -4): reindexed once.
if [ -f "$DATA/.demo-loaded" ] && [ ! -f "$DATA/.search-indexed-4" ]; then
  "$BUILD/ehr" reindex --data "$DATA"
  touch "$DATA/.search-indexed-4"
fi
echo "Serving; try: curl "http://$LISTEN/fhir/Patient?gender=female&_count=5"   (Ctrl-C stops)"
exec "$BUILD/ehr" serve --data "$DATA" --listen "$LISTEN" --auth off --region "${EHR_REGION:-uk}"
