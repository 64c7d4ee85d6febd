#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs dependencies, builds, runs unit,
# integration and fuzz-corpus tests, then rebuilds with ASan+UBSan and runs them again.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CTEST_OUTPUT_ON_FAILURE=1
# `sigil audit verify` remembers the logs it accepted in $XDG_STATE_HOME/sigil: keep what the
# tests' brokers leave there out of the user's own state directory.
XDG_STATE_HOME="$(mktemp -d)"
export XDG_STATE_HOME
trap 'rm -rf "$XDG_STATE_HOME"' EXIT
echo "== release build"
# Every option this script depends on is set here, whatever an earlier run (scripts/demo.sh
# configures build/ with tests off) left in the CMake cache; and ctest fails when it finds no
# test, so a misconfigured tree can never pass having run nothing.
bash scripts/build.sh build -DSIGIL_BUILD_TESTS=ON -DSIGIL_BUILD_BENCH=OFF -DSIGIL_SANITIZE=OFF \
  -DSIGIL_FUZZ=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build && ctest --no-tests=error --timeout 600 -j 2)
echo "== ASan+UBSan build"
bash scripts/build.sh build-asan -DSIGIL_BUILD_TESTS=ON -DSIGIL_BUILD_BENCH=OFF -DSIGIL_SANITIZE=ON \
  -DSIGIL_FUZZ=OFF -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --no-tests=error --timeout 900 -j 2)
