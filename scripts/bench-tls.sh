#!/usr/bin/env bash
# make bench-tls: mutual TLS on the client port (kubeadm's setup: RSA-2048
# certificates from one CA, --client-cert-auth), swift-etcd vs etcd 3.5.1
# with the same certificates: put and linearizable range at 100 clients
# through Go's clientv3, and new connections per second (TCP connect, full
# TLS handshake with a client certificate, HTTP/2 preface answered).
# Ratios are ours/etcd (>1 means we are faster).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh
trap 'stop_server; rm -rf "$BENCH_TMP"' EXIT
mkdir -p .build/go-bin
GO111MODULE=off GOPATH=$PWD/.gopath:/usr/share/gocode go build -o .build/go-bin/loadgen ./Tests/GoClients/loadgen
LOADGEN=.build/go-bin/loadgen
SCALE=${BENCH_SCALE:-1}

# Certificates made now, valid two days, never committed.
PKI=$BENCH_TMP/pki
mkdir -p "$PKI"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 2 -subj /CN=etcd-ca 2>/dev/null
issue() { # name cn extensions
  openssl req -newkey rsa:2048 -nodes -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=$2" 2>/dev/null
  printf '%s\n' "$3" >"$PKI/$1.ext"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
    -out "$PKI/$1.crt" -extfile "$PKI/$1.ext" 2>/dev/null
}
issue server server "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
issue client kube-apiserver-etcd-client "extendedKeyUsage=clientAuth"
TLS_CLIENT=(-cacert "$PKI/ca.crt" -cert "$PKI/client.crt" -key "$PKI/client.key")

# start_tls_server BINARY NAME → SERVER_PID, SERVER_PORT
start_tls_server() {
  local bin=$1 name=$2 c p
  c=$(free_port); p=$(free_port)
  rm -rf "$BENCH_TMP/$name"
  "$bin" --name "$name" --data-dir "$BENCH_TMP/$name" \
    --listen-client-urls "https://127.0.0.1:$c" --advertise-client-urls "https://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$p" --initial-advertise-peer-urls "http://127.0.0.1:$p" \
    --initial-cluster "$name=http://127.0.0.1:$p" \
    --cert-file "$PKI/server.crt" --key-file "$PKI/server.key" --trusted-ca-file "$PKI/ca.crt" \
    --client-cert-auth >"$BENCH_TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=$c
  for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/$c) 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server $name did not start; log:" >&2; tail -20 "$BENCH_TMP/$name.log" >&2; return 1
}

# name clients conns total workload
WORKLOADS=(
  "mtls-put-100clients 100 10 $((60000*SCALE)) put"
  "mtls-range-lin-100clients 100 10 $((100000*SCALE)) range-lin"
  "mtls-handshakes-16clients 16 1 $((4000*SCALE)) handshake"
)

LOADGEN_ARGS=("${TLS_CLIENT[@]}")
unit_of() { if [ "$1" = handshake ]; then echo conn/s; else echo req/s; fi; }

run_workloads ours "$OURS" start_tls_server
run_workloads etcd "$REF_ETCD" start_tls_server
print_workload_table
