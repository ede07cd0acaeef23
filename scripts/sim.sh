#!/usr/bin/env bash
# Deterministic simulation of the Raft core (Tools/raft-sim).
#   SEEDS=N   run seeds 1..N (default 300), split over JOBS processes (default: cores)
#   SEED=S    run one seed; with TRACE=1 print its whole trace
#   PLANT=bug plant a known bug (commit-previous-term, naive-commit, vote-ignoring-log,
#             skip-empty-entry, keep-stale-grant)
# The last line is "N seeds passed, M failed"; exit status 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product raft-sim 2>&1 | grep -E "error|warning: unre|Compiling|Build" >&2 || true
BIN=./.build/release/raft-sim
extra=()
[ -n "${PLANT:-}" ] && extra+=(--plant "$PLANT")

if [ -n "${SEED:-}" ]; then
  [ "${TRACE:-0}" = 1 ] && extra+=(--trace)
  exec "$BIN" --seed "$SEED" "${extra[@]}"
fi

seeds=${SEEDS:-300}
jobs=${JOBS:-$(nproc)}
(( jobs > seeds )) && jobs=$seeds
(( jobs < 1 )) && jobs=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
per=$(( (seeds + jobs - 1) / jobs ))
pids=()
for ((j = 0; j < jobs; j++)); do
  first=$(( 1 + j * per ))
  count=$(( seeds - j * per )); (( count > per )) && count=$per
  (( count <= 0 )) && break
  "$BIN" --first "$first" --seeds "$count" "${extra[@]}" > "$tmp/$j.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
passed=0; failed=0
for f in "$tmp"/*.out; do
  grep -v "seeds passed" "$f" || true
  line=$(tail -n 1 "$f")
  if [[ "$line" =~ ^([0-9]+)\ seeds\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$(( passed + BASH_REMATCH[1] )); failed=$(( failed + BASH_REMATCH[2] ))
  else
    echo "a simulator process crashed: $line" >&2
    failed=$(( failed + 1 ))
  fi
done
echo "$passed seeds passed, $failed failed"
[ "$failed" -eq 0 ]
