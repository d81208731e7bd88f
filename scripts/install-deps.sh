#!/usr/bin/env bash
# Installs every Debian and npm dependency of the project. Idempotent: a second run
# installs nothing and takes a second. Run as root (or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libre2-dev libpugixml-dev libssl-dev libsqlite3-dev sqlite3 rapidjson-dev libfmt-dev
  libsodium-dev zlib1g-dev libbz2-dev libgtest-dev libgmock-dev libbenchmark-dev libutf8proc-dev
  clang curl bc wrk hyperfine nodejs python3 openssl
  libp11-kit-dev softhsm2
  postgresql libpq-dev
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package unless a node distribution that bundles npm is already present.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages pinned in package.json / package-lock.json (FHIR definitions, reference tools).
if [ ! -f node_modules/.install-stamp ] || [ package.json -nt node_modules/.install-stamp ] \
   || [ package-lock.json -nt node_modules/.install-stamp ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.install-stamp
fi
