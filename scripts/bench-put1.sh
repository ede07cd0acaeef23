#!/usr/bin/env bash
# Where one client's put spends its time, swift-etcd beside etcd 3.5.1
# (issue 20's "put, 1 client" row). Both servers run AT THE SAME TIME, one
# 1-client put loop each, so they meet the same disk and CPU contention (on a
# shared machine, runs one after the other differ more than the servers do).
# Per server and round it prints the client's rate, p50 and p99, then per
# put: WAL fsync time (the server's etcd_disk_wal_fsync_duration_seconds),
# the rest of the client's latency, and from /proc/PID/task/*/schedstat the
# thread wake-ups, CPU time and run-queue wait (time runnable but not
# running) summed over the server's threads, plus the busiest thread's.
# CLIENTS and CONNS (default 1 and 1) load both servers harder, e.g. the
# 100-client put row (CLIENTS=100 CONNS=10 PUTS=20000); the report then also
# shows how many puts share one WAL fsync (group commit).
# Usage: scripts/bench-put1.sh   (ROUNDS=3 PUTS=3000 CLIENTS=1 CONNS=1 OURS=… REF_ETCD=…)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
ROUNDS=${ROUNDS:-3}
PUTS=${PUTS:-3000}
CLIENTS=${CLIENTS:-1}
CONNS=${CONNS:-1}
LOADGEN=$(go_program loadgen)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$BENCH_TMP"' EXIT

schedstat() { # PID → "tid cpu_ns wait_ns runs" per thread
  local t
  for t in /proc/"$1"/task/*; do echo "${t##*/} $(cat "$t/schedstat" 2>/dev/null || echo 0 0 0)"; done
}

fsync_seconds() { # PORT → the WAL fsync histogram's sum and count
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^etcd_disk_wal_fsync_duration_seconds_(sum|count)/ {printf "%s ", $2}'
}

measure() { # LABEL PID PORT → writes $BENCH_TMP/LABEL.{out,s0,s1,f0,f1}
  local label=$1 pid=$2 port=$3
  "$LOADGEN" -endpoint "127.0.0.1:$port" -workload put -clients "$CLIENTS" -conns "$CONNS" -total 200 >/dev/null  # warm-up
  schedstat "$pid" >"$BENCH_TMP/$label.s0"; fsync_seconds "$port" >"$BENCH_TMP/$label.f0"
  "$LOADGEN" -endpoint "127.0.0.1:$port" -workload put -clients "$CLIENTS" -conns "$CONNS" -total "$PUTS" >"$BENCH_TMP/$label.out"
  schedstat "$pid" >"$BENCH_TMP/$label.s1"; fsync_seconds "$port" >"$BENCH_TMP/$label.f1"
}

report() { # LABEL
  python3 - "$BENCH_TMP/$1" "$1" "$PUTS" "$CLIENTS" <<'PY'
import sys
base, label, n, clients = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
out = dict(kv.split("=") for kv in open(base + ".out").read().split()[1:])
def stats(path):
    return {l.split()[0]: [int(x) for x in l.split()[1:4]] for l in open(path) if len(l.split()) == 4}
s0, s1 = stats(base + ".s0"), stats(base + ".s1")
deltas = {t: [b - a for a, b in zip(s0.get(t, [0, 0, 0]), v)] for t, v in s1.items()}
cpu = sum(d[0] for d in deltas.values()) / n / 1e6
wait = sum(d[1] for d in deltas.values()) / n / 1e6
runs = sum(d[2] for d in deltas.values()) / n
top = max(deltas.values(), key=lambda d: d[1], default=[0, 0, 0])
f0, f1 = ([float(x) for x in open(base + p).read().split()] or [0.0, 0.0] for p in (".f0", ".f1"))
fsync = (f1[0] - f0[0]) / n * 1e3
fsyncs = f1[1] - f0[1]
lat = float(out["secs"]) / n * 1e3
# The rest of a put's latency only means something with one client (with
# more, their latencies and fsyncs overlap).
rest = f", rest {lat - fsync:.3f} ms" if clients == 1 else ""
print(f"{label:5s} rate={float(out['rate']):6.0f}/s p50={out['p50ms']}ms p99={out['p99ms']:>6s}ms | per put: "
      f"fsync {fsync:.3f} ms{rest}; wakes {runs:.1f}, cpu {cpu:.3f} ms, "
      f"run-queue wait {wait:.3f} ms (busiest thread {top[1] / n / 1e6:.3f} ms in {top[2] / n:.1f} wakes); "
      f"{n / fsyncs if fsyncs else 0:.1f} puts per fsync")
PY
}

echo "put, $CLIENTS client(s) on $CONNS connection(s), $PUTS puts per round: swift-etcd ($OURS) beside etcd ($REF_ETCD), run at the same time"
for round in $(seq "$ROUNDS"); do
  start_server "$OURS" ours; PIDS+=("$SERVER_PID"); ours_pid=$SERVER_PID; ours_port=$SERVER_PORT
  start_server "$REF_ETCD" etcd; PIDS+=("$SERVER_PID"); etcd_pid=$SERVER_PID; etcd_port=$SERVER_PORT
  load=$(cut -d' ' -f1 /proc/loadavg)
  measure ours "$ours_pid" "$ours_port" & m1=$!
  measure etcd "$etcd_pid" "$etcd_port" & m2=$!
  wait "$m1" "$m2"
  echo "round $round (load $load)"
  report ours
  report etcd
  for p in "$ours_pid" "$etcd_pid"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
done
