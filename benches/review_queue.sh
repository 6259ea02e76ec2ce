#!/usr/bin/env bash
# Reviewer queue benchmark: GET /review (the first page, 50 rows, ~20 KB) with 1,000,000
# applications in the database, under wrk (2 threads, 64 connections, --latency), side by side
# with ../shared/bench/bare-axum's /hello (a bare axum handler returning a fixed 20 KB page).
# SQLite, then PostgreSQL (one database shared, as in production). Runs alternate.
#   bash benches/review_queue.sh            # RUNS=3 SECS=10 N=1000000
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-10}
N=${N:-1000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
PGDB=bench_review_queue
WORK=$(mktemp -d /var/tmp/queue-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
. benches/lib.sh

run_db() { # name DATABASE_URL port
  local name=$1 port=$3
  export DATABASE_URL=$2 BACKOFFICE_DATA_DIR=$WORK/$name RUST_LOG=warn
  "$SEED" "$DATABASE_URL" "$N" 2>"$WORK/$name.seed"
  echo "bench password 1" | "$BIN" create-user --username bench --role reviewer >/dev/null
  "$BIN" serve --listen "127.0.0.1:$port" 2>"$WORK/$name.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  local cookie; cookie=$(session "$port" bench "bench password 1")
  curl -s -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/review" -o "$WORK/$name.page.html"
  wrk -t2 -c64 -d3s -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/review" >/dev/null
  wrk -t2 -c64 -d3s http://127.0.0.1:18081/hello >/dev/null
  for r in $(seq "$RUNS"); do
    wrk -t2 -c64 -d"${SECS}s" --latency -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/review" >"$WORK/$name.run$r.txt"
    wrk -t2 -c64 -d"${SECS}s" --latency http://127.0.0.1:18081/hello >"$WORK/$name.bare$r.txt"
  done
  stop_server "$pid" "$name"
}

run_db sqlite "sqlite://$WORK/sqlite/backoffice.db" 18090
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)" -c "create database $PGDB"
run_db postgres "postgres://postgres@127.0.0.1:5432/$PGDB" 18091
kill $(jobs -p) 2>/dev/null || true; sleep 1
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)"

SECS=$SECS python3 - "$WORK" "$RUNS" "$N" "$(nproc)" <<'PY'
import re, statistics as st, sys, os
w, runs, n, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def ms(v):
    x, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(x) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def parse(path):
    t = open(path).read()
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
            ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)), ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)),
            int(bad.group(1)) if bad else 0)
print(f"GET /review, first page of 50, {n:,} applications, wrk -t2 -c64, {runs} × {os.environ.get('SECS', '10')} s, {cores} cores shared by wrk and server (medians)")
for db in ("sqlite", "postgres"):
    ours = [parse(f"{w}/{db}.run{r}.txt") for r in range(1, runs + 1)]
    bare = [parse(f"{w}/{db}.bare{r}.txt") for r in range(1, runs + 1)]
    size = os.path.getsize(f"{w}/{db}.page.html")
    seed = open(f"{w}/{db}.seed").read().strip()
    med = lambda rs, i: st.median(r[i] for r in rs)
    print(f"  {db:<9} back office {med(ours,0):8.0f} req/s  p50 {med(ours,1):5.1f} ms  p99 {med(ours,2):5.1f} ms  non-2xx {sum(r[3] for r in ours)}  ({size:,} B page; {seed})")
    print(f"  {'':<9} bare page   {med(bare,0):8.0f} req/s  p50 {med(bare,1):5.1f} ms  p99 {med(bare,2):5.1f} ms")
    print(f"  {'':<9} ratio {med(ours,0) / med(bare,0):.2f} of the bare handler's requests/s")
PY
