#!/usr/bin/env bash
# make bench-commits BEFORE=<commit>: put at 100 clients (Go clientv3, 10
# connections) against the release binary built at BEFORE, the current
# release binary and a real etcd 3.5.1, rotating the order every round so
# all three see the same machine load, each run on a fresh member. Figures
# per server: put rate, p99 latency, the member's peak RSS (VmHWM) after the
# run; medians of BENCH_ROUNDS rounds, with ratios (>1: better than the other).
# BEFORE is built in a temporary `git worktree` under /tmp (release, -j 1;
# the package checkouts are copied so nothing is downloaded) and removed
# afterwards. Issue 19's before/after of the per-proposal timer removal:
# `make bench-commits BEFORE=ceee959^` (BEFORE_BINARY=path: use that build of
# BEFORE instead of building it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
BEFORE=${BEFORE:?set BEFORE to a commit}
ROUNDS=${BENCH_ROUNDS:-3}
PUTS=${BENCH_PUTS:-100000}
WT=$(mktemp -d /tmp/swift-etcd-before.XXXXXX)
trap 'stop_server; git worktree remove --force "$WT" 2>/dev/null || true; rm -rf "$WT" "$BENCH_TMP"' EXIT
if [ "$REF_ETCD" = .venv/bin/etcd ]; then
  REF_ETCD=$(find .venv -path '*etcdbin/etcd' -type f | head -1)
fi
LOADGEN=$(go_program loadgen)

if [ -n "${BEFORE_BINARY:-}" ]; then
  # Already built (the same commit): skip the build.
  cp "$BEFORE_BINARY" "$BENCH_TMP/swift-etcd-before"
else
  git worktree add --detach "$WT" "$BEFORE" >/dev/null
  mkdir -p "$WT/.build"
  cp -a .build/checkouts .build/repositories "$WT/.build/" 2>/dev/null || true
  [ -f "$WT/Package.resolved" ] || cp Package.resolved "$WT/"
  echo "building $BEFORE ($(git rev-parse --short "$BEFORE")) in $WT"
  t0=$(date +%s)
  (cd "$WT" && SWIFT_ETCD_GIT_COMMIT=$(git rev-parse --short HEAD) swift build -j 1 -c release --product swift-etcd >"$BENCH_TMP/build.log" 2>&1) \
    || { tail -20 "$BENCH_TMP/build.log" >&2; exit 1; }
  echo "built in $(( $(date +%s) - t0 )) s"
  cp "$WT/.build/release/swift-etcd" "$BENCH_TMP/swift-etcd-before"
fi

declare -A BIN=([before]="$BENCH_TMP/swift-etcd-before" [after]="$OURS" [etcd]="$REF_ETCD")
declare -A RATE P99 RSS
sides=(before after etcd)
for round in $(seq "$ROUNDS"); do
  for i in 0 1 2; do
    side=${sides[$(( (i + round - 1) % 3 ))]}
    start_server "${BIN[$side]}" "$side"
    out=$("$LOADGEN" -endpoint "127.0.0.1:$SERVER_PORT" -workload put -clients 100 -conns 10 -total "$PUTS")
    rss=$(peak_rss_mb "$SERVER_PID")
    stop_server
    rate=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$out"); p99=$(sed -E 's/.*p99ms=([0-9.]+).*/\1/' <<<"$out")
    RATE[$side]+=" $rate"; P99[$side]+=" $p99"; RSS[$side]+=" $rss"
    echo "round $round $side: $out rss=${rss}MB"
  done
done

med() { python3 -c "import sys,statistics; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.2f}')" "$@"; }
echo
echo "put, 100 clients, $PUTS puts per run; medians of $ROUNDS rounds; before = $BEFORE, after = $OURS ($("$OURS" --version | grep 'Git SHA'))"
printf "%-22s %12s %12s %12s %14s %14s\n" figure before after etcd-3.5.1 "after/before" "after vs etcd"
r() { ratio "$@"; }
b=$(med ${RATE[before]}); a=$(med ${RATE[after]}); e=$(med ${RATE[etcd]})
printf "%-22s %12s %12s %12s %14s %14s\n" "put rate (req/s)" "$b" "$a" "$e" "$(r "$a" "$b")" "$(r "$a" "$e")"
b=$(med ${P99[before]}); a=$(med ${P99[after]}); e=$(med ${P99[etcd]})
printf "%-22s %12s %12s %12s %14s %14s\n" "p99 latency (ms)" "$b" "$a" "$e" "$(r "$b" "$a")" "$(r "$e" "$a")"
b=$(med ${RSS[before]}); a=$(med ${RSS[after]}); e=$(med ${RSS[etcd]})
printf "%-22s %12s %12s %12s %14s %14s\n" "peak RSS (MB)" "$b" "$a" "$e" "$(r "$b" "$a")" "$(r "$e" "$a")"
echo "(ratios: >1 means 'after' is better: faster, lower latency, smaller)"
