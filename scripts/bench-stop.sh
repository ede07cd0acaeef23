#!/usr/bin/env bash
# make bench-stop: stop time under load, swift-etcd vs a real etcd 3.5.1,
# alternating between the two every round (the first to go alternates too)
# so both see the same machine load.
#  1. one member with STOP_WATCHERS open watch streams (over 10 connections)
#     and STOP_WRITERS concurrent writers gets SIGTERM;
#  2. the leader of a three-member cluster, under the same load, gets
#     SIGTERM: it hands leadership to a follower first (etcd's
#     TransferLeadership), then stops.
# The figure is the time from the signal to the process's exit. After each
# stop every put the writers saw acknowledged is looked up (the single
# member restarted on its data; the cluster's two survivors): the script
# fails if one is missing or at another revision, on either server.
# Ratios are etcd/ours (>1: we stop faster).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
LOAD_PID=
CLUSTER_PIDS=()
trap 'stop_server; stop_cluster; [ -z "$LOAD_PID" ] || kill "$LOAD_PID" 2>/dev/null || true; rm -rf "$BENCH_TMP"' EXIT
STOPLOAD=$(go_program stopload)
WATCHERS=${STOP_WATCHERS:-500}
WRITERS=${STOP_WRITERS:-100}
ROUNDS=${STOP_ROUNDS:-3}
# .venv/bin/etcd{,ctl} are Python launchers: run the binaries themselves.
if [ "$REF_ETCD" = .venv/bin/etcd ]; then
  REF_ETCD=$(find .venv -path '*etcdbin/etcd' -type f | head -1)
fi
CTL=${CTL:-$(find .venv -path '*etcdbin/etcdctl' -type f 2>/dev/null | head -1)}

# load ENDPOINT NAME: starts stopload on ENDPOINT, waits until its watch
# streams are open and 2000 puts were acknowledged; acks in $BENCH_TMP/NAME.acks.
load() {
  "$STOPLOAD" -endpoint "$1" -watchers "$WATCHERS" -writers "$WRITERS" >"$BENCH_TMP/$2.acks" 2>"$BENCH_TMP/$2.load" &
  LOAD_PID=$!
  for _ in $(seq 600); do
    grep -q ready "$BENCH_TMP/$2.load" 2>/dev/null && [ "$(wc -l <"$BENCH_TMP/$2.acks")" -ge 2000 ] && return 0
    sleep 0.1
  done
  echo "load on $1 did not start: $(tail -3 "$BENCH_TMP/$2.load")" >&2; return 1
}
unload() { kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=; }

# sigterm PID: SIGTERM, wait for the exit (in this shell: the server is
# its child), set STOP_S to the seconds taken.
sigterm() {
  local t0 t1
  t0=$(date +%s%N)
  kill -TERM "$1"
  wait "$1" 2>/dev/null || true
  t1=$(date +%s%N)
  kill -0 "$1" 2>/dev/null && { echo "pid $1 still running after wait" >&2; exit 1; }
  STOP_S=$(python3 -c "print(f'{($t1-$t0)/1e9:.3f}')")
}

# lost ENDPOINTS NAME: how many acknowledged puts in NAME.acks are missing
# or at another revision on ENDPOINTS.
lost() {
  "$CTL" --endpoints "$1" --command-timeout 60s get ack/ --prefix -w json >"$BENCH_TMP/$2.kvs"
  python3 - "$BENCH_TMP/$2.acks" "$BENCH_TMP/$2.kvs" <<'PY'
import base64, json, sys
found = {base64.b64decode(kv["key"]).decode(): int(kv["mod_revision"])
         for kv in json.load(open(sys.argv[2])).get("kvs", [])}
acked = [line.split() for line in open(sys.argv[1]) if len(line.split()) == 2]
print(sum(1 for key, rev in acked if found.get(key) != int(rev)), len(acked))
PY
}

declare -A T LOST ACKS
note() { # LABEL CASE SECONDS LOST ACKED
  T[$1,$2]+=" $3"; LOST[$1,$2]=$(( ${LOST[$1,$2]:-0} + $4 )); ACKS[$1,$2]=$(( ${ACKS[$1,$2]:-0} + $5 ))
  echo "$1 $2 round $round: stop ${3}s, $5 puts acknowledged, $4 lost"
}

one_member() { # LABEL BINARY
  local s r
  start_server "$2" "$1"
  load "127.0.0.1:$SERVER_PORT" "$1-one"
  sigterm "$SERVER_PID"; s=$STOP_S; SERVER_PID=
  unload
  launch_server "$2" "$1" "$SERVER_PORT" "$(free_port)"
  r=$(lost "127.0.0.1:$SERVER_PORT" "$1-one")
  stop_server
  note "$1" one "$s" $r
}

leader_of_three() { # LABEL BINARY
  local s r leader i others=""
  start_cluster "$2" "$1"
  leader=$(leader_index)
  for i in 0 1 2; do [ "$i" = "$leader" ] || others+="${CLUSTER_EPS[$i]},"; done
  load "${CLUSTER_EPS[$leader]}" "$1-leader"
  sigterm "${CLUSTER_PIDS[$leader]}"; s=$STOP_S
  unload
  r=$(lost "${others%,}" "$1-leader")
  stop_cluster
  note "$1" leader "$s" $r
}

for round in $(seq "$ROUNDS"); do
  order="ours etcd"; [ $((round % 2)) = 0 ] && order="etcd ours"
  for label in $order; do
    bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
    one_member "$label" "$bin"
    leader_of_three "$label" "$bin"
  done
done

stat() { python3 -c "import sys,statistics as s; v=[float(x) for x in sys.argv[2:]]; print(f'{(s.median(v) if sys.argv[1]==\"median\" else max(v)):.3f}')" "$@"; }
echo
echo "stop time with $WATCHERS watch streams and $WRITERS writers on the stopped member; $ROUNDS rounds each"
printf "%-40s %12s %12s %8s\n" figure swift-etcd etcd-3.5.1 "ratio"
for c in one leader; do
  name="one member"; [ $c = leader ] && name="leader of 3 (transfer)"
  for f in median max; do
    o=$(stat $f ${T[ours,$c]}); e=$(stat $f ${T[etcd,$c]})
    printf "%-40s %12s %12s %8s\n" "$name, $f (s)" "$o" "$e" "$(ratio "$e" "$o")"
  done
  printf "%-40s %12s %12s\n" "$name, acknowledged puts lost" "${LOST[ours,$c]}/${ACKS[ours,$c]}" "${LOST[etcd,$c]}/${ACKS[etcd,$c]}"
done
for k in "${!LOST[@]}"; do
  [ "${LOST[$k]}" = 0 ] || { echo "FAIL: acknowledged puts lost ($k: ${LOST[$k]})" >&2; exit 1; }
done
