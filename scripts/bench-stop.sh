#!/usr/bin/env bash
# Stop time under load: a member with STOP_WATCHERS open watch streams (over
# 10 connections) and STOP_WRITERS concurrent writers gets SIGTERM; the
# figure is the time from the signal to the process's exit. swift-etcd vs a
# real etcd 3.5.1 (ratio etcd/ours: >1 means we stop faster). The
# integration test ShutdownTests checks that no acknowledged write is lost.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; [ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null; rm -rf "$BENCH_TMP"' EXIT
STOPLOAD=$(go_program stopload)
WATCHERS=${STOP_WATCHERS:-500}
WRITERS=${STOP_WRITERS:-100}
ROUNDS=${STOP_ROUNDS:-3}

declare -A R
for label in ours etcd; do
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  total=0; worst=0
  for round in $(seq "$ROUNDS"); do
    start_server "$bin" "$label"
    acks="$BENCH_TMP/$label.acks"
    "$STOPLOAD" -endpoint "127.0.0.1:$SERVER_PORT" -watchers "$WATCHERS" -writers "$WRITERS" \
      >"$acks" 2>"$BENCH_TMP/$label.load" &
    LOAD_PID=$!
    for _ in $(seq 600); do
      grep -q ready "$BENCH_TMP/$label.load" 2>/dev/null && [ "$(wc -l <"$acks")" -ge 2000 ] && break
      sleep 0.1
    done
    t0=$(date +%s.%N)
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    t1=$(date +%s.%N)
    SERVER_PID=
    kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=
    s=$(python3 -c "print(f'{$t1-$t0:.3f}')")
    echo "$label round $round: stop took ${s}s with $WATCHERS watch streams, $WRITERS writers ($(wc -l <"$acks") puts acknowledged)"
    total=$(python3 -c "print($total+$s)"); worst=$(python3 -c "print(max($worst,$s))")
  done
  R[$label,mean]=$(python3 -c "print(f'{$total/$ROUNDS:.3f}')")
  R[$label,max]=$worst
done

echo
printf "%-44s %12s %12s %8s\n" figure swift-etcd etcd-3.5.1 ratio
printf "%-44s %12s %12s %8s\n" "stop time, mean of $ROUNDS (s)" "${R[ours,mean]}" "${R[etcd,mean]}" "$(ratio "${R[etcd,mean]}" "${R[ours,mean]}")"
printf "%-44s %12s %12s %8s\n" "stop time, worst (s)" "${R[ours,max]}" "${R[etcd,max]}" "$(ratio "${R[etcd,max]}" "${R[ours,max]}")"
