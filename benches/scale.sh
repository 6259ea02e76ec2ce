#!/usr/bin/env bash
# Scale benchmark (issue 10, parts 1 and 2), two comparisons, each side by side in one run with
# runs alternating, driven by benches/intake_load.rs (CONNS clients, ~1 MB of scans per request,
# every request unique):
#   1. intake on SQLite with the scans on the file system against the scans in S3 (moto in server
#      mode on loopback: a single-threaded Python server, so this measures moto as much as us);
#   2. intake on one PostgreSQL database through one instance against two instances (the clients
#      split between them; the scans on one shared directory).
#   bash benches/scale.sh            # RUNS=3 SECS=10 CONNS=16
# Client, servers, moto and PostgreSQL share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SECS=${SECS:-10}
CONNS=${CONNS:-16}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
MOTO_SERVER=${MOTO_SERVER:-/var/tmp/moto-venv/bin/moto_server}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
WORK=$(mktemp -d /var/tmp/scale-bench.XXXXXX)
DB=bench_scale_$$
trap 'kill $(jobs -p) 2>/dev/null || true; psql -q "$PG/postgres" -c "drop database if exists $DB with (force)" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet
cargo bench --bench intake_load --no-run --quiet 2>/dev/null
LOAD=$(ls -t "$CARGO_TARGET_DIR"/release/deps/intake_load-* | grep -v '\.d$' | head -1)
BIN=$CARGO_TARGET_DIR/release/backoffice
export RUST_LOG=warn
printf 'serial,holder_name,holder_id_type,holder_id_number,cert_type,valid_from,valid_to,status\n0150512140479054C03,张三,resident_id,11010519491231002X,natural_person,2024-03-01,2027-03-01,valid\n' >"$WORK/registry.csv"

# prepare DIR [ENV=VALUE ...]: migrates, imports the registry, prints a fresh token.
prepare() {
  local dir=$1; shift
  env BACKOFFICE_DATA_DIR="$dir" "$@" "$BIN" migrate >/dev/null
  env BACKOFFICE_DATA_DIR="$dir" "$@" "$BIN" import-certificates "$WORK/registry.csv" >/dev/null
  env BACKOFFICE_DATA_DIR="$dir" "$@" "$BIN" create-api-token --name load | tail -1
}
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return; sleep 0.1; done; echo "no server on $1" >&2; exit 1; }

# 1. File system against S3 (moto), SQLite.
"$MOTO_SERVER" -H 127.0.0.1 -p 18090 >"$WORK/moto.log" 2>&1 &
MOTO=$!
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:18090/moto-api/ && break; sleep 0.1; done
curl -sf -X PUT http://127.0.0.1:18090/scans >/dev/null
S3ENV=(BACKOFFICE_SCAN_STORE=s3://scans/bench AWS_ENDPOINT_URL=http://127.0.0.1:18090
       AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1)
T_FS=$(prepare "$WORK/fs")
T_S3=$(prepare "$WORK/s3" "${S3ENV[@]}")
BACKOFFICE_DATA_DIR=$WORK/fs "$BIN" serve --listen 127.0.0.1:18082 2>"$WORK/fs.log" &
FS=$!
env BACKOFFICE_DATA_DIR="$WORK/s3" "${S3ENV[@]}" "$BIN" serve --listen 127.0.0.1:18083 2>"$WORK/s3.log" &
S3=$!
wait_up 18082; wait_up 18083
"$LOAD" http://127.0.0.1:18082/api/v1/applications "$T_FS" "$CONNS" 3 >/dev/null
"$LOAD" http://127.0.0.1:18083/api/v1/applications "$T_S3" "$CONNS" 3 >/dev/null
for _ in $(seq "$RUNS"); do
  "$LOAD" http://127.0.0.1:18082/api/v1/applications "$T_FS" "$CONNS" "$SECS" >>"$WORK/fs.jsonl"
  "$LOAD" http://127.0.0.1:18083/api/v1/applications "$T_S3" "$CONNS" "$SECS" >>"$WORK/s3.jsonl"
done
kill $FS $S3 $MOTO 2>/dev/null || true

# 2. One instance against two on one PostgreSQL database.
psql -q "$PG/postgres" -c "create database $DB"
PGENV=(DATABASE_URL=$PG/$DB)
T_PG=$(prepare "$WORK/pg" "${PGENV[@]}")
env BACKOFFICE_DATA_DIR="$WORK/pg" "${PGENV[@]}" "$BIN" serve --listen 127.0.0.1:18084 2>"$WORK/pg1.log" &
env BACKOFFICE_DATA_DIR="$WORK/pg" "${PGENV[@]}" "$BIN" serve --listen 127.0.0.1:18085 2>"$WORK/pg2.log" &
wait_up 18084; wait_up 18085
ONE=http://127.0.0.1:18084/api/v1/applications
TWO=$ONE,http://127.0.0.1:18085/api/v1/applications
"$LOAD" "$TWO" "$T_PG" "$CONNS" 3 >/dev/null
for _ in $(seq "$RUNS"); do
  "$LOAD" "$ONE" "$T_PG" "$CONNS" "$SECS" >>"$WORK/pg1.jsonl"
  "$LOAD" "$TWO" "$T_PG" "$CONNS" "$SECS" >>"$WORK/pg2.jsonl"
done

python3 - "$WORK" "$(nproc)" "$CONNS" <<'PY'
import json, statistics as st, sys
w, cores, conns = sys.argv[1:4]
def load(n): return [json.loads(l) for l in open(f"{w}/{n}.jsonl")]
med = lambda rs, k: st.median(r[k] for r in rs)
def line(name, rs):
    bad = sum(r["non201"] + r["errors"] for r in rs)
    print(f"  {name:<28} {med(rs,'rps'):8.1f} app/s ({min(r['rps'] for r in rs):.0f}–{max(r['rps'] for r in rs):.0f})"
          f"  p50 {med(rs,'p50_ms'):7.1f} ms  p99 {med(rs,'p99_ms'):7.1f} ms  failed {bad}")
fs, s3, one, two = load("fs"), load("s3"), load("pg1"), load("pg2")
print(f"intake, {len(fs)} runs of each, {conns} clients, {cores} cores shared by client, servers, moto and PostgreSQL (medians)")
print(" SQLite, scans on:")
line("file system", fs); line("S3 (moto on loopback)", s3)
print(f"  ratio S3 / file system: {med(s3,'rps') / med(fs,'rps'):.2f}")
print(" PostgreSQL, scans on the file system:")
line("one instance", one); line("two instances", two)
print(f"  ratio two / one: {med(two,'rps') / med(one,'rps'):.2f}")
PY
