#!/usr/bin/env bash
# MVCC store benchmark (no network): load N random keys (16 B keys, 256 B
# values), overwrites, single-put commits, txns, point and range reads,
# compaction; prints ops/s, peak RSS and db size. Usage: scripts/bench-mvcc.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product mvcc-bench
./.build/release/mvcc-bench "${1:-1000000}"

# kill -9 during the load, reopen, check revision == consistent index + 1 == keys + 1.
dir=$(mktemp -d)/store
./.build/release/mvcc-bench 1000000 "$dir" keep > /dev/null & pid=$!
sleep 2; kill -9 $pid; wait $pid 2>/dev/null || true
./.build/release/mvcc-bench verify "$dir" 1000000
rm -rf "$(dirname "$dir")"
