#!/usr/bin/env bash
# The fulfilment desk at volume, on SQLite (default) or PostgreSQL (DB=postgres): a courier batch of
# 10,000 parcels to xlsx and to the label page, a tracking import of 100,000 rows; each phase its own
# process under GNU time (wall seconds, peak RSS). Side by side: the batch file of 100,000 rows
# against Python XlsxWriter (constant_memory) writing ../shared/bench/xlsx's 100,000 × 20 sheet.
#   bash benches/fulfilment.sh            (needs python3 with xlsxwriter: ../shared/bench/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
WORK=$(mktemp -d /var/tmp/fulfilment-bench.XXXX)
trap 'rm -rf "$WORK"' EXIT
cargo bench --bench fulfilment --no-run --quiet 2>/dev/null
B=$(ls -t "$CARGO_TARGET_DIR"/release/deps/fulfilment-* | grep -v '\.d$' | head -1)
if [ "${DB:-sqlite}" = postgres ]; then
  name=bo_fulfil_bench_$$
  psql -h 127.0.0.1 -U postgres -qc "create database $name" >/dev/null
  trap 'psql -h 127.0.0.1 -U postgres -qc "drop database if exists $name" >/dev/null; rm -rf "$WORK"' EXIT
  URL=postgres://postgres@127.0.0.1:5432/$name
else
  URL=sqlite://$WORK/bench.db
fi
timed() { /usr/bin/time -f "    wall %e s, peak RSS %M KB" "$@"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), DB=${DB:-sqlite}"
"$B" seed "$URL" 10000
echo "batch of 10,000 parcels to xlsx:"
id=$(timed "$B" batch "$URL" "$WORK/batch.xlsx")
echo "label page of the 10,000:"
timed "$B" labels "$URL" "$id" "$WORK/labels.html"
"$B" seed "$URL" 90000
"$B" batch "$URL" "$WORK/batch2.xlsx" >/dev/null
"$B" tracking-file "$URL" "$WORK/tracking.csv"
echo "tracking import of 100,000 rows:"
timed "$B" tracking "$URL" "$WORK/tracking.csv"
echo "batch file of 100,000 rows (57 columns), no database:"
timed "$B" xlsx 100000 "$WORK/x.xlsx"
PY=${PYTHON:-python3}
if "$PY" -c 'import xlsxwriter' 2>/dev/null; then
  echo "baseline: XlsxWriter constant_memory, 100,000 × 20:"
  timed "$PY" ../shared/bench/xlsx/xlsx_write.py xlsxwriter "$WORK/py.xlsx"
else
  echo "baseline skipped: no xlsxwriter for $PY"
fi
