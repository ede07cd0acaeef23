#!/usr/bin/env bash
# Restart cost: swift-etcd vs a real etcd 3.5.1 on this machine, one after
# the other, each on its own data dir holding the same data:
#  1. fill KEYS keys (key/%08d, VAL_BYTES-byte values) with Go clientv3 txns
#     of BATCH puts: KEYS/BATCH Raft entries, fewer than --snapshot-count
#     (100,000), so the whole log stays in the WAL (several 64 MiB segments)
#     and a restart replays all of it, as it would after a crash;
#  2. stop the member (SIGTERM, then in a second round kill -9) and start it
#     again on its data: seconds from the process start until the client
#     port accepts, and until the first successful (linearizable)
#     `etcdctl get`; the process's peak RSS (VmHWM) at that moment.
# The page cache is warm (both just wrote their data); the machine is
# shared, so compare the ratios of one run rather than absolute figures.
# Ratios are etcd/ours for times and memory (>1: we start faster / smaller).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
mkdir -p .build/go-bin
GO111MODULE=off GOPATH=$PWD/.gopath:/usr/share/gocode go build -o .build/go-bin/maintload ./Tests/GoClients/maintload
LOAD=.build/go-bin/maintload
KEYS=${BENCH_KEYS:-1000000}
VAL_BYTES=${BENCH_VAL_BYTES:-200}
BATCH=${BENCH_BATCH:-20}
CTL=${CTL:-etcdctl}; [ -x .venv/bin/etcdctl ] && CTL=.venv/bin/etcdctl
# .venv/bin/etcd is a Python launcher that execs the binary: time the binary itself.
if [ "$REF_ETCD" = .venv/bin/etcd ]; then
  REF_ETCD=$(find .venv -path '*etcdbin/etcd' -type f | head -1)
fi

ctl() { ETCDCTL_API=3 "$CTL" --endpoints "127.0.0.1:$SERVER_PORT" --command-timeout 300s "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$2"; }
vm() { awk -v f="$2:" '$1 == f {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# restart LABEL BINARY SIGNAL ROUND: stops the member with SIGNAL, starts it
# on the same data and ports, records R[LABEL,ROUND,port|get|rss].
restart() {
  local label=$1 bin=$2 sig=$3 round=$4 c=$SERVER_PORT p=$PEER_PORT t0 t1 t2
  kill "-$sig" "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  t0=$(now)
  launch_server "$bin" "$label" "$c" "$p"
  t1=$(now)
  until [ "$(ctl get probe --print-value-only 2>/dev/null)" = ok ]; do sleep 0.01; done
  t2=$(now)
  R[$label,$round,port]=$(elapsed "$t0" "$t1")
  R[$label,$round,get]=$(elapsed "$t0" "$t2")
  R[$label,$round,rss]=$(vm "$SERVER_PID" VmHWM)
  echo "  restart after $sig: port open ${R[$label,$round,port]} s, first get ${R[$label,$round,get]} s, peak RSS ${R[$label,$round,rss]} MB"
}

declare -A R
for label in ours etcd; do
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  rm -rf "${BENCH_TMP:?}/$label" "$BENCH_TMP/$label.log"
  PEER_PORT=$(free_port)
  launch_server "$bin" "$label" "$(free_port)" "$PEER_PORT"
  echo "$label: filling $KEYS keys of $VAL_BYTES bytes in txns of $BATCH"
  echo "  $($LOAD -endpoint "127.0.0.1:$SERVER_PORT" -mode fill -total "$KEYS" -val-size "$VAL_BYTES" -clients 16 -batch "$BATCH")"
  ctl put probe ok >/dev/null
  R[$label,fillrss]=$(vm "$SERVER_PID" VmHWM)
  R[$label,segs]=$(find "$BENCH_TMP/$label/member/wal" -name '*.wal' | wc -l)
  R[$label,walmb]=$(du -sm "$BENCH_TMP/$label/member/wal" | cut -f1)
  R[$label,dbmb]=$(du -sm "$BENCH_TMP/$label/member/snap" | cut -f1)
  echo "  WAL ${R[$label,walmb]} MB in ${R[$label,segs]} segments, store ${R[$label,dbmb]} MB, peak RSS while filling ${R[$label,fillrss]} MB"
  restart "$label" "$bin" TERM term
  restart "$label" "$bin" KILL kill
  [ "$(ctl get key/ --prefix --keys-only --limit 1 -w json | python3 -c 'import sys,json; print(json.load(sys.stdin).get("count",0))')" = "$KEYS" ] \
    || { echo "$label lost keys across the restarts" >&2; exit 1; }
  stop_server
done

echo
row() { printf "%-44s %12s %12s %8s\n" "$@"; }
row figure swift-etcd etcd-3.5.1 ratio
row "WAL after fill (MB / segments)" "${R[ours,walmb]} / ${R[ours,segs]}" "${R[etcd,walmb]} / ${R[etcd,segs]}" ""
row "store after fill (MB)" "${R[ours,dbmb]}" "${R[etcd,dbmb]}" ""
for round in term kill; do
  what="after SIGTERM"; [ "$round" = kill ] && what="after kill -9"
  row "$what: start to port open (s)" "${R[ours,$round,port]}" "${R[etcd,$round,port]}" "$(ratio "${R[etcd,$round,port]}" "${R[ours,$round,port]}")"
  row "$what: start to first get (s)" "${R[ours,$round,get]}" "${R[etcd,$round,get]}" "$(ratio "${R[etcd,$round,get]}" "${R[ours,$round,get]}")"
  row "$what: peak RSS at first get (MB)" "${R[ours,$round,rss]}" "${R[etcd,$round,rss]}" "$(ratio "${R[etcd,$round,rss]}" "${R[ours,$round,rss]}")"
done
