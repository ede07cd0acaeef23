#!/usr/bin/env bash
# WAL benchmark: serial fsync floor, then group-commit append rates.
# Usage: scripts/bench-wal.sh [data-dir] [seconds-per-phase]
# The default data dir is under .build/ (gitignored), i.e. on the repo's disk.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product wal-bench
exec ./.build/release/wal-bench "${1:-.build/wal-bench-data}" "${2:-3}"
