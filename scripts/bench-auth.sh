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

start_auth_server() { # BINARY LABEL
  start_server "$1" "$2"
  enable_auth "127.0.0.1:$SERVER_PORT"
}
LOADGEN_ARGS=(-user bench -password benchpw -prefix bench/)

run_workloads ours "$OURS" start_auth_server
run_workloads etcd "$REF_ETCD" start_auth_server
print_workload_table
