# Helpers shared by the benchmark scripts: start a server (ours or etcd) on
# free loopback ports with a fresh data dir, wait for it, stop it.
BENCH_TMP=${BENCH_TMP:-$(mktemp -d /tmp/swift-etcd-bench.XXXXXX)}
REF_ETCD=${REF_ETCD:-.venv/bin/etcd}
OURS=${OURS:-.build/release/swift-etcd}

# A free port in 20000-32767 (never the kernel's ephemeral range, 32768-60999).
free_port() {
  python3 -c '
import random, socket
while True:
    p = random.randint(20000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

# start_server BINARY NAME → sets SERVER_PID and SERVER_PORT
start_server() {
  local bin=$1 name=$2 c p
  c=$(free_port); p=$(free_port)
  rm -rf "$BENCH_TMP/$name"
  "$bin" --name "$name" --data-dir "$BENCH_TMP/$name" \
    --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$name=http://127.0.0.1:$p" >"$BENCH_TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=$c
  for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/$c) 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server $name did not start; log:" >&2; tail -20 "$BENCH_TMP/$name.log" >&2; return 1
}

stop_server() { [ -n "${SERVER_PID:-}" ] || return 0; kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b else 'n/a')" "$1" "$2"; }
