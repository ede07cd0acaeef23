#!/usr/bin/env bash
# Checks that swift-etcd encodes etcd messages byte for byte like etcd's Go code:
# proto-bench dumps messages, a Go program (etcd 3.4 sources from golang-etcd-server-dev
# under /usr/share/gocode) decodes and re-encodes them, and every line must say SAME.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d /usr/share/gocode/src/go.etcd.io/etcd ] || { echo "needs go and /usr/share/gocode (etcd Go sources)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$tmp/go-compat" ./scripts/proto-go-compat
swift build -c release --product proto-bench
.build/release/proto-bench dump | "$tmp/go-compat" | tee "$tmp/out"
! grep -qv SAME "$tmp/out"
