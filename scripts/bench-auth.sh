#!/usr/bin/env bash
# make bench-auth: put and range at 100 clients with auth enabled (user
# "bench" with read-write on prefix bench/, simple tokens) and Authenticate/s
# at --bcrypt-cost 10, swift-etcd vs etcd 3.5.1, with ratios (>1: we are faster).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
LOADGEN=$(go_program loadgen)
SCALE=${BENCH_SCALE:-1}
ETCDCTL=${ETCDCTL:-.venv/bin/etcdctl}

# name clients conns total workload
WORKLOADS=(
  "auth-put-100clients 100 10 $((60000*SCALE)) put"
  "auth-range-lin-100clients 100 10 $((100000*SCALE)) range-lin"
  "auth-range-ser-100clients 100 10 $((100000*SCALE)) range-ser"
  "authenticate-cost10-16clients 16 4 $((400*SCALE)) authenticate"
)

enable_auth() { # endpoint
  local e=(--endpoints "$1")
  for step in "user add root --new-user-password=rootpw" "user grant-role root root" \
              "user add bench --new-user-password=benchpw" "role add bench" \
              "role grant-permission bench readwrite bench/ --prefix" "user grant-role bench bench" "auth enable"; do
    # shellcheck disable=SC2086
    "$ETCDCTL" "${e[@]}" $step >/dev/null 2>&1 || { [[ $step == "user grant-role root root" ]] || { echo "etcdctl $step failed" >&2; return 1; }; }
  done
}

declare -A RESULT
run_all() { # label binary
  local label=$1 bin=$2
  for w in "${WORKLOADS[@]}"; do
    set -- $w
    start_server "$bin" "$label"
    enable_auth "127.0.0.1:$SERVER_PORT"
    line=$($LOADGEN -endpoint "127.0.0.1:$SERVER_PORT" -workload "$5" -clients "$2" -conns "$3" -total "$4" \
           -user bench -password benchpw -prefix bench/)
    stop_server
    RESULT[$label,$1]=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
    echo "$label $1: $line"
  done
}

run_all ours "$OURS"
run_all etcd "$REF_ETCD"

echo
printf "%-34s %12s %12s %8s\n" workload swift-etcd etcd-3.5.1 ratio
for w in "${WORKLOADS[@]}"; do
  set -- $w
  printf "%-34s %12s %12s %8s\n" "$1 (req/s)" "${RESULT[ours,$1]}" "${RESULT[etcd,$1]}" "$(ratio "${RESULT[ours,$1]}" "${RESULT[etcd,$1]}")"
done
