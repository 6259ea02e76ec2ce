#!/usr/bin/env bash
# Supervision dashboard over HTTP: GET /supervision (the whole page: session, every figure,
# the SVG charts) signed in as a supervisor, N requests one after another (curl's time_total),
# with 1,000,000 applications, 800,000 decisions and 10,000,000 timeline events in the database
# (benches/seed_supervision.rs); side by side, the same N requests to ../shared/bench/bare-axum's
# /hello (a bare axum handler returning a fixed 20 KB page). SQLite, then PostgreSQL.
#   bash benches/supervision.sh            # REQS=200 N=1000000
set -euo pipefail
cd "$(dirname "$0")/.."
REQS=${REQS:-200}
N=${N:-1000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
PGDB=bench_supervision
WORK=$(mktemp -d /var/tmp/supervision-bench.XXXXXX)
trap 'rc=$?; kill $(jobs -p) 2>/dev/null || true; [ $rc = 0 ] || tail -n 20 "$WORK"/*.seed "$WORK"/*.log 2>/dev/null; rm -rf "$WORK"' EXIT
. benches/lib.sh
cargo bench --bench seed_supervision --no-run --quiet 2>/dev/null
SEED_SUP=$(ls -t "$CARGO_TARGET_DIR"/release/deps/seed_supervision-* | grep -v '\.d$' | head -1)

# times URL COOKIE OUT: REQS requests, one after another, each request's seconds a line.
times() {
  for _ in $(seq "$REQS"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: bo_session=$2" "$1"
  done >"$3"
}

run_db() { # name DATABASE_URL port
  local name=$1 port=$3
  export DATABASE_URL=$2 BACKOFFICE_DATA_DIR=$WORK/$name RUST_LOG=warn
  mkdir -p "$WORK/$name"
  "$SEED_SUP" "$DATABASE_URL" "$N" 2>"$WORK/$name.seed"
  echo "bench password 1" | "$BIN" create-user --username boss --role supervisor >/dev/null
  "$BIN" serve --listen "127.0.0.1:$port" 2>"$WORK/$name.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  local cookie; cookie=$(session "$port" boss "bench password 1")
  curl -s -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/supervision" -o "$WORK/$name.page.html"
  for _ in 1 2 3 4 5; do curl -s -o /dev/null -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/supervision"; done
  times "http://127.0.0.1:$port/supervision" "$cookie" "$WORK/$name.ours"
  times "http://127.0.0.1:18081/hello" "" "$WORK/$name.bare"
  stop_server "$pid" "$name"
}

run_db sqlite "sqlite://$WORK/sqlite/backoffice.db" 18092
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)" -c "create database $PGDB"
run_db postgres "postgres://postgres@127.0.0.1:5432/$PGDB" 18093
kill $(jobs -p) 2>/dev/null || true; sleep 1
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)"

python3 - "$WORK" "$REQS" "$N" "$(nproc)" <<'PY'
import sys, os
w, reqs, n, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def load(path):
    rows = [l.split() for l in open(path)]
    bad = sum(1 for c, _ in rows if c != "200")
    return sorted(float(t) * 1e3 for _, t in rows), bad
pct = lambda xs, p: xs[round((len(xs) - 1) * p)]
print(f"GET /supervision signed in as a supervisor, {n:,} applications, {reqs} requests one after another, {cores} cores shared")
for db in ("sqlite", "postgres"):
    ours, bad = load(f"{w}/{db}.ours")
    bare, _ = load(f"{w}/{db}.bare")
    size = os.path.getsize(f"{w}/{db}.page.html")
    seed = open(f"{w}/{db}.seed").read().strip()
    print(f"  {db:<9} dashboard  p50 {pct(ours, .5):7.1f} ms  p99 {pct(ours, .99):7.1f} ms  max {ours[-1]:7.1f} ms  non-200 {bad}  ({size:,} B page; {seed})")
    print(f"  {'':<9} bare page  p50 {pct(bare, .5):7.1f} ms  p99 {pct(bare, .99):7.1f} ms")
PY
