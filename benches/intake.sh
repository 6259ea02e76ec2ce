#!/usr/bin/env bash
# Intake benchmark: the back office's POST /api/v1/applications on SQLite (release build) against
# the side-by-side baseline, ../shared/bench/bare-axum's /intake/sqlite (multipart read, magic
# bytes, SHA-256, fsynced content-addressed files, one SQLite transaction), driven by the same
# load generator (benches/intake_load.rs: 16 clients, ~1 MB of scans per request, every request
# unique). Runs alternate (ours, baseline, ours, …); prints medians and the ratio.
#   bash benches/intake.sh            # RUNS=5 SECS=10 CONNS=16
# Client and servers share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
SECS=${SECS:-10}
CONNS=${CONNS:-16}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
ANCHOR_SRC=${ANCHOR_SRC:-../shared/bench/bare-axum}
ANCHOR_TARGET=${ANCHOR_TARGET:-/var/tmp/anchor-target}
WORK=$(mktemp -d /var/tmp/intake-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet
cargo bench --bench intake_load --no-run --quiet 2>/dev/null
LOAD=$(ls -t "$CARGO_TARGET_DIR"/release/deps/intake_load-* | grep -v '\.d$' | head -1)
BIN=$CARGO_TARGET_DIR/release/backoffice
(cd "$ANCHOR_SRC" && CARGO_TARGET_DIR=$ANCHOR_TARGET cargo build --release --quiet)

# Ours: a fresh data directory, a token, a registry with the load's certificate.
OURS=$WORK/ours
export BACKOFFICE_DATA_DIR=$OURS RUST_LOG=warn
"$BIN" migrate >/dev/null
TOKEN=$("$BIN" create-api-token --name load | tail -1)
printf 'serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2024-03-01,2027-03-01,valid\n' >"$WORK/registry.csv"
"$BIN" import-certificates "$WORK/registry.csv" >/dev/null
"$BIN" serve --listen 127.0.0.1:18080 2>"$WORK/ours.log" &
mkdir -p "$WORK/anchor"
INTAKE_DIR=$WORK/anchor "$ANCHOR_TARGET/release/anchor-axum-bench" serve 127.0.0.1:18081 - - >"$WORK/anchor.log" 2>&1 &
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18080/healthz && curl -sf -o /dev/null http://127.0.0.1:18081/hello && break; sleep 0.1; done

"$LOAD" http://127.0.0.1:18080/api/v1/applications "$TOKEN" "$CONNS" 3 >/dev/null
"$LOAD" http://127.0.0.1:18081/intake/sqlite - "$CONNS" 3 --anchor >/dev/null
for r in $(seq "$RUNS"); do
  "$LOAD" http://127.0.0.1:18080/api/v1/applications "$TOKEN" "$CONNS" "$SECS" >>"$WORK/ours.jsonl"
  "$LOAD" http://127.0.0.1:18081/intake/sqlite - "$CONNS" "$SECS" --anchor >>"$WORK/anchor.jsonl"
done
python3 - "$WORK" "$(nproc)" <<'PY'
import json, statistics as st, sys
w, cores = sys.argv[1], sys.argv[2]
def load(n): return [json.loads(l) for l in open(f"{w}/{n}.jsonl")]
ours, anchor = load("ours"), load("anchor")
med = lambda rs, k: st.median(r[k] for r in rs)
print(f"intake, {len(ours)} runs, {cores} cores, client and servers on one machine (medians; min–max of app/s)")
for name, rs in (("back office", ours), ("baseline", anchor)):
    bad = sum(r["non201"] + r["errors"] for r in rs)
    print(f"  {name:<12} {med(rs,'rps'):8.1f} app/s ({min(r['rps'] for r in rs):.0f}–{max(r['rps'] for r in rs):.0f})"
          f"  p50 {med(rs,'p50_ms'):6.1f} ms  p99 {med(rs,'p99_ms'):6.1f} ms  failed {bad}")
print(f"  ratio back office / baseline: {med(ours,'rps') / med(anchor,'rps'):.2f}")
PY
