#!/usr/bin/env bash
# Pre-check benchmark, in one run on this machine:
#  1. pre-checks per application (five corpus scans: card front and back, two forms, a photo),
#     and precision/recall of each check on the generated corpus (benches/prechecks.rs);
#  2. intake throughput (benches/intake_load.rs, as benches/intake.sh drives it) with the
#     pre-check job running beside the server on a queue of real applications, against the same
#     server with BACKOFFICE_PRECHECKS=off, alternating (with, without, with, …), each run on a
#     fresh data directory. Prints medians and the ratio.
#   bash benches/prechecks.sh        # APPS=12 RUNS=3 SECS=10 CONNS=16 SEED=60 PROFILE=release
# Client, server and tesseract share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
APPS=${APPS:-12}
RUNS=${RUNS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-16}
SEED=${SEED:-60}
# PROFILE=dev measures without a release build (tesseract dominates the pre-checks either way).
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
WORK=$(mktemp -d /var/tmp/precheck-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --profile "$PROFILE" --quiet
cargo bench --profile "$PROFILE" --bench intake_load --no-run --quiet 2>/dev/null
cargo bench --profile "$PROFILE" --bench prechecks --no-run --quiet 2>/dev/null
LOAD=$(ls -t "$CARGO_TARGET_DIR"/"$DIR"/deps/intake_load-* | grep -v '\.d$' | head -1)
PRE=$(ls -t "$CARGO_TARGET_DIR"/"$DIR"/deps/prechecks-* | grep -v '\.d$' | head -1)
BIN=$CARGO_TARGET_DIR/$DIR/backoffice

echo "pre-checks on the generated corpus, $(nproc) cores, profile $PROFILE"
"$PRE" "$APPS" 1 | tee "$WORK/corpus.jsonl"

# One intake run: a fresh server (pre-checks on or off), for "on" a queue of real applications
# seeded first, then the load.
run() {
  local mode=$1 dir=$WORK/$1-$2
  mkdir -p "$dir"
  # Throughput, not the per-client limits (benches/api_limits.sh measures those).
  export BACKOFFICE_DATA_DIR=$dir RUST_LOG=warn BACKOFFICE_PRECHECKS=$mode BACKOFFICE_API_LIMITS=off
  "$BIN" migrate >/dev/null
  local token
  token=$("$BIN" create-api-token --name load | tail -1)
  printf 'serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2024-03-01,2027-03-01,valid\n' >"$dir/registry.csv"
  "$BIN" import-certificates "$dir/registry.csv" >/dev/null
  "$BIN" serve --listen 127.0.0.1:18090 2>"$dir/server.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18090/healthz && break; sleep 0.1; done
  if [ "$mode" = on ]; then
    "$PRE" seed http://127.0.0.1:18090/api/v1/applications "$token" "$SEED"
    sleep 6 # the job's first tick (every 5 s) has started on the queue
  fi
  "$LOAD" http://127.0.0.1:18090/api/v1/applications "$token" "$CONNS" "$SECS" >>"$WORK/intake-$mode.jsonl"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
for r in $(seq "$RUNS"); do
  run on "$r"
  run off "$r"
done
python3 - "$WORK" "$(nproc)" <<'PY'
import json, statistics as st, sys
w, cores = sys.argv[1], sys.argv[2]
def load(n): return [json.loads(l) for l in open(f"{w}/intake-{n}.jsonl")]
on, off = load("on"), load("off")
med = lambda rs, k: st.median(r[k] for r in rs)
print(f"intake, {len(on)} runs each, {cores} cores, client, server and tesseract on one machine (medians)")
for name, rs in (("pre-checks running", on), ("pre-checks off", off)):
    bad = sum(r["non201"] + r["errors"] for r in rs)
    print(f"  {name:<19} {med(rs,'rps'):8.1f} app/s ({min(r['rps'] for r in rs):.0f}–{max(r['rps'] for r in rs):.0f})"
          f"  p50 {med(rs,'p50_ms'):6.1f} ms  p99 {med(rs,'p99_ms'):6.1f} ms  failed {bad}")
print(f"  ratio running / off: {med(on,'rps') / med(off,'rps'):.2f}")
PY
