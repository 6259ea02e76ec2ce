#!/usr/bin/env bash
# Reconciliation benchmark (issue 7): a WeChat Pay trade bill of LINES lines (1,000,000) against as
# many applications, written by ../shared/bench/recon/gen_bills.py (kept under DATA between runs).
#  1. The parse-and-classify core in process (benches/recon_core.rs: the importer's parser, the
#     domain's reconcile) beside recon_pandas.py and recon_polars.py on the same files; runs
#     alternate, each timed whole under GNU time (wall, peak RSS) after one warm-up each.
#  2. End to end: `backoffice import-payments --channel wechat FILE` (parse, store, classify, cases,
#     payment states) into a fresh SQLite database seeded with the bill's applications
#     (benches/seed_recon.rs), then the same on a fresh PostgreSQL database.
# Every run's class counts must equal truth.json. Prints medians (min / median / max) and ratios.
#   bash benches/recon.sh            # RUNS=3 E2E_RUNS=1 LINES=1000000
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
E2E_RUNS=${E2E_RUNS:-1}
LINES=${LINES:-1000000}
SHARED=${SHARED:-../shared/bench}
VENV=${VENV:-/var/tmp/bench-venv}
DATA=${DATA:-/var/tmp/recon-bench-data}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PGSEED=bench_recon_seed
PGDB=bench_recon
WORK=$(mktemp -d /var/tmp/recon-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export PGOPTIONS="-c client_min_messages=warning"

[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -r "$SHARED/requirements.txt"; }
IN=$DATA/$LINES
[ -f "$IN/truth.json" ] || python3 "$SHARED/recon/gen_bills.py" "$IN" --lines "$LINES" >/dev/null
BILL=$IN/wechat_bill.csv

cargo build --release --quiet
cargo bench --bench recon_core --no-run --quiet 2>/dev/null
cargo bench --bench seed_recon --no-run --quiet 2>/dev/null
CORE=$(ls -t "$CARGO_TARGET_DIR"/release/deps/recon_core-* | grep -v '\.d$' | head -1)
SEED=$(ls -t "$CARGO_TARGET_DIR"/release/deps/seed_recon-* | grep -v '\.d$' | head -1)
BIN=$CARGO_TARGET_DIR/release/backoffice

# timed NAME CMD…: one run under GNU time; "wall rss_kb" appended to $WORK/NAME.time, the
# command's standard output kept as $WORK/NAME.out (the last run's), its errors in NAME.err.
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %M' -a -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
    echo "$name failed:" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
}

# 1. The core, side by side.
py=$VENV/bin/python
pandas=(timed pandas "$py" "$SHARED/recon/recon_pandas.py" "$BILL" "$IN/app_payments.csv" "$WORK/pandas.csv")
polars=(timed polars "$py" "$SHARED/recon/recon_polars.py" "$BILL" "$IN/app_payments.csv" "$WORK/polars.csv")
ours=(timed core "$CORE" "$IN" "$WORK/core.csv")
"${pandas[@]}"; "${polars[@]}"; "${ours[@]}"   # warm-up (page cache, bytecode)
rm -f "$WORK"/{pandas,polars,core}.time
for _ in $(seq "$RUNS"); do "${pandas[@]}"; "${polars[@]}"; "${ours[@]}"; done

# 2. End to end. SQLite: the seeded file copied afresh for every run.
export RUST_LOG=warn
mkdir -p "$WORK/seed"
timed seed_sqlite "$SEED" "sqlite://$WORK/seed/backoffice.db" "$IN/app_payments.csv"
for _ in $(seq "$E2E_RUNS"); do
  rm -rf "$WORK/run" && mkdir -p "$WORK/run" && cp "$WORK/seed/backoffice.db" "$WORK/run/"
  DATABASE_URL="sqlite://$WORK/run/backoffice.db" BACKOFFICE_DATA_DIR=$WORK/run \
    timed e2e_sqlite "$BIN" import-payments --channel wechat "$BILL"
done
rm -rf "$WORK/run" "$WORK/seed"
# PostgreSQL: seeded once, every run on a fresh copy (create database … template …).
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)" \
  -c "drop database if exists $PGSEED with (force)" -c "create database $PGSEED"
timed seed_postgres "$SEED" "$PG/$PGSEED" "$IN/app_payments.csv"
for _ in $(seq "$E2E_RUNS"); do
  psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)" \
    -c "create database $PGDB template $PGSEED"
  DATABASE_URL="$PG/$PGDB" BACKOFFICE_DATA_DIR=$WORK/pgrun timed e2e_postgres "$BIN" import-payments --channel wechat "$BILL"
done
psql -q -h 127.0.0.1 -U postgres -c "drop database if exists $PGDB with (force)" -c "drop database if exists $PGSEED with (force)"

python3 - "$WORK" "$IN/truth.json" "$LINES" "$RUNS" "$E2E_RUNS" "$(nproc)" "$(free -g | awk '/Mem:/{print $2}')" <<'PY'
import json, statistics as st, sys
w, truth_path, lines, runs, e2e_runs, cores, mem = sys.argv[1:8]
lines = int(lines)
truth = json.load(open(truth_path))["rows"]
def times(name):
    rows = [l.split() for l in open(f"{w}/{name}.time") if l.strip() and l.split()[0][0].isdigit()]
    return [float(r[0]) for r in rows], [int(r[1]) / 1024 for r in rows]
def f(v, d=2):
    return " / ".join(f"{x:.{d}f}" for x in (min(v), st.median(v), max(v)))
def last_json(name):
    out = [l for l in open(f"{w}/{name}.out").read().splitlines() if l.startswith("{")]
    return json.loads(out[-1])
ok_all = True
def check(name, counts):
    global ok_all
    got = {k: counts.get(k) for k in truth}
    ok = got == truth
    ok_all &= ok
    return "counts = truth.json" if ok else f"COUNTS DIFFER: {got}"
print(f"Reconciliation: {lines:,}-line WeChat bill against {lines:,} applications; {cores} cores, {mem} GiB; min / median / max")
print(f"1. parse + classify (+ the exceptions CSV), whole process, {runs} runs alternating:")
med = {}
for name, label in (("pandas", "pandas"), ("polars", "polars"), ("core", "back office core")):
    wall, rss = times(name)
    med[name] = st.median(wall)
    j = last_json(name)
    print(f"   {label:<17} wall s {f(wall)}   peak RSS MiB {f(rss, 0)}   in process {j['s']['in_process']:.2f} s   {check(name, j['counts'])}")
print(f"   ratios (medians): pandas/ours {med['pandas'] / med['core']:.1f}x   polars/ours {med['polars'] / med['core']:.2f}x")
print(f"2. end to end, import-payments (parse, store, classify, cases, payment states), {e2e_runs} run(s) each on a fresh copy:")
for db in ("sqlite", "postgres"):
    wall, rss = times(f"e2e_{db}")
    seed_wall, _ = times(f"seed_{db}")
    s = last_json(f"e2e_{db}")
    print(f"   {db:<9} wall s {f(wall)}   {lines / st.median(wall):,.0f} lines/s   peak RSS MiB {f(rss, 0)}   {check(db, s)}"
          f"   (seeding {seed_wall[0]:.0f} s)")
if not ok_all:
    sys.exit("class counts differ from truth.json")
PY
