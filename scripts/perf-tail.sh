#!/usr/bin/env bash
# etcdctl check perf (default --load=s: 60 s, 50 clients, 150 puts/s of
# 256-byte keys and 1 KiB values) against swift-etcd and etcd 3.5.1, each
# started with --metrics extensive. Besides etcdctl's verdict it prints the
# server's own view from /metrics, scraped every second: WAL fsync, backend
# commit and Put handling histograms (count, mean, slowest bucket) and the
# seconds in which slow events happened, so a slow request can be told apart
# as disk (fsync), apply (commit) or outside the server (client, scheduler).
# Usage: scripts/perf-tail.sh [load]   (OURS=… REF_ETCD=… override binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
LOAD=${1:-s}
ETCDCTL=${ETCDCTL:-.venv/bin/etcdctl}
trap 'stop_server; kill ${SCRAPER:-} 2>/dev/null || true; rm -rf "$BENCH_TMP"' EXIT

run() { # label binary
  local label=$1 bin=$2 c p
  c=$(free_port); p=$(free_port)
  rm -rf "$BENCH_TMP/$label"
  "$bin" --name "$label" --data-dir "$BENCH_TMP/$label" --metrics extensive \
    --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$label=http://127.0.0.1:$p" >"$BENCH_TMP/$label.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$c) 2>/dev/null && break; sleep 0.05; done
  mkdir -p "$BENCH_TMP/$label.scrapes"
  ( i=0; while true; do curl -s "http://127.0.0.1:$c/metrics" >"$BENCH_TMP/$label.scrapes/$(printf %04d $i)" || true; i=$((i+1)); sleep 1; done ) &
  SCRAPER=$!
  echo "== $label: etcdctl check perf --load=$LOAD"
  ETCDCTL_API=3 "$ETCDCTL" --endpoints "127.0.0.1:$c" check perf --load="$LOAD" 2>&1 | tr "\r" "\n" | grep -v " / 60 " | tail -6 || true
  kill $SCRAPER 2>/dev/null || true; wait $SCRAPER 2>/dev/null || true; SCRAPER=
  stop_server
  python3 - "$BENCH_TMP/$label.scrapes" <<'PY'
import os, re, sys
d = sys.argv[1]
files = sorted(os.listdir(d))
def parse(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or " " not in line: continue
        k, v = line.rsplit(" ", 1)
        try: out[k] = float(v)
        except ValueError: pass
    return out
snaps = [parse(os.path.join(d, f)) for f in files]
snaps = [s for s in snaps if s]
if not snaps: print("   (no scrapes)"); sys.exit()
last = snaps[-1]
series = {
    "WAL fsync": ("etcd_disk_wal_fsync_duration_seconds", ""),
    "backend commit": ("etcd_disk_backend_commit_duration_seconds", ""),
    "Put handling": ("grpc_server_handling_seconds", 'grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary",'),
}
def buckets(s, name, labels):
    b = []
    for k, v in s.items():
        m = re.fullmatch(re.escape(name) + r'_bucket\{' + re.escape(labels) + r'le="([^"]+)"\}', k)
        if m: b.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), v))
    return sorted(b)
for title, (name, labels) in series.items():
    b = buckets(last, name, labels)
    if not b: print(f"   {title}: no data"); continue
    count = b[-1][1]
    total = last.get(name + "_sum" + ("{" + labels.rstrip(",") + "}" if labels else ""), 0)
    slowest = next((le for le, c in b if c == count), float("inf"))
    over = {t: count - next((c for le, c in b if le >= t), count) for t in (0.1, 0.5)}
    print(f"   {title}: n={int(count)} mean={1000*total/max(count,1):.2f}ms slowest≤{slowest}s  >100ms={int(over[0.1])} >500ms={int(over[0.5])}")
    # Seconds (since the first scrape) in which observations above 100 ms were added.
    prev = None; slow_seconds = []
    for i, s in enumerate(snaps):
        bb = dict(buckets(s, name, labels))
        above = bb.get(float("inf"), 0) - next((c for le, c in sorted(bb.items()) if le >= 0.1), 0)
        if prev is not None and above > prev: slow_seconds.append(f"{i}s:+{int(above - prev)}")
        prev = above
    if slow_seconds: print(f"      slow observations at {', '.join(slow_seconds[:20])}")
PY
}

run ours "$OURS"
run etcd "$REF_ETCD"
