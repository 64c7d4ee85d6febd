#!/usr/bin/env bash
# `bench/run fleet`: full flows (challenge, dev evidence, attest, release of one artifact) over
# HTTPS keep-alive from sigil-bench-fleet against, in one run: one sigild on SQLite, one sigild on
# PostgreSQL, two sigild on one PostgreSQL (flows spread over both). Highest sustained rate of each
# (closed loop, concurrency doubling until a step adds <= 5%); then, against the SQLite broker, an
# open loop at half its rate: p50/p99 from the scheduled arrival, and the broker's utime+stime per
# flow. The PostgreSQL server is a private one (initdb in the work directory, Unix socket only, as
# nobody when root), stopped with everything else by the EXIT trap.
# Environment: SIGIL_BENCH_BUILD (build-bench/), SIGIL_BENCH_JOBS (2), SIGIL_BUILD_LOCK=FILE (build
# under flock FILE), SIGIL_FLEET_TMP (/var/tmp: keep it on a real disk, fsync must mean something),
# SIGIL_FLEET_SWEEP (1,2,4,8,16,32), SIGIL_FLEET_SECONDS (6 per step), SIGIL_FLEET_LATENCY_SECONDS
# (10), SIGIL_FLEET_WORKERS (32, open loop), SIGIL_FLEET_THREADS (sigild --threads, 4),
# SIGIL_FLEET_HANDLER_THREADS (sigild --handler-threads, its default 16),
# SIGIL_FLEET_PERF=1 (perf record -g the SQLite broker during one more closed step; prints the top),
# SIGIL_FLEET_KEEP=1 (keep the work directory), SIGIL_PG_BINDIR (/usr/lib/postgresql/<newest>/bin).
# Last line: fleet: sqlite_flows_per_s=N pg1_flows_per_s=N pg2_flows_per_s=N p99_ms_half_load=X cpu_us_per_flow=Y
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SIGIL_BENCH_BUILD:-$ROOT/build-bench}"
JOBS="${SIGIL_BENCH_JOBS:-2}"
SWEEP="${SIGIL_FLEET_SWEEP:-1,2,4,8,16,32}"
STEP_S="${SIGIL_FLEET_SECONDS:-6}"
LAT_S="${SIGIL_FLEET_LATENCY_SECONDS:-10}"
WORKERS="${SIGIL_FLEET_WORKERS:-32}"
THREADS="${SIGIL_FLEET_THREADS:-4}"
HANDLER_THREADS="${SIGIL_FLEET_HANDLER_THREADS:-16}"
lock=()
[[ -n "${SIGIL_BUILD_LOCK:-}" ]] && lock=(flock "$SIGIL_BUILD_LOCK")

"${lock[@]}" cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIGIL_BUILD_TESTS=OFF \
  -DSIGIL_BUILD_BENCH=ON >/dev/null
"${lock[@]}" ninja -C "$BUILD" -j"$JOBS" sigild sigil sigil-bench-fleet sigil-bench-crypto-floor
BIN="$BUILD/bin"

PGBIN="${SIGIL_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"
for t in initdb postgres psql; do
  [[ -x "$PGBIN/$t" ]] || { echo "bench/run fleet: $t not found in '$PGBIN' (scripts/setup.sh)" >&2; exit 1; }
done

WORK="$(mktemp -d "${SIGIL_FLEET_TMP:-/var/tmp}/sigil-fleet.XXXXXX")"
BROKERS=()
PG_PID=""

stop_pid() {  # PID SIGNAL: signal, then wait up to 30 s, then SIGKILL
  local pid="$1" sig="$2" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local p
  for p in "${BROKERS[@]}"; do stop_pid "$p" TERM; done
  [[ -n "$PG_PID" ]] && stop_pid "$PG_PID" INT
  if [[ "${SIGIL_FLEET_KEEP:-0}" == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== work directory $WORK ($(df -T "$WORK" | awk 'NR == 2 { print $2 }'); SQLite synchronous=FULL, PostgreSQL fsync=on synchronous_commit=on)"

# --- PostgreSQL: a private server, socket in $WORK/pg only.
start_postgres() {
  local dir="$WORK/pg" as=()
  mkdir -m 0700 "$dir"
  if [[ "$(id -u)" -eq 0 ]]; then
    # The server refuses root; nobody must be able to walk down to its directory.
    chown nobody:nogroup "$dir"
    chmod o+x "$WORK"
    as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
  (cd "$dir" && "${as[@]}" "$PGBIN/initdb" -D "$dir/data" -U sigil --auth=trust -E UTF8 --locale=C \
    --no-sync --no-instructions) >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<EOF
# bench/fleet.sh: Unix socket only, private directory; durable commits
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 128MB
max_connections = 100
EOF
  # exec: $! is the postmaster itself (setpriv execs it), so the trap stops the server.
  (cd "$dir" && exec "${as[@]}" "$PGBIN/postgres" -D "$dir/data") >"$WORK/postgres.log" 2>&1 &
  PG_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$PG_PID" 2>/dev/null || { echo "postgres exited:" >&2; tail -20 "$WORK/postgres.log" >&2; exit 1; }
    # Ready as pg_ctl sees it: postmaster.pid names this process and its 8th line says "ready".
    if [[ "$(sed -n 1p "$dir/data/postmaster.pid" 2>/dev/null)" == "$PG_PID" &&
          "$(sed -n 8p "$dir/data/postmaster.pid" 2>/dev/null)" == ready* ]]; then
      PG_DIR="$dir"
      return 0
    fi
    sleep 0.1
  done
  echo "postgres did not become ready" >&2
  exit 1
}

create_db() {  # NAME -> prints the store URL
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p 5432 -U sigil -d postgres -c "CREATE DATABASE $1" >/dev/null
  echo "postgresql:///$1?host=$PG_DIR&port=5432&user=sigil"
}

# --- brokers
serve() {  # DATA_DIR -> sets SERVED_PID, SERVED_URL
  local d="$1" i
  rm -f "$d.port"
  "$BIN/sigild" serve --data-dir "$d" --listen 127.0.0.1:0 --port-file "$d.port" --threads "$THREADS" --handler-threads "$HANDLER_THREADS" \
    --unauth-rate-per-address 0 --unauth-rate-per-tenant 0 >"$d.log" 2>&1 &  # all flows from 127.0.0.1
  SERVED_PID=$!
  BROKERS+=("$SERVED_PID")
  for ((i = 0; i < 600; i++)); do
    [[ -s "$d.port" ]] && break
    kill -0 "$SERVED_PID" 2>/dev/null || { echo "sigild exited:" >&2; tail -20 "$d.log" >&2; exit 1; }
    sleep 0.05
  done
  [[ -s "$d.port" ]] || { echo "sigild wrote no port file" >&2; exit 1; }
  SERVED_URL="https://127.0.0.1:$(head -n1 "$d.port")"
}

stop_brokers() {
  local p
  for p in "${BROKERS[@]}"; do stop_pid "$p" TERM; done
  BROKERS=()
}

MEASUREMENT=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
provision() {  # DATA_DIR URL: tenant bench, key bench/model, a dev-TEE policy; key public in DATA_DIR.pub
  local d="$1" url="$2" args
  cat >"$WORK/policy.json" <<'EOF'
{"version":1,"rules":[{"name":"bench","keys":["model"],"when":{"allOf":[
  {"claim":"tee","equals":"dev"},{"claim":"debug","equals":false},{"claim":"measurement","in_reference":"engines"}]}}]}
EOF
  local cli=("$BIN/sigil" --admin-dir "$d/admin" --broker "$url")
  for args in "tenant create bench" "key create bench/model" "policy set bench $WORK/policy.json" \
              "refs add bench engines $MEASUREMENT"; do
    # shellcheck disable=SC2086  # word splitting intended
    "${cli[@]}" $args >>"$WORK/cli.log" 2>&1 || { echo "provisioning failed: $args" >&2; tail "$WORK/cli.log" >&2; exit 1; }
  done
  "${cli[@]}" key public bench/model >"$d.pub"
}

gen() {  # FIRST_DATA_DIR then generator options
  local d="$1"
  shift
  "$BIN/sigil-bench-fleet" --ca "$d/admin/ca.pem" --platform-key "$d/dev/platform.key" --key-pub "$d.pub" "$@"
}

field() { tail -n1 | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }

sweep() {  # LABEL FIRST_DATA_DIR generator options (--url/--pid); prints the steps, sets SWEPT/BEST_C
  local label="$1" d="$2" out
  shift 2
  echo "== $label: closed loop, concurrency $SWEEP, ${STEP_S}s per step"
  out="$(gen "$d" "$@" --sweep "$SWEEP" --seconds "$STEP_S")" || { echo "$out"; echo "$label: flows failed" >&2; exit 1; }
  echo "$out"
  SWEPT="$(field max_flows_per_s <<<"$out")"
  BEST_C="$(field best_concurrency <<<"$out")"
}

# 1. One broker on SQLite: its rate, then latency and CPU per flow at half that rate.
SQ="$WORK/sqlite"
"$BIN/sigild" init --data-dir "$SQ" --dev-root-key --dev-tee --listen 127.0.0.1:0 >"$WORK/init-sqlite.log" 2>&1
serve "$SQ"
SQ_PID="$SERVED_PID" SQ_URL="$SERVED_URL"
provision "$SQ" "$SQ_URL"
sweep "sqlite (1 broker)" "$SQ" --url "$SQ_URL" --pid "$SQ_PID"
SQLITE_RATE="$SWEPT"
HALF="$(awk -v r="$SQLITE_RATE" 'BEGIN { printf "%d", r / 2 }')"
echo "== sqlite: open loop at ${HALF}/s (half the SQLite rate) for ${LAT_S}s, $WORKERS workers"
lat_out="$(gen "$SQ" --url "$SQ_URL" --pid "$SQ_PID" --rate "$HALF" --seconds "$LAT_S" --workers "$WORKERS")" ||
  { echo "$lat_out"; echo "latency run: flows failed" >&2; exit 1; }
echo "$lat_out"
P99="$(field p99_ms <<<"$lat_out")"
CPU="$(field cpu_us_per_flow <<<"$lat_out")"
if [[ "${SIGIL_FLEET_PERF:-0}" == 1 ]]; then
  echo "== sqlite: perf record (DWARF call graphs) on sigild during a closed step at concurrency $BEST_C"
  # DWARF call graphs: the Release build keeps no frame pointers, so -g (fp) loses the callers.
  perf record --call-graph dwarf,16384 -F 299 -p "$SQ_PID" -o "$WORK/perf.data" -- sleep "$STEP_S" >/dev/null 2>&1 &
  perf_pid=$!
  gen "$SQ" --url "$SQ_URL" --pid "$SQ_PID" --sweep "$BEST_C" --seconds "$STEP_S" --warmup 0 | sed -n 1p
  wait "$perf_pid" || true
  echo "-- inclusive (children), top 50"
  perf report -i "$WORK/perf.data" --children --sort sym -g none --stdio 2>/dev/null | grep '%' | head -50 | cut -c1-160 || true
  echo "-- self, top 20"
  perf report -i "$WORK/perf.data" --no-children --sort dso,sym -g none --stdio 2>/dev/null | grep '%' | head -20 | cut -c1-160 || true
fi
stop_brokers

# 2. One broker on PostgreSQL.
start_postgres
PG1="$WORK/pg1"
"$BIN/sigild" init --data-dir "$PG1" --dev-root-key --dev-tee --listen 127.0.0.1:0 --store "$(create_db pg1)" \
  >"$WORK/init-pg1.log" 2>&1
serve "$PG1"
provision "$PG1" "$SERVED_URL"
sweep "postgresql (1 broker)" "$PG1" --url "$SERVED_URL" --pid "$SERVED_PID"
PG1_RATE="$SWEPT"
stop_brokers

# 3. Two brokers on one PostgreSQL: the second joins the fleet of the first.
PG2="$WORK/pg2a" PG2B="$WORK/pg2b"
STORE2="$(create_db pg2)"
echo "bench fleet join passphrase" >"$WORK/join.pass"
"$BIN/sigild" init --data-dir "$PG2" --dev-root-key --dev-tee --listen 127.0.0.1:0 --store "$STORE2" \
  --join-passphrase-file "$WORK/join.pass" >"$WORK/init-pg2.log" 2>&1
"$BIN/sigild" join --data-dir "$PG2B" --dev-root-key --dev-tee --listen 127.0.0.1:0 --store "$STORE2" \
  --join-passphrase-file "$WORK/join.pass" >"$WORK/join-pg2.log" 2>&1
serve "$PG2"
A_PID="$SERVED_PID" A_URL="$SERVED_URL"
serve "$PG2B"
provision "$PG2" "$A_URL"
sweep "postgresql (2 brokers)" "$PG2" --url "$A_URL" --url "$SERVED_URL" --pid "$A_PID" --pid "$SERVED_PID"
PG2_RATE="$SWEPT"
stop_brokers

check() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }
# The floor under cpu_us_per_flow: the public-key operations a flow cannot avoid, on one quiet core.
echo "== floor: the public-key work of one flow (bench/crypto_floor_bench.cpp), measured now"
FLOOR_LINE="$("$BIN/sigil-bench-crypto-floor")"
echo "$FLOOR_LINE"
FLOOR="$(field crypto_us_per_flow <<<"$FLOOR_LINE")"
echo "== results (2-core machine, load generator on the same cores)"
printf '%-22s %-10s %-10s %s\n' metric target measured verdict
printf '%-22s %-10s %-10s %s\n' sqlite_flows_per_s ">= 1000" "$SQLITE_RATE" "$(check "$SQLITE_RATE" 1000 ">=")"
printf '%-22s %-10s %-10s %s\n' pg1_flows_per_s "-" "$PG1_RATE" "-"
printf '%-22s %-10s %-10s %s\n' pg2_flows_per_s ">= 600" "$PG2_RATE" "$(check "$PG2_RATE" 600 ">=")"
printf '%-22s %-10s %-10s %s\n' p99_ms_half_load "<= 15" "$P99" "$(check "$P99" 15 "<=")"
printf '%-22s %-10s %-10s %s\n' cpu_us_per_flow "<= 400" "$CPU" "$(check "$CPU" 400 "<=") (crypto floor $FLOOR us)"
echo "fleet: sqlite_flows_per_s=$SQLITE_RATE pg1_flows_per_s=$PG1_RATE pg2_flows_per_s=$PG2_RATE p99_ms_half_load=$P99 cpu_us_per_flow=$CPU"
