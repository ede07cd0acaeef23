#!/usr/bin/env bash
# scripts/bench-wire-echo.sh: the wire layer alone: h2load against GRPCWire's echo server (GRPCWireBench,
# /bench.Echo/Unary with a 16-byte message) at 1 and 100 concurrent streams,
# and, when an `etcd` binary is installed, against real etcd's
# Maintenance/Status for comparison. Prints requests/s and the ratio.
# Env: REQUESTS (default 200000), CLIENTS (h2load -c, default 1), ETCD (binary path;
# default the etcd on PATH, empty for none).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-200000}
CLIENTS=${CLIENTS:-1}
ETCD=${ETCD-$(command -v etcd || true)}
TMP=$(mktemp -d)
PIDS=()
cleanup() { local rc=$?; [ $rc -ne 0 ] && [ -s "$TMP/wire.log" ] && { echo "--- server log:" >&2; head -60 "$TMP/wire.log" >&2; }; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
swift build -c release --product GRPCWireBench >/dev/null
./.build/release/GRPCWireBench 0 >"$TMP/wire.log" 2>&1 &
PIDS+=($!)
# free_port (bench-lib.sh): a port nobody listens on, below the ephemeral range.
BENCH_TMP=$TMP . scripts/bench-lib.sh
ETCD_PORT=$(free_port)
ETCD_PEER_PORT=$(free_port)

# A 16-byte gRPC message, and an empty StatusRequest (5-byte frame header only).
printf '\x00\x00\x00\x00\x10abcdefghijklmnop' >"$TMP/echo.bin"
printf '\x00\x00\x00\x00\x00' >"$TMP/status.bin"

if [ -n "$ETCD" ]; then
  "$ETCD" --data-dir "$TMP/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" >"$TMP/etcd.log" 2>&1 &
  PIDS+=($!)
fi

wait_port() { for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
for _ in $(seq 100); do grep -q "listening on" "$TMP/wire.log" && break; sleep 0.1; done
WIRE_PORT=$(sed -n 's/^listening on //p' "$TMP/wire.log")
[ -n "$WIRE_PORT" ] || { echo "GRPCWireBench did not start" >&2; exit 1; }
[ -n "$ETCD" ] && wait_port "$ETCD_PORT" && sleep 1

# h2load URL BODY STREAMS → requests/s (fails loudly if any request failed)
run() {
  local out
  out=$(h2load -n "$REQUESTS" -c "$CLIENTS" -m "$3" -d "$2" -H 'content-type: application/grpc' -H 'te: trailers' "$1" 2>&1)
  if ! grep -q " 0 failed, 0 errored" <<<"$out"; then echo "$out" >&2; return 1; fi
  sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out"
}

# h2load counts any HTTP 200 as success and gRPC errors are 200 too: check one call ends with grpc-status 0.
check() {
  nghttp -v -d "$2" -H 'content-type: application/grpc' -H 'te: trailers' "$1" 2>&1 | grep -q "grpc-status: 0" \
    || { echo "not a successful gRPC call: $1" >&2; exit 1; }
}
check "http://127.0.0.1:$WIRE_PORT/bench.Echo/Unary" "$TMP/echo.bin"
[ -n "$ETCD" ] && check "http://127.0.0.1:$ETCD_PORT/etcdserverpb.Maintenance/Status" "$TMP/status.bin"

ETCD_VERSION=$([ -n "$ETCD" ] && "$ETCD" --version | sed -n 's/^etcd Version: //p')
for streams in 1 100; do
  wire=$(run "http://127.0.0.1:$WIRE_PORT/bench.Echo/Unary" "$TMP/echo.bin" "$streams")
  line="streams=$streams  grpcwire-echo: $wire req/s"
  if [ -n "$ETCD" ]; then
    etcd=$(run "http://127.0.0.1:$ETCD_PORT/etcdserverpb.Maintenance/Status" "$TMP/status.bin" "$streams")
    ratio=$(awk -v a="$wire" -v b="$etcd" 'BEGIN { printf "%.2f", a / b }')
    line="$line  etcd($ETCD_VERSION)-status: $etcd req/s  ratio: $ratio"
  fi
  echo "$line"
done
