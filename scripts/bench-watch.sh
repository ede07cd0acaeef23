#!/usr/bin/env bash
# Watch fan-out and lease keep-alive: swift-etcd vs a real etcd 3.5.1 on this
# machine, one after the other. Fan-out: WATCHERS watchers on one key range,
# PUTS puts; latency from the put's acknowledgement to each watcher's event
# (p50/p99, ratio etcd/ours: >1 means we are faster). Keep-alive: 100
# clients each renewing its lease on a LeaseKeepAlive stream as fast as
# answers come (renewals/s, ratio ours/etcd).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
BENCH=$(go_program watchbench)
WATCHERS=${BENCH_WATCHERS:-1000}
PUTS=${BENCH_PUTS:-2000}

declare -A R
for label in ours etcd; do
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  start_server "$bin" "$label"
  line=$($BENCH -endpoint "127.0.0.1:$SERVER_PORT" -mode fanout -watchers "$WATCHERS" -puts "$PUTS")
  echo "$label: $line"
  R[$label,p50]=$(sed -E 's/.*p50ms=([0-9.]+).*/\1/' <<<"$line")
  R[$label,p99]=$(sed -E 's/.*p99ms=([0-9.]+).*/\1/' <<<"$line")
  line=$($BENCH -endpoint "127.0.0.1:$SERVER_PORT" -mode keepalive -clients 100 -seconds 10)
  echo "$label: $line"
  R[$label,ka]=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
  stop_server
done

echo
printf "%-34s %12s %12s %8s\n" figure swift-etcd etcd-3.5.1 ratio
printf "%-34s %12s %12s %8s\n" "watch fan-out p50 (ms)" "${R[ours,p50]}" "${R[etcd,p50]}" "$(ratio "${R[etcd,p50]}" "${R[ours,p50]}")"
printf "%-34s %12s %12s %8s\n" "watch fan-out p99 (ms)" "${R[ours,p99]}" "${R[etcd,p99]}" "$(ratio "${R[etcd,p99]}" "${R[ours,p99]}")"
printf "%-34s %12s %12s %8s\n" "lease keep-alive 100 clients (/s)" "${R[ours,ka]}" "${R[etcd,ka]}" "$(ratio "${R[ours,ka]}" "${R[etcd,ka]}")"
