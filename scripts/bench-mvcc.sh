#!/usr/bin/env bash
# MVCC store benchmark (no network): load N random keys (16 B keys, 256 B
# values), overwrites, single-put commits, txns, point and range reads,
# compaction; prints ops/s, peak RSS and db size. Usage: scripts/bench-mvcc.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product mvcc-bench
./.build/release/mvcc-bench "${1:-1000000}"
