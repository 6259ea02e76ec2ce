#!/usr/bin/env bash
# Invoice batch benchmark (issue 7): N invoice requests (100,000) written to the tax platform's
# batch-import workbook by exchange::invoices::write_batch (benches/invoice_xlsx.rs), beside
# ../shared/bench/xlsx/xlsx_write.py writing a 100,000 x 20 sheet with Python XlsxWriter in
# constant_memory mode. Runs alternate after one warm-up each; every run is timed whole under GNU
# time (wall, peak RSS). Prints min / median / max and the ratio of the medians.
#   bash benches/invoice_xlsx.sh            # RUNS=5 N=100000
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
N=${N:-100000}
SHARED=${SHARED:-../shared/bench}
VENV=${VENV:-/var/tmp/bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
WORK=$(mktemp -d /var/tmp/invoice-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q -r "$SHARED/requirements.txt"; }
cargo bench --bench invoice_xlsx --no-run --quiet 2>/dev/null
OURS=$(ls -t "$CARGO_TARGET_DIR"/release/deps/invoice_xlsx-* | grep -v '\.d$' | head -1)

run() { # NAME CMD…
  local name=$1; shift
  /usr/bin/time -f '%e %M' -a -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
    echo "$name failed:" >&2; tail -5 "$WORK/$name.err" >&2; exit 1; }
}
ours=(run ours "$OURS" "$WORK/batch.xlsx" "$N")
xlsxwriter=(run xlsxwriter "$VENV/bin/python" "$SHARED/xlsx/xlsx_write.py" xlsxwriter "$WORK/xlsxwriter.xlsx")
"${ours[@]}"; "${xlsxwriter[@]}"
rm -f "$WORK"/*.time
for _ in $(seq "$RUNS"); do "${ours[@]}"; "${xlsxwriter[@]}"; done

python3 - "$WORK" "$RUNS" "$(nproc)" <<'PY'
import json, os, statistics as st, sys, zipfile
w, runs, cores = sys.argv[1], sys.argv[2], sys.argv[3]
def times(name):
    rows = [l.split() for l in open(f"{w}/{name}.time") if l.strip() and l.split()[0][0].isdigit()]
    return [float(r[0]) for r in rows], [int(r[1]) / 1024 for r in rows]
def f(v, d=2):
    return " / ".join(f"{x:.{d}f}" for x in (min(v), st.median(v), max(v)))
def cells(path):  # non-empty cells in the workbook's sheets
    with zipfile.ZipFile(path) as z:
        return sum(z.read(n).count(b"<c ") for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
j = json.loads(open(f"{w}/ours.out").read().splitlines()[-1])
print(f"Invoice batch xlsx: {runs} runs alternating, {cores} cores; min / median / max")
med = {}
for name, path, label in (("ours", "batch.xlsx", f"write_batch, {j['rows']:,} invoices"),
                          ("xlsxwriter", "xlsxwriter.xlsx", "XlsxWriter constant_memory, 100,000 x 20")):
    wall, rss = times(name)
    med[name] = (st.median(wall), cells(f"{w}/{path}"))
    print(f"   {label:<42} wall s {f(wall)}   peak RSS MiB {f(rss, 0)}   "
          f"{med[name][1]:,} cells, {os.path.getsize(f'{w}/{path}'):,} bytes")
(ow, oc), (xw, xc) = med["ours"], med["xlsxwriter"]
print(f"   ratio XlsxWriter/ours (wall medians) {xw / ow:.1f}x;  per cell written {(xw / xc) / (ow / oc):.1f}x")
PY
