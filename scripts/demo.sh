#!/usr/bin/env bash
# The end-to-end demo on the embedded store: install, build, start a broker on loopback, create a
# tenant, key, policy and reference value, encrypt a model offline, attest with the development
# TEE, decrypt in memory, run the reference engine, and show and verify the audit trail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build -DSIGIL_BUILD_TESTS=OFF -DSIGIL_BUILD_BENCH=OFF -DSIGIL_SANITIZE=OFF -DSIGIL_FUZZ=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
BIN="$PWD/build/bin"
WORK="$(mktemp -d /tmp/sigil-demo.XXXXXX)"
BROKER_PID=""
cleanup() { [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "operator: initialise the broker (root key sealed by an Argon2id passphrase; dev TEE enabled for the demo)"
export SIGIL_ROOT_PASSPHRASE="demo-$(head -c 12 /dev/urandom | base64)"
"$BIN/sigild" init --data-dir "$WORK/broker" --dev-tee --listen 127.0.0.1:0
"$BIN/sigild" serve --data-dir "$WORK/broker" --port-file "$WORK/port" 2>"$WORK/sigild.log" &
BROKER_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || { cat "$WORK/sigild.log"; exit 1; }
export SIGIL_ADMIN_DIR="$WORK/broker/admin" SIGIL_BROKER_URL="https://127.0.0.1:$(cat "$WORK/port")"
echo "sigild is listening on $SIGIL_BROKER_URL"

step "operator: create the tenant (its first tenant-admin credential goes to \$SIGIL_ADMIN_DIR/tenants/demo)"
"$BIN/sigil" tenant create demo
step "tenant-admin of demo: model-weights key, policy and the approved engine measurement"
"$BIN/sigil" key create demo/demo-mlp --class model-weights
"$BIN/sigil" policy set demo policies/examples/demo-dev.json
MEASUREMENT="$("$BIN/sigil-load" measure --engine "$BIN/sigil-infer")"
"$BIN/sigil" refs add demo demo-engines "$MEASUREMENT"

step "model owner: make weights and encrypt them offline to the key's public half"
"$BIN/sigil" key public demo/demo-mlp > "$WORK/demo-mlp.pub"
"$BIN/sigil-infer" make-weights "$WORK/model.safetensors" --seed 7
"$BIN/sigil" model encrypt --recipient "$WORK/demo-mlp.pub" "$WORK/model.safetensors" "$WORK/model.sgl"
"$BIN/sigil" model inspect "$WORK/model.sgl"
EXPECTED="$("$BIN/sigil-infer" run "$WORK/model.safetensors")"
rm "$WORK/model.safetensors"   # from here on, the plaintext exists only in the workload's memory

step "workload: attest (dev TEE), receive the key, decrypt in memory, run the engine"
"$BIN/sigil-load" run --broker "$SIGIL_BROKER_URL" --ca "$SIGIL_ADMIN_DIR/ca.pem" --tenant demo --tee dev \
  --dev-platform-key "$WORK/broker/dev/platform.key" --model "$WORK/model.sgl" \
  -- "$BIN/sigil-infer" run '{model}' | tee "$WORK/output.txt"
if [ "$(cat "$WORK/output.txt")" = "$EXPECTED" ]; then
  echo "engine output matches the output computed from the plaintext weights"
else
  echo "MISMATCH between decrypted and plaintext output"; exit 1
fi

step "auditor: the tenant's audit trail"
"$BIN/sigil" audit list demo
"$BIN/sigil" audit verify demo
