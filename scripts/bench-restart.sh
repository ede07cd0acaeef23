#!/usr/bin/env bash
# Restart cost: swift-etcd vs a real etcd 3.5.1 on this machine, one after
# the other, each on its own data dir holding the same data:
#  1. fill KEYS keys (key/%08d, VAL_BYTES-byte values) with Go clientv3 txns
#     of BATCH puts: KEYS/BATCH Raft entries, fewer than --snapshot-count
#     (100,000), so the whole log stays in the WAL (several 64 MiB segments)
#     and a restart replays all of it, as it would after a crash;
#  2. restart each member ROUNDS times after SIGTERM and ROUNDS times after
#     kill -9, alternating between the two servers so both see the same
#     machine load: seconds from the process start until the client port
#     accepts and until the first successful (linearizable) `etcdctl get`,
#     and the process's peak RSS (VmHWM) at that moment; medians are shown.
# The page cache is warm (both just wrote their data); the machine is
# shared, so compare the ratios of one run rather than absolute figures.
# Ratios are etcd/ours for times and memory (>1: we start faster / smaller).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
LOAD=$(go_program maintload)
KEYS=${BENCH_KEYS:-1000000}
VAL_BYTES=${BENCH_VAL_BYTES:-200}
BATCH=${BENCH_BATCH:-20}
# .venv/bin/etcd{,ctl} are Python launchers that exec the binaries: time the
# binaries themselves (the launcher's start-up would count, and polling
# etcdctl through it would blur the first-get time).
if [ "$REF_ETCD" = .venv/bin/etcd ]; then
  REF_ETCD=$(find .venv -path '*etcdbin/etcd' -type f | head -1)
fi
CTL=${CTL:-$(find .venv -path '*etcdbin/etcdctl' -type f 2>/dev/null | head -1)}
CTL=${CTL:-etcdctl}

ctl() { ETCDCTL_API=3 "$CTL" --endpoints "127.0.0.1:$SERVER_PORT" --command-timeout 300s "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$2"; }
vm() { awk -v f="$2:" '$1 == f {printf "%.0f", $2/1024}' "/proc/$1/status"; }

ROUNDS=${BENCH_ROUNDS:-3}
median() { python3 -c "import sys,statistics; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.2f}')" "$@"; }

# measure LABEL BINARY: starts the stopped member on its data and ports,
# appends the times and peak RSS to R[LABEL,<how it was stopped>,*].
measure() {
  local label=$1 bin=$2 how=${STOPPED[$1]} t0 t1 t2
  t0=$(now)
  launch_server "$bin" "$label" "${CPORT[$label]}" "${PPORT[$label]}"
  t1=$(now)
  until [ "$(ctl get probe --print-value-only 2>/dev/null)" = ok ]; do sleep 0.01; done
  t2=$(now)
  R[$label,$how,port]+=" $(elapsed "$t0" "$t1")"
  R[$label,$how,get]+=" $(elapsed "$t0" "$t2")"
  R[$label,$how,rss]+=" $(vm "$SERVER_PID" VmHWM)"
  echo "  $label after $how: port open $(elapsed "$t0" "$t1") s, first get $(elapsed "$t0" "$t2") s, peak RSS $(vm "$SERVER_PID" VmHWM) MB"
}

stop_with() { kill "-$1" "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

declare -A R CPORT PPORT STOPPED BIN
BIN[ours]=$OURS; BIN[etcd]=$REF_ETCD
for label in ours etcd; do
  rm -rf "${BENCH_TMP:?}/$label" "$BENCH_TMP/$label.log"
  CPORT[$label]=$(free_port); PPORT[$label]=$(free_port)
  launch_server "${BIN[$label]}" "$label" "${CPORT[$label]}" "${PPORT[$label]}"
  echo "$label: filling $KEYS keys of $VAL_BYTES bytes in txns of $BATCH"
  echo "  $($LOAD -endpoint "127.0.0.1:$SERVER_PORT" -mode fill -total "$KEYS" -val-size "$VAL_BYTES" -clients 16 -batch "$BATCH")"
  ctl put probe ok >/dev/null
  R[$label,fillrss]=$(vm "$SERVER_PID" VmHWM)
  stop_with TERM
  STOPPED[$label]=TERM
  R[$label,segs]=$(find "$BENCH_TMP/$label/member/wal" -name '*.wal' | wc -l)
  R[$label,walmb]=$(du -sm "$BENCH_TMP/$label/member/wal" | cut -f1)
  R[$label,dbmb]=$(du -sm "$BENCH_TMP/$label/member/snap" | cut -f1)
  echo "  WAL ${R[$label,walmb]} MB in ${R[$label,segs]} segments, store ${R[$label,dbmb]} MB, peak RSS while filling ${R[$label,fillrss]} MB"
done

echo "restarts: $ROUNDS after SIGTERM and $ROUNDS after kill -9 each, alternating"
for i in $(seq $((2 * ROUNDS))); do
  sig=KILL; [ $((i % 2)) = 0 ] && sig=TERM
  for label in ours etcd; do
    measure "$label" "${BIN[$label]}"
    stop_with "$sig"
    STOPPED[$label]=$sig
  done
done
for label in ours etcd; do
  launch_server "${BIN[$label]}" "$label" "${CPORT[$label]}" "${PPORT[$label]}"
  [ "$(ctl get key/ --prefix --keys-only --limit 1 -w json | python3 -c 'import sys,json; print(json.load(sys.stdin).get("count",0))')" = "$KEYS" ] \
    || { echo "$label lost keys across the restarts" >&2; exit 1; }
  stop_server
done

echo
row() { printf "%-44s %12s %12s %8s\n" "$@"; }
row "figure (median of $ROUNDS)" swift-etcd etcd-3.5.1 ratio
row "WAL after fill (MB / segments)" "${R[ours,walmb]} / ${R[ours,segs]}" "${R[etcd,walmb]} / ${R[etcd,segs]}" ""
row "store after fill (MB)" "${R[ours,dbmb]}" "${R[etcd,dbmb]}" ""
for how in TERM KILL; do
  what="after SIGTERM"; [ "$how" = KILL ] && what="after kill -9"
  for f in port get rss; do
    case $f in port) name="start to port open (s)" ;; get) name="start to first get (s)" ;; rss) name="peak RSS at first get (MB)" ;; esac
    # shellcheck disable=SC2086
    ours=$(median ${R[ours,$how,$f]}); etcd=$(median ${R[etcd,$how,$f]})
    [ "$f" = rss ] && { ours=${ours%.*}; etcd=${etcd%.*}; }
    row "$what: $name" "$ours" "$etcd" "$(ratio "$etcd" "$ours")"
  done
done
