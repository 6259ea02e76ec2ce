#!/usr/bin/env bash
# Per-client limits of the intake API (issue 11), SQLite, release build, client and servers on one
# machine (2 cores, shared with other builds: read the ratios, taken side by side in one run).
#  1. Intake throughput with the limits on (generous limits, so only their cost is measured)
#     against the same server with BACKOFFICE_API_LIMITS=off; runs alternate.
#  2. The staff queue page's p99 (GET /review, wrk -t1 -c8) while one API client floods
#     POST /api/v1/applications at its limit (rate 600/min, 4 uploads at once, 16 connections
#     hammering: most answers are 429), against the same page with no flood; runs alternate.
#   bash benches/api_limits.sh            # RUNS=3 SECS=10 CONNS=16
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-16}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
WORK=$(mktemp -d /var/tmp/api-limits-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }

cargo build --release --quiet
cargo bench --bench intake_load --no-run --quiet 2>/dev/null
LOAD=$(ls -t "$CARGO_TARGET_DIR"/release/deps/intake_load-* | grep -v '\.d$' | head -1)
BIN=$CARGO_TARGET_DIR/release/backoffice
printf 'serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2024-03-01,2027-03-01,valid\n' >"$WORK/registry.csv"

# session PORT USERNAME PASSWORD: signs in by the form and prints the session cookie's value.
session() {
  local jar=$WORK/jar.$1 csrf
  curl -s -c "$jar" "http://127.0.0.1:$1/login" -o "$WORK/login.html"
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"//')
  curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" --data-urlencode "username=$2" \
    --data-urlencode "password=$3" "http://127.0.0.1:$1/login"
  awk '$6=="bo_session"{print $7}' "$jar"
}

# set_limits PORT RATE UPLOADS BODY: as admin through /admin/api-clients (the first token).
set_limits() {
  local jar=$WORK/jar.$1 csrf id
  curl -s -b "$jar" "http://127.0.0.1:$1/admin/api-clients" -o "$WORK/clients.html"
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/clients.html" | head -1 | sed 's/.*value="//; s/"//')
  id=$(grep -o 'action="/admin/api-clients/[0-9]*"' "$WORK/clients.html" | head -1 | grep -o '[0-9]*')
  curl -s -b "$jar" -o /dev/null -w '%{http_code}\n' --data-urlencode "_csrf=$csrf" \
    --data "rate_per_minute=$2&max_concurrent_uploads=$3&max_body_bytes=$4" \
    "http://127.0.0.1:$1/admin/api-clients/$id" | grep -q 303
}

start() { # NAME PORT LIMITS(on|off)
  export BACKOFFICE_DATA_DIR=$WORK/$1 DATABASE_URL=sqlite://$WORK/$1/backoffice.db RUST_LOG=warn
  mkdir -p "$WORK/$1"
  "$BIN" migrate >/dev/null
  "$BIN" import-certificates "$WORK/registry.csv" >/dev/null
  "$BIN" create-api-token --name load | tail -1 >"$WORK/$1.token"
  echo "bench password 1" | "$BIN" create-user --username boss --role admin >/dev/null
  echo "bench password 1" | "$BIN" create-user --username rev --role reviewer >/dev/null
  BACKOFFICE_API_LIMITS=$3 "$BIN" serve --listen "127.0.0.1:$2" 2>"$WORK/$1.log" &
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$2/healthz" && break; sleep 0.1; done
  session "$2" boss "bench password 1" >/dev/null
  unset BACKOFFICE_DATA_DIR DATABASE_URL
}

# 1. Throughput, limits on (generous) against off.
start on 18180 on
set_limits 18180 100000 64 20000000
start off 18181 off
"$LOAD" http://127.0.0.1:18180/api/v1/applications "$(cat "$WORK/on.token")" "$CONNS" 3 >/dev/null
"$LOAD" http://127.0.0.1:18181/api/v1/applications "$(cat "$WORK/off.token")" "$CONNS" 3 >/dev/null
for r in $(seq "$RUNS"); do
  "$LOAD" http://127.0.0.1:18180/api/v1/applications "$(cat "$WORK/on.token")" "$CONNS" "$SECS" >>"$WORK/on.jsonl"
  "$LOAD" http://127.0.0.1:18181/api/v1/applications "$(cat "$WORK/off.token")" "$CONNS" "$SECS" >>"$WORK/off.jsonl"
done
kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true

# 2. The queue page's p99 with and without a client flooding at its limit.
start flood 18182 on
set_limits 18182 600 4 11000000
COOKIE=$(session 18182 rev "bench password 1")
URL=http://127.0.0.1:18182/review
wrk -t1 -c8 -d3s -H "Cookie: bo_session=$COOKIE" "$URL" >/dev/null
for r in $(seq "$RUNS"); do
  wrk -t1 -c8 -d"${SECS}s" --latency -H "Cookie: bo_session=$COOKIE" "$URL" >"$WORK/quiet$r.txt"
  "$LOAD" http://127.0.0.1:18182/api/v1/applications "$(cat "$WORK/flood.token")" "$CONNS" "$((SECS + 2))" >>"$WORK/flood.jsonl" &
  sleep 1
  wrk -t1 -c8 -d"${SECS}s" --latency -H "Cookie: bo_session=$COOKIE" "$URL" >"$WORK/flooded$r.txt"
  wait %% 2>/dev/null || sleep 2
done

python3 - "$WORK" "$RUNS" "$(nproc)" <<'PY'
import json, re, statistics as st, sys
w, runs, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3]
load = lambda n: [json.loads(l) for l in open(f"{w}/{n}.jsonl")]
med = lambda rs, k: st.median(r[k] for r in rs)
on, off = load("on"), load("off")
print(f"intake throughput, limits on (generous) vs off, {runs} runs alternating, {cores} cores shared (medians)")
for name, rs in (("limits on", on), ("limits off", off)):
    print(f"  {name:<10} {med(rs,'rps'):8.1f} app/s  p50 {med(rs,'p50_ms'):6.1f} ms  p99 {med(rs,'p99_ms'):6.1f} ms  failed {sum(r['non201'] + r['errors'] for r in rs)}")
print(f"  ratio on / off: {med(on,'rps') / med(off,'rps'):.3f}")
def ms(v):
    x, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(x) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def wrk(p):
    t = open(p).read()
    return (float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)),
            ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1)), ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1)))
print("GET /review (wrk -t1 -c8) while one client floods the API at its limit (600/min, 4 uploads)")
for name in ("quiet", "flooded"):
    rs = [wrk(f"{w}/{name}{r}.txt") for r in range(1, runs + 1)]
    print(f"  {name:<8} {st.median(r[0] for r in rs):8.0f} req/s  p50 {st.median(r[1] for r in rs):6.2f} ms  p99 {st.median(r[2] for r in rs):6.2f} ms")
fl = load("flood")
print(f"  the flooding client: {med(fl,'rps'):.1f} accepted app/s, {st.median(r['non201'] for r in fl):.0f} refused per run")
PY
