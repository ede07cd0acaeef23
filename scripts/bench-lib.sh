# Helpers shared by the benchmark scripts: start a server (ours or etcd) on
# free loopback ports with a fresh data dir, wait for it, stop it.
BENCH_TMP=${BENCH_TMP:-$(mktemp -d /tmp/swift-etcd-bench.XXXXXX)}
REF_ETCD=${REF_ETCD:-.venv/bin/etcd}
OURS=${OURS:-.build/release/swift-etcd}

# go_program NAME: builds Tests/GoClients/NAME with Debian's Go and clientv3
# (GOPATH mode, no downloads) and prints the binary's path.
go_program() {
  mkdir -p .build/go-bin
  GO111MODULE=off GOPATH=$PWD/.gopath:/usr/share/gocode go build -o ".build/go-bin/$1" "./Tests/GoClients/$1"
  echo ".build/go-bin/$1"
}

# free_port: a free loopback port in 20000-32767, below Linux's ephemeral
# range, so a client's outgoing connection can never take it first.
free_port() {
  python3 -c '
import random, socket
for _ in range(1000):
    p = random.randint(20000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

# launch_server BINARY NAME CLIENT_PORT PEER_PORT: starts it on $BENCH_TMP/NAME
# (kept as it is) in the background and waits for the client port; sets
# SERVER_PID and SERVER_PORT.
launch_server() {
  local bin=$1 name=$2 c=$3 p=$4
  "$bin" --name "$name" --data-dir "$BENCH_TMP/$name" \
    --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$name=http://127.0.0.1:$p" >>"$BENCH_TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=$c
  for _ in $(seq 1200); do
    (exec 3<>/dev/tcp/127.0.0.1/$c) 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "server $name did not start; log:" >&2; tail -20 "$BENCH_TMP/$name.log" >&2; return 1
}

# start_server BINARY NAME → a fresh data dir on free ports; sets SERVER_PID and SERVER_PORT
start_server() {
  rm -rf "${BENCH_TMP:?}/$2" "$BENCH_TMP/$2.log"
  launch_server "$1" "$2" "$(free_port)" "$(free_port)"
}

stop_server() { [ -n "${SERVER_PID:-}" ] || return 0; kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }

# start_cluster BINARY LABEL: three members m1..m3 on fresh data dirs under
# $BENCH_TMP/LABEL, free ports; waits for a first write. Sets ENDPOINTS
# (comma-separated host:port), CLUSTER_PIDS and CLUSTER_EPS (by member).
# Needs CTL (an etcdctl).
start_cluster() {
  local bin=$1 label=$2 cluster="" i
  local -a cports pports
  for i in 1 2 3; do cports[$i]=$(free_port); pports[$i]=$(free_port); cluster+="m$i=http://127.0.0.1:${pports[$i]},"; done
  rm -rf "${BENCH_TMP:?}/$label"
  CLUSTER_PIDS=(); CLUSTER_EPS=()
  for i in 1 2 3; do
    "$bin" --name "m$i" --data-dir "$BENCH_TMP/$label/m$i" \
      --listen-client-urls "http://127.0.0.1:${cports[$i]}" --advertise-client-urls "http://127.0.0.1:${cports[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${pports[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${pports[$i]}" \
      --initial-cluster "${cluster%,}" --initial-cluster-token "bench-$label" >"$BENCH_TMP/$label-m$i.log" 2>&1 &
    CLUSTER_PIDS+=($!)
    CLUSTER_EPS+=("127.0.0.1:${cports[$i]}")
  done
  ENDPOINTS=$(IFS=,; echo "${CLUSTER_EPS[*]}")
  for _ in $(seq 100); do "$CTL" --endpoints "$ENDPOINTS" put warmup 1 >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "cluster $label did not come up" >&2; return 1
}

stop_cluster() { local p; for p in "${CLUSTER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; for p in "${CLUSTER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; CLUSTER_PIDS=(); }

# leader_index: the index in CLUSTER_EPS / CLUSTER_PIDS of the current leader.
leader_index() {
  "$CTL" --endpoints "$ENDPOINTS" endpoint status -w json | python3 -c '
import json, sys
eps = sys.argv[1].split(",")
for s in json.load(sys.stdin):
    if s["Status"]["leader"] == s["Status"]["header"]["member_id"]:
        print(eps.index(s["Endpoint"])); break' "$ENDPOINTS"
}

# Runs every entry of WORKLOADS ("name clients conns total workload") against BINARY, each on a
# fresh server started by START_FUNCTION (called as START_FUNCTION BINARY LABEL, it sets
# SERVER_PID/SERVER_PORT), with the load generator's extra LOADGEN_ARGS; keeps each rate in
# RESULT[LABEL,name]. Usage: run_workloads LABEL BINARY START_FUNCTION
declare -A RESULT
LOADGEN_ARGS=()
run_workloads() {
  local label=$1 bin=$2 start=$3 w line
  for w in "${WORKLOADS[@]}"; do
    set -- $w
    "$start" "$bin" "$label"
    line=$($LOADGEN -endpoint "127.0.0.1:$SERVER_PORT" "${LOADGEN_ARGS[@]}" -workload "$5" -clients "$2" -conns "$3" -total "$4")
    stop_server
    RESULT[$label,$1]=$(sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$line")
    echo "$label $1: $line"
  done
}

# Prints RESULT for labels "ours" and "etcd" as one table with ratios; UNIT_OF (a function of
# the workload kind, optional) names each row's unit, req/s by default.
print_workload_table() {
  local w unit
  echo
  printf "%-34s %12s %12s %8s\n" workload swift-etcd etcd-3.5.1 ratio
  for w in "${WORKLOADS[@]}"; do
    set -- $w
    unit="req/s"; if declare -F unit_of >/dev/null; then unit=$(unit_of "$5"); fi
    printf "%-34s %12s %12s %8s\n" "$1 ($unit)" "${RESULT[ours,$1]}" "${RESULT[etcd,$1]}" "$(ratio "${RESULT[ours,$1]}" "${RESULT[etcd,$1]}")"
  done
}
