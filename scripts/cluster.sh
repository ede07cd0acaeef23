#!/usr/bin/env bash
# Starts a local 3-member swift-etcd cluster (make cluster):
#   infra1 client 2379  peer 2380
#   infra2 client 22379 peer 22380
#   infra3 client 32379 peer 32380
# Data lives under ./cluster.etcd/ (a restart recovers from it; delete it to
# start afresh). Ctrl-C stops all three. Try:
#   etcdctl --endpoints 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 member list -w table
set -euo pipefail
BIN=${BIN:-./.build/release/swift-etcd}
DATA=${DATA:-./cluster.etcd}
TOKEN=${TOKEN:-swift-etcd-cluster}
CLUSTER="infra1=http://127.0.0.1:2380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380"

pids=()
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait || true
}
trap stop INT TERM EXIT

mkdir -p "$DATA"
for i in 1 2 3; do
    case $i in
        1) client=2379 peer=2380 ;;
        2) client=22379 peer=22380 ;;
        3) client=32379 peer=32380 ;;
    esac
    "$BIN" --name "infra$i" --data-dir "$DATA/infra$i" \
        --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
        --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "$CLUSTER" --initial-cluster-token "$TOKEN" --initial-cluster-state new \
        > >(sed -u "s/^/infra$i | /") 2>&1 &
    pids+=($!)
done
echo "cluster: 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379 (Ctrl-C stops it)"
wait
