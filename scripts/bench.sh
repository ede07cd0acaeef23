#!/usr/bin/env bash
# make bench: the KV workloads through Go's clientv3 against swift-etcd and a
# real etcd 3.5.1 on this machine, one after the other, with the ratio
# ours/etcd for each figure (>1 means we are faster, for RSS and size lower is better).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
LOADGEN=$(go_program loadgen)
SCALE=${BENCH_SCALE:-1}
FILL_KEYS=${BENCH_FILL_KEYS:-1000000}

# name clients conns total workload
WORKLOADS=(
  "put-1client 1 1 $((3000*SCALE)) put"
  "put-100clients 100 10 $((60000*SCALE)) put"
  "range-lin-100clients 100 10 $((100000*SCALE)) range-lin"
  "range-ser-100clients 100 10 $((100000*SCALE)) range-ser"
  "txn-put-100clients 100 10 $((60000*SCALE)) txn-put"
  "mixed-90r10w-100clients 100 10 $((100000*SCALE)) mixed"
)

declare -A RESULT
run_all() { # label binary
  local label=$1 bin=$2
  for w in "${WORKLOADS[@]}"; do
    set -- $w
    start_server "$bin" "$label"
    line=$($LOADGEN -endpoint "127.0.0.1:$SERVER_PORT" -workload "$5" -clients "$2" -conns "$3" -total "$4")
    RESULT[$label,$1,rss]=$(peak_rss_mb "$SERVER_PID")
    stop_server
    RESULT[$label,$1]=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
    RESULT[$label,$1,p99]=$(sed -E 's/.*p99ms=([0-9.]+).*/\1/' <<<"$line")
    echo "$label $1: $line"
  done
  start_server "$bin" "$label"
  line=$($LOADGEN -endpoint "127.0.0.1:$SERVER_PORT" -workload fill -clients 100 -conns 10 -total "$FILL_KEYS")
  RESULT[$label,fill]=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
  RESULT[$label,rss]=$(peak_rss_mb "$SERVER_PID")
  stop_server
  RESULT[$label,size]=$(du -sm "$BENCH_TMP/$label" | cut -f1)
  echo "$label fill-$FILL_KEYS: $line rss=${RESULT[$label,rss]}MB size=${RESULT[$label,size]}MB"
}

run_all ours "$OURS"
run_all etcd "$REF_ETCD"

echo
printf "%-26s %12s %12s %8s\n" workload swift-etcd etcd-3.5.1 ratio
for w in "${WORKLOADS[@]}"; do
  set -- $w
  printf "%-26s %12s %12s %8s\n" "$1 (req/s)" "${RESULT[ours,$1]}" "${RESULT[etcd,$1]}" "$(ratio "${RESULT[ours,$1]}" "${RESULT[etcd,$1]}")"
done
printf "%-26s %12s %12s %8s\n" "put-100clients RSS (MB)" "${RESULT[ours,put-100clients,rss]}" "${RESULT[etcd,put-100clients,rss]}" "$(ratio "${RESULT[etcd,put-100clients,rss]}" "${RESULT[ours,put-100clients,rss]}")"
printf "%-26s %12s %12s %8s\n" "put-1client p99 (ms)" "${RESULT[ours,put-1client,p99]}" "${RESULT[etcd,put-1client,p99]}" "$(ratio "${RESULT[etcd,put-1client,p99]}" "${RESULT[ours,put-1client,p99]}")"
printf "%-26s %12s %12s %8s\n" "fill $FILL_KEYS (puts/s)" "${RESULT[ours,fill]}" "${RESULT[etcd,fill]}" "$(ratio "${RESULT[ours,fill]}" "${RESULT[etcd,fill]}")"
printf "%-26s %12s %12s %8s\n" "fill peak RSS (MB)" "${RESULT[ours,rss]}" "${RESULT[etcd,rss]}" "$(ratio "${RESULT[etcd,rss]}" "${RESULT[ours,rss]}")"
printf "%-26s %12s %12s %8s\n" "fill data dir (MB)" "${RESULT[ours,size]}" "${RESULT[etcd,size]}" "$(ratio "${RESULT[etcd,size]}" "${RESULT[ours,size]}")"
