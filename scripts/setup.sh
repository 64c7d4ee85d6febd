#!/usr/bin/env bash
# Installs every build, test and demo dependency of Sigil from Debian 12's packages.
# Idempotent; needs root (or sudo). Nothing is downloaded from anywhere but Debian's registry.
set -euo pipefail
PKGS=(
  build-essential g++ cmake ninja-build lld pkg-config git ca-certificates
  libssl-dev openssl libsodium-dev libsqlite3-dev sqlite3 nlohmann-json3-dev
  libboost-dev libboost-system-dev libcli11-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libcbor-dev libtss2-dev libpq-dev libseccomp-dev libtomlplusplus-dev
  libxml2-dev libxmlsec1-dev xmlsec1  # NVIDIA RIMs: parse, verify; tests sign with xmlsec1
  swtpm swtpm-tools tpm2-tools age postgresql
  curl python3 python3-cryptography python3-jwcrypto procps time
  prometheus  # promtool check metrics: tests of GET /metrics
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
