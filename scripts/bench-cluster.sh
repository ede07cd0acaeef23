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
PIDS=()
stop_cluster() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
trap 'stop_cluster; rm -rf "$BENCH_TMP"' EXIT

start_cluster() { # binary label → sets ENDPOINTS, PIDS
  local bin=$1 label=$2 c p cluster="" eps="" i
  local -a cports pports
  for i in 1 2 3; do cports[$i]=$(free_port); pports[$i]=$(free_port); cluster+="m$i=http://127.0.0.1:${pports[$i]},"; done
  rm -rf "$BENCH_TMP/$label"
  for i in 1 2 3; do
    "$bin" --name "m$i" --data-dir "$BENCH_TMP/$label/m$i" \
      --listen-client-urls "http://127.0.0.1:${cports[$i]}" --advertise-client-urls "http://127.0.0.1:${cports[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${pports[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${pports[$i]}" \
      --initial-cluster "${cluster%,}" --initial-cluster-token "bench-$label" >"$BENCH_TMP/$label-m$i.log" 2>&1 &
    PIDS+=($!)
    eps+="127.0.0.1:${cports[$i]},"
  done
  ENDPOINTS=${eps%,}
  for _ in $(seq 100); do "$CTL" --endpoints "$ENDPOINTS" put warmup 1 >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "cluster $label did not come up" >&2; return 1
}

failover_ms() { # kill -9 the leader, time until a put succeeds on the others
  local leader_ep others="" start end
  leader_ep=$("$CTL" --endpoints "$ENDPOINTS" endpoint status -w json | python3 -c 'import json,sys; print([s["Endpoint"] for s in json.load(sys.stdin) if s["Status"]["leader"]==s["Status"]["header"]["member_id"]][0])')
  for ep in ${ENDPOINTS//,/ }; do [ "$ep" = "$leader_ep" ] || others+="$ep,"; done
  local i=0
  for ep in ${ENDPOINTS//,/ }; do [ "$ep" = "$leader_ep" ] && kill -9 "${PIDS[$i]}"; i=$((i+1)); done
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
