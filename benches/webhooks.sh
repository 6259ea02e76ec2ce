#!/usr/bin/env bash
# Webhooks to a local endpoint on SQLite and PostgreSQL (benches/webhooks.rs): events delivered
# per second by the outbox beside plain signed POSTs of the same body (the baseline, same run),
# and the delay from a status change to its delivery, p50/p99, with the endpoint up and with it
# down for the first DOWN seconds (then up).
#   bash benches/webhooks.sh        N=2000 DOWN=10 DBS="sqlite postgres" PROFILE=release (or dev)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/bo-target}
N=${N:-2000}; DOWN=${DOWN:-10}
WORK=$(mktemp -d /var/tmp/webhook-bench.XXXX)
DBNAMES=()
cleanup() {
  for d in "${DBNAMES[@]}"; do psql -h 127.0.0.1 -U postgres -qc "drop database if exists $d" >/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
PROFILE=${PROFILE:-release}
cargo bench --profile "$PROFILE" --bench webhooks --no-run --quiet 2>/dev/null
DIR=release; [ "$PROFILE" = dev ] && DIR=debug
B=$(ls -t "$CARGO_TARGET_DIR"/$DIR/deps/webhooks-* | grep -v '\.d$' | head -1)
echo "profile: $PROFILE"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for db in ${DBS:-sqlite postgres}; do
  if [ "$db" = postgres ]; then
    name=bo_webhook_bench_$$_$RANDOM
    psql -h 127.0.0.1 -U postgres -qc "create database $name" >/dev/null
    DBNAMES+=("$name")
    URL="postgres://postgres@127.0.0.1:5432/$name"
  else
    URL="sqlite://$WORK/bench.db"
  fi
  "$B" "$URL" "$N" "$DOWN"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
