#!/usr/bin/env bash
# The audit chain at volume on SQLite and PostgreSQL: 10,000,000 records seeded in bulk
# (unsealed), sealed, then verified as `verify-audit` does (one process per phase under GNU time:
# wall seconds, peak RSS); and the insert path with the chain (its indexes, a sealer every second)
# against the insert path without it, alternating, RUNS times each, in the same run.
#   bash benches/audit_chain.sh        N=10000000 VRUNS=2 INSERTS=20000 WRITERS=8 RUNS=3 DBS="sqlite postgres" PHASES="volume insert"
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
N=${N:-10000000}; INSERTS=${INSERTS:-20000}; WRITERS=${WRITERS:-8}; RUNS=${RUNS:-3}
WORK=$(mktemp -d /var/tmp/audit-bench.XXXX)
DBNAMES=()
cleanup() {
  for d in "${DBNAMES[@]}"; do psql -h 127.0.0.1 -U postgres -qc "drop database if exists $d" >/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
cargo bench --bench audit_chain --no-run --quiet 2>/dev/null
B=$(ls -t "$CARGO_TARGET_DIR"/release/deps/audit_chain-* | grep -v '\.d$' | head -1)
fresh() { # sets URL to a new database of kind $1
  if [ "$1" = postgres ]; then
    local name=bo_audit_bench_$$_$RANDOM
    psql -h 127.0.0.1 -U postgres -qc "create database $name" >/dev/null
    DBNAMES+=("$name")
    URL="postgres://postgres@127.0.0.1:5432/$name"
  else
    URL="sqlite://$WORK/$RANDOM$RANDOM.db"
  fi
}
timed() { /usr/bin/time -f "    (process: wall %e s, peak RSS %M KB)" "$@"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for db in ${DBS:-sqlite postgres}; do
  if [[ "${PHASES:-volume insert}" == *volume* ]]; then
    fresh "$db"
    timed "$B" seed "$URL" "$N"
    timed "$B" seal "$URL"
    for r in $(seq "${VRUNS:-2}"); do timed "$B" verify "$URL"; done
    if [ "$db" = postgres ]; then psql -h 127.0.0.1 -U postgres -qc "drop database ${DBNAMES[-1]}" >/dev/null; else rm -f "$WORK"/*.db*; fi
  fi
  if [[ "${PHASES:-volume insert}" == *insert* ]]; then
    for r in $(seq "$RUNS"); do
      fresh "$db"; "$B" insert "$URL" "$INSERTS" "$WRITERS" baseline
      fresh "$db"; "$B" insert "$URL" "$INSERTS" "$WRITERS" chain
    done
  fi
done
