#!/usr/bin/env bash
# Usage: scripts/difftest.sh SEED OPS — starts swift-etcd and a reference etcd
# 3.5.1 on free ports with fresh data dirs, runs the differential test between
# them and stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}; ops=${2:-10000}
ref=.venv/bin/etcd; [ -x "$ref" ] || ref=/usr/bin/etcd
tmp=$(mktemp -d)
trap 'kill -9 "${PIDS[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
BENCH_TMP=$tmp source scripts/bench-lib.sh   # free_port: 20000-32767, below the ephemeral range
PIDS=()
start() { # binary name port-variable (not in $(…): the server must stay our child)
  local c p; c=$(free_port); p=$(free_port)
  "$1" --name "$2" --data-dir "$tmp/$2" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$2=http://127.0.0.1:$p" >"$tmp/$2.log" 2>&1 &
  PIDS+=($!)
  printf -v "$3" '%s' "$c"
}
start .build/release/swift-etcd ours a
start "$ref" reference b
for p in $a $b; do for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done
.build/go-bin/difftest -a "127.0.0.1:$a" -b "127.0.0.1:$b" -seed "$seed" -ops "$ops"
