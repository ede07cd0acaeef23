#!/usr/bin/env bash
# Patroni's etcd3 DCS (PyPI patroni 4.1.5, its /v3 JSON-gateway client) against
# swift-etcd and etcd 3.5.1 side by side: scripts/e2e/patroni_dcs.py does what
# two Patroni nodes' HA loops do and prints each outcome; both servers must
# print the same lines. Setups: one member; three members; three members with
# the first listed one killed; auth on (root + password); TLS with client
# certificates. Patroni and psycopg2 go to their own venv.
#
#   SWIFT_ETCD_BINARY  the server (default .build/release/swift-etcd)
#   PATRONI_DIR        the venv (default .build/patroni)
#   PATRONI_SETUPS     which setups (default: one three killed auth tls)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${SWIFT_ETCD_BINARY:-$root/.build/release/swift-etcd}")
etcd=$root/.venv/bin/etcd
etcdctl=$root/.venv/bin/etcdctl
dir=${PATRONI_DIR:-$root/.build/patroni}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/installed" ]; then
    python3 -m venv "$dir" && "$dir/bin/pip" install -q 'patroni[etcd3]==4.1.5' psycopg2-binary==2.9.10 \
        && touch "$dir/installed" || exit 2
fi

tmp=$(mktemp -d)
pids=()
stop_all() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    pids=()
}
trap 'stop_all; rm -rf "$tmp"' EXIT

# start BINARY BASE N TLS(0/1) TAG: N members, client port BASE+10*i, peer BASE+10*i+1.
start() {
    local b=$1 base=$2 n=$3 tls=$4 tag=$5 cluster="" i scheme=http flags=()
    [ "$tls" = 1 ] && scheme=https flags=(--cert-file "$tmp/pki/server.crt" --key-file "$tmp/pki/server.key"
        --trusted-ca-file "$tmp/pki/ca.crt" --client-cert-auth)
    for ((i = 0; i < n; i++)); do cluster+="m$i=http://127.0.0.1:$((base + 10 * i + 1)),"; done
    for ((i = 0; i < n; i++)); do
        local c=$scheme://127.0.0.1:$((base + 10 * i)) p=http://127.0.0.1:$((base + 10 * i + 1))
        "$b" --name "m$i" --data-dir "$tmp/$tag/m$i" --listen-client-urls "$c" --advertise-client-urls "$c" \
            --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" --initial-cluster "${cluster%,}" \
            --initial-cluster-token "$tag" "${flags[@]}" > "$tmp/$tag.m$i.log" 2>&1 &
        pids+=($!)
    done
    for _ in $(seq 150); do
        "$etcdctl" "${ctl[@]}" --endpoints "$scheme://127.0.0.1:$base" endpoint health >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "patroni: no healthy member at $base ($tag)" >&2
    tail -n 20 "$tmp/$tag".m*.log >&2
    return 1
}

mkdir -p "$tmp/pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/pki/ca.key" -out "$tmp/pki/ca.crt" -days 2 \
    -subj /CN=patroni-ca 2>/dev/null
for cert in server:"subjectAltName=IP:127.0.0.1,DNS:localhost" client:"extendedKeyUsage=clientAuth"; do
    name=${cert%%:*}
    openssl req -newkey rsa:2048 -nodes -keyout "$tmp/pki/$name.key" -out "$tmp/pki/$name.csr" \
        -subj "/CN=$name" 2>/dev/null
    printf '%s\n' "${cert#*:}" > "$tmp/pki/$name.ext"
    openssl x509 -req -in "$tmp/pki/$name.csr" -CA "$tmp/pki/ca.crt" -CAkey "$tmp/pki/ca.key" \
        -CAcreateserial -days 2 -out "$tmp/pki/$name.crt" -extfile "$tmp/pki/$name.ext" 2>/dev/null
done

# run SETUP BINARY BASE TAG: prints the driver's lines to $tmp/TAG.out.
run() {
    local setup=$1 b=$2 base=$3 tag=$4 n=1 tls=0 args=() hosts
    ctl=()
    case $setup in
        three|killed) n=3 ;;
        tls) tls=1 ctl=(--cacert "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key")
             args=(--cacert "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key") ;;
    esac
    start "$b" "$base" "$n" "$tls" "$tag" || return 1
    hosts=$(for ((i = 0; i < n; i++)); do printf '127.0.0.1:%d,' $((base + 10 * i)); done)
    if [ "$setup" = auth ]; then
        "$etcdctl" --endpoints "127.0.0.1:$base" user add root:patroni-pw >/dev/null &&
            "$etcdctl" --endpoints "127.0.0.1:$base" role add root >/dev/null &&
            "$etcdctl" --endpoints "127.0.0.1:$base" user grant-role root root >/dev/null &&
            "$etcdctl" --endpoints "127.0.0.1:$base" auth enable >/dev/null || return 1
        args=(--user root --password patroni-pw)
    fi
    [ "$setup" = killed ] && kill "${pids[0]}"
    timeout 300 "$dir/bin/python" "$root/scripts/e2e/patroni_dcs.py" --hosts "${hosts%,}" --scope "$tag" \
        "${args[@]}" > "$tmp/$tag.out" 2> "$tmp/$tag.err"
    echo "exit: $?" >> "$tmp/$tag.out"
    stop_all
}

fail=0
for setup in ${PATRONI_SETUPS:-one three killed auth tls}; do
    run "$setup" "$etcd" 21700 "etcd-$setup"
    run "$setup" "$bin" 21800 "ours-$setup"
    if diff "$tmp/etcd-$setup.out" "$tmp/ours-$setup.out" > "$tmp/$setup.diff" \
        && grep -qx 'exit: 0' "$tmp/ours-$setup.out"; then
        echo "patroni $setup: same as etcd 3.5.1 ($(wc -l < "$tmp/ours-$setup.out") steps)"
    else
        fail=1
        echo "patroni $setup: DIFFERENT (< etcd 3.5.1, > swift-etcd)"
        cat "$tmp/$setup.diff"
        tail -n 15 "$tmp/ours-$setup.err"
    fi
done
exit $fail
