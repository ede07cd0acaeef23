#!/usr/bin/env bash
# make bench-cluster: 3 members on this machine, ours then a real etcd 3.5.1
# cluster with the same flags; put and linearizable range with 100 clients
# spread over the three members (Go clientv3 balances across endpoints), and
# the time from kill -9 of the leader to the first successful write.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
LOADGEN=$(go_program loadgen)
CTL=${CTL:-.venv/bin/etcdctl}
CLUSTER_PIDS=()
trap 'stop_cluster; rm -rf "$BENCH_TMP"' EXIT

failover_ms() { # kill -9 the leader, time until a put succeeds on the others
  local leader others="" start end i
  leader=$(leader_index)
  for i in 0 1 2; do [ "$i" = "$leader" ] || others+="${CLUSTER_EPS[$i]},"; done
  kill -9 "${CLUSTER_PIDS[$leader]}"
  start=$(date +%s%N)
  until "$CTL" --endpoints "${others%,}" --command-timeout 1s put after-failover 1 >/dev/null 2>&1; do :; done
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

declare -A R
for label in ours etcd; do
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  start_cluster "$bin" "$label"
  R[$label,put]=$($LOADGEN -endpoint "$ENDPOINTS" -workload put -clients 100 -conns 10 -total 30000 | sed -E 's/.*rate=([0-9.]+).*/\1/')
  R[$label,range]=$($LOADGEN -endpoint "$ENDPOINTS" -workload range-lin -clients 100 -conns 10 -total 50000 | sed -E 's/.*rate=([0-9.]+).*/\1/')
  R[$label,failover]=$(failover_ms)
  stop_cluster
done
printf "%-36s %12s %12s %8s\n" "3 members" swift-etcd etcd-3.5.1 ratio
printf "%-36s %12s %12s %8s\n" "put, 100 clients (req/s)" "${R[ours,put]}" "${R[etcd,put]}" "$(ratio "${R[ours,put]}" "${R[etcd,put]}")"
printf "%-36s %12s %12s %8s\n" "linearizable range, 100 clients" "${R[ours,range]}" "${R[etcd,range]}" "$(ratio "${R[ours,range]}" "${R[etcd,range]}")"
printf "%-36s %12s %12s %8s\n" "leader kill -9 → next write (ms)" "${R[ours,failover]}" "${R[etcd,failover]}" "$(ratio "${R[etcd,failover]}" "${R[ours,failover]}")"
