# Shared by the HTTP benchmarks (sourced, not run): the release builds, the side-by-side baseline
# server on 127.0.0.1:18081, and signing in through the form for a session cookie.
# Expects WORK (a scratch directory) and CARGO_TARGET_DIR to be set.
ANCHOR_SRC=${ANCHOR_SRC:-../shared/bench/bare-axum}
ANCHOR_TARGET=${ANCHOR_TARGET:-/var/tmp/anchor-target}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }

cargo build --release --quiet
cargo bench --bench seed_queue --no-run --quiet 2>/dev/null
SEED=$(ls -t "$CARGO_TARGET_DIR"/release/deps/seed_queue-* | grep -v '\.d$' | head -1)
BIN=$CARGO_TARGET_DIR/release/backoffice
(cd "$ANCHOR_SRC" && CARGO_TARGET_DIR=$ANCHOR_TARGET cargo build --release --quiet)
"$ANCHOR_TARGET/release/anchor-axum-bench" serve 127.0.0.1:18081 - - >"$WORK/anchor.log" 2>&1 &

# session PORT USERNAME PASSWORD: signs in by the form and prints the session cookie's value.
session() {
  local jar=$WORK/jar.$1 csrf
  curl -s -c "$jar" "http://127.0.0.1:$1/login" -o "$WORK/login.html"
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' "$WORK/login.html" | head -1 | sed 's/.*value="//; s/"//')
  curl -s -c "$jar" -b "$jar" -o /dev/null --data-urlencode "_csrf=$csrf" --data-urlencode "username=$2" \
    --data-urlencode "password=$3" "http://127.0.0.1:$1/login"
  awk '$6=="bo_session"{print $7}' "$jar"
}

# stop_server PID NAME: stops a server started by the script, first reading its peak RSS
# (VmHWM from /proc/PID/status: the most it held resident during the run) into $WORK/NAME.rss
# (KiB) and printing it. Aim: < 100 MB through each benchmark.
stop_server() {
  local hwm
  hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || true)
  echo "${hwm:-0}" >"$WORK/$2.rss"
  echo "$2: server peak RSS $(( ${hwm:-0} / 1024 )) MiB" >&2
  kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
}

# peak_rss_mib NAME: the figure stop_server kept, in MiB (for the summaries).
peak_rss_mib() { echo $(( $(cat "$WORK/$1.rss" 2>/dev/null || echo 0) / 1024 )); }
