#!/usr/bin/env bash
# make bench-wire: h2load sends gRPC Maintenance/Status calls to swift-etcd
# and to a real etcd 3.5.1 (one after the other, same flags), at 1 and 100
# concurrent streams, and prints requests/s of each and the ratio ours/etcd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
REQUESTS=${BENCH_WIRE_REQUESTS:-200000}
# An empty StatusRequest framed for gRPC: flag 0, length 0.
printf '\x00\x00\x00\x00\x00' > "$BENCH_TMP/status.req"

run_h2load() { # port clients streams-per-client → requests/s (fails if any request failed)
  local out
  out=$(h2load -n "$REQUESTS" -c "$2" -m "$3" -d "$BENCH_TMP/status.req" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$1/etcdserverpb.Maintenance/Status" 2>&1)
  echo "$out" >> "$BENCH_TMP/h2load.log"
  grep -q " 0 failed, 0 errored" <<<"$out" || { echo "$out" >&2; return 1; }
  awk '/^finished in/ {print $4}' <<<"$out"
}

# h2load counts any HTTP 200 as success and gRPC errors are 200 too: check a
# call really ends with grpc-status 0.
check_grpc_ok() {
  nghttp -v -d "$BENCH_TMP/status.req" -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$1/etcdserverpb.Maintenance/Status" 2>&1 | grep -q "grpc-status: 0" \
    || { echo "Status on port $1 is not a successful gRPC call" >&2; exit 1; }
}

declare -A RATE
for label in ours etcd; do
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  start_server "$bin" "$label"
  check_grpc_ok "$SERVER_PORT"
  RATE[$label,1]=$(run_h2load "$SERVER_PORT" 1 1)
  RATE[$label,100]=$(run_h2load "$SERVER_PORT" 10 10)
  stop_server
done
grep -E "requests:|status codes" "$BENCH_TMP/h2load.log" | head -8
echo
printf "%-34s %12s %12s %8s\n" "Maintenance/Status" swift-etcd etcd-3.5.1 ratio
for s in 1 100; do
  printf "%-34s %12s %12s %8s\n" "$s concurrent streams (req/s)" "${RATE[ours,$s]}" "${RATE[etcd,$s]}" "$(ratio "${RATE[ours,$s]}" "${RATE[etcd,$s]}")"
done
