#!/usr/bin/env bash
# Hotline look-up benchmark: GET /hotline?q=<mobile> and ?q=<serial> signed in as an agent, with
# 1,000,000 applications in the database (each look-up also writes its audit record), under wrk
# (2 threads, 16 connections, --latency), on SQLite and PostgreSQL, with the hourly limit off (one
# agent making thousands of look-ups would be throttled; a real limit counts at most its own
# value of rows); side by side with
# ../shared/bench/bare-axum's bare /hello. Aim: p99 < 20 ms; the server's peak RSS is reported.
#   bash benches/hotline.sh            # RUNS=3 SECS=10 N=1000000
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-10}
N=${N:-1000000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
PGDB=bench_hotline
WORK=$(mktemp -d /var/tmp/hotline-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
. benches/lib.sh

run_db() { # name DATABASE_URL port
  local name=$1 port=$3
  export DATABASE_URL=$2 BACKOFFICE_DATA_DIR=$WORK/$name RUST_LOG=warn BACKOFFICE_HOTLINE_LOOKUPS_PER_HOUR=0
  "$SEED" "$DATABASE_URL" "$N" 2>"$WORK/$name.seed"
  echo "bench password 1" | "$BIN" create-user --username agent --role hotline >/dev/null
  "$BIN" serve --listen "127.0.0.1:$port" 2>"$WORK/$name.log" &
  local pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  local cookie; cookie=$(session "$port" agent "bench password 1")
  # Application 123457 of the seed: mobile 13800123457, serial 01500000000000123457.
  curl -s -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/hotline?q=13800123457" -o "$WORK/$name.page.html"
  grep -q '/hotline/BF' "$WORK/$name.page.html" || { echo "look-up found nothing on $name" >&2; exit 1; }
  wrk -t2 -c16 -d3s -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/hotline?q=13800123457" >/dev/null
  for r in $(seq "$RUNS"); do
    wrk -t2 -c16 -d"${SECS}s" --latency -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/hotline?q=13800123457" >"$WORK/$name.mobile$r.txt"
    wrk -t2 -c16 -d"${SECS}s" --latency -H "Cookie: bo_session=$cookie" "http://127.0.0.1:$port/hotline?q=01500000000000123457" >"$WORK/$name.serial$r.txt"
    wrk -t2 -c16 -d"${SECS}s" --latency http://127.0.0.1:18081/hello >"$WORK/$name.bare$r.txt"
  done
  stop_server "$pid" "$name"
}

run_db sqlite "sqlite://$WORK/sqlite/backoffice.db" 18092
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)" -c "create database $PGDB"
run_db postgres "postgres://postgres@127.0.0.1:5432/$PGDB" 18093
kill $(jobs -p) 2>/dev/null || true; sleep 1
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)"

SECS=$SECS python3 - "$WORK" "$RUNS" "$N" "$(nproc)" <<'PY'
import os, re, statistics as st, sys
w, runs, n, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def ms(v):
    x, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(x) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def parse(path):
    t = open(path).read()
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)), ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)),
            ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)), int(bad.group(1)) if bad else 0)
print(f"GET /hotline?q=…, {n:,} applications, wrk -t2 -c16, {runs} × {os.environ.get('SECS', '10')} s, {cores} cores shared (medians)")
for db in ("sqlite", "postgres"):
    for key in ("mobile", "serial", "bare"):
        rs = [parse(f"{w}/{db}.{key}{r}.txt") for r in range(1, runs + 1)]
        med = lambda i: st.median(r[i] for r in rs)
        label = "bare /hello" if key == "bare" else f"by {key}"
        print(f"  {db:<9} {label:<12} {med(0):8.0f} req/s  p50 {med(1):5.1f} ms  p99 {med(2):5.1f} ms  non-2xx {sum(r[3] for r in rs)}")
    print(f"  {db:<9} server peak RSS {int(open(f'{w}/{db}.rss').read() or 0) / 1024:.0f} MiB (aim < 100)")
PY
