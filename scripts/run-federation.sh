#!/usr/bin/env bash
# `make run-federation`: a federation on this machine, as separate processes on loopback
# (README "Federation"): a Master Patient Index, vaults for UK, DE and FR, each loaded the
# first time with EHR_DEMO_PATIENTS (300) generated patients of its region (`ehr synth`, one
# seed, so that travellers recorded abroad are the same people as at home), and a gateway
# for region FR in the foreground. Data in data/federation; Ctrl-C stops everything.
# The nodes talk HTTPS with mutual TLS: each has its own self-signed certificate (made once in
# its DIR/tls, scripts/demo-tls.sh), pinned in the federation file; EHR_TLS=off: plain HTTP
# with node tokens alone.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
EHR="$(pwd)/$BUILD/ehr"
DATA=${EHR_DATA:-data/federation}
BASE=${EHR_FEDERATION_PORT:-8090}
PATIENTS=${EHR_DEMO_PATIENTS:-300}
NODES=(mpi uk de fr gw)
declare -A PORT
for i in "${!NODES[@]}"; do PORT[${NODES[$i]}]=$((BASE + i)); mkdir -p "$DATA/${NODES[$i]}"; done
ROOT=$DATA
declare -A NODE_TLS CACERT
SCHEME=http
for n in "${NODES[@]}"; do
  # shellcheck disable=SC2034 # LISTEN: read by demo-tls.sh
  DATA="$ROOT/$n" LISTEN="127.0.0.1:${PORT[$n]}"
  # shellcheck source=scripts/demo-tls.sh
  source scripts/demo-tls.sh
  NODE_TLS[$n]="${TLS[*]:-}"
  CACERT[$n]="$ROOT/$n/tls/cert.pem"
done
DATA=$ROOT
FEDERATION="$DATA/federation.json"
[ "$SCHEME" = https ] && FEDERATION="$DATA/federation-mtls.json"
curl_node() { # node, curl args...
  local n=$1; shift
  if [ "$SCHEME" = https ]; then curl --cacert "${CACERT[$n]}" "$@"; else curl "$@"; fi
}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

# Keys, the shared pepper and the federation file, once.
if [ ! -f "$FEDERATION" ]; then
  declare -A KEY PIN
  for n in "${NODES[@]}"; do
    KEY[$n]=$("$EHR" federation node-key --data "$DATA/$n" 2>/dev/null | tail -1)
    [ "$SCHEME" = https ] && PIN[$n]=$(printf ', "certificates": ["%s"]' "$("$EHR" federation certificate "${CACERT[$n]}")")
  done
  [ -f "$DATA/pepper" ] || ( umask 077; "$EHR" federation pepper > "$DATA/pepper" )
  node() { # name role region
    local region=""; [ -n "$3" ] && region="\"region\": \"$3\", "
    printf '  {"name": "%s", "role": "%s", %s"url": "%s://127.0.0.1:%s", "key": "%s"%s}' "$1" "$2" "$region" "$SCHEME" \
      "${PORT[$4]}" "${KEY[$4]}" "${PIN[$4]:-}"
  }
  {
    echo '{"deadlineMs": 2000, "nodes": ['
    node mpi mpi "" mpi; echo ","
    node vault-uk vault uk uk; echo ","
    node vault-de vault de de; echo ","
    node vault-fr vault fr fr; echo ","
    node gateway-fr gateway fr gw; echo
    echo ']}'
  } > "$FEDERATION"
fi
# Each vault's patients, once (the vault registers them at the MPI when it starts).
for r in uk de fr; do
  if [ ! -f "$DATA/$r/.synth-loaded" ]; then
    echo "Generating $PATIENTS patients ($r) and loading them into $DATA/$r ..."
    rm -rf "$DATA/synth-$r"
    "$EHR" synth --region "$r" --patients "$PATIENTS" --seed 1 --out "$DATA/synth-$r" > /dev/null
    "$EHR" import --data "$DATA/$r" "$DATA/synth-$r" 2> "$DATA/$r-import.log"
    touch "$DATA/$r/.synth-loaded"
  fi
done
if [ ! -f "$DATA/demo-password" ]; then
  ( umask 077; printf 'Demo-%s-7!\n' "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$DATA/demo-password" )
  EHR_USER_PASSWORD=$(cat "$DATA/demo-password") "$EHR" user add --data "$DATA/gw" --user demo.doctor --roles DOCTOR > /dev/null
fi

start() { # node, args...
  local n=$1; shift
  # shellcheck disable=SC2086 # NODE_TLS: the TLS flags, paths without spaces
  EHR_ADMIN_PASSWORD=$(cat "$DATA/demo-password") "$EHR" serve --listen "127.0.0.1:${PORT[$n]}" --data "$DATA/$n" \
    --federation "$FEDERATION" ${NODE_TLS[$n]} "$@" > "$DATA/$n.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do curl_node "$n" -sf "$SCHEME://127.0.0.1:${PORT[$n]}/healthz" > /dev/null && return; sleep 0.1; done
  echo "the $n node did not start:"; tail -5 "$DATA/$n.log"; exit 1
}
PEPPER=(--federation-pepper-file "$DATA/pepper")
start mpi --role mpi --node mpi
for r in uk de fr; do start "$r" --role vault --node "vault-$r" "${PEPPER[@]}"; done

CURL_GW=curl
[ "$SCHEME" = https ] && CURL_GW="curl --cacert ${CACERT[gw]}"
TOKEN=$("$EHR" token --data "$DATA/gw" --user demo.doctor --ttl-seconds 900 2>/dev/null | tail -1)
TRAVELLER=$(awk -F, 'NR == 2 {print $5 "|" $6}' "$DATA/synth-de/ground-truth/travellers.csv")
cat <<EOT
Federation: MPI :${PORT[mpi]}, vaults uk :${PORT[uk]}, de :${PORT[de]}, fr :${PORT[fr]} (logs in $DATA/*.log);
gateway fr at $SCHEME://127.0.0.1:${PORT[gw]}/fhir$([ "$SCHEME" = https ] && echo " (nodes on mutual TLS, pinned in $FEDERATION)").
The vaults register their patients at the MPI in the background (a few seconds after start).
A doctor at the gateway (demo.doctor, password in $DATA/demo-password), token for 15 minutes:
  TOKEN=$TOKEN
A traveller recorded in DE and at home ($TRAVELLER):
  $CURL_GW -H "Authorization: Bearer \$TOKEN" "$SCHEME://127.0.0.1:${PORT[gw]}/fhir/Patient/\\\$locate?identifier=$TRAVELLER"
  $CURL_GW -H "Authorization: Bearer \$TOKEN" "$SCHEME://127.0.0.1:${PORT[gw]}/fhir/Patient/\\\$federated-timeline?identifier=$TRAVELLER"
Serving (Ctrl-C stops every node).
EOT
# shellcheck disable=SC2086
EHR_ADMIN_PASSWORD=$(cat "$DATA/demo-password") "$EHR" serve --listen "127.0.0.1:${PORT[gw]}" --data "$DATA/gw" \
  --federation "$FEDERATION" ${NODE_TLS[gw]} --role gateway --node gateway-fr "${PEPPER[@]}" 2>&1 | grep -v '"event":"http_request"' &
PIDS+=($!)
wait
