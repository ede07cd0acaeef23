# Sourced by the client-suite scripts: three members of one binary on
# 127.0.0.1, client port BASE+10*i, peer port BASE+10*i+1, data in a temp
# dir; `cluster3_stop` (an EXIT trap) kills them and removes the data.
#   cluster3_start BINARY BASE NAME_PREFIX TOKEN
cluster3_pids=() cluster3_dir=""
cluster3_stop() {
    for p in "${cluster3_pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$cluster3_dir" ] && rm -rf "$cluster3_dir"
}
cluster3_start() {
    local bin=$1 base=$2 prefix=$3 token=$4 cluster="" i
    cluster3_dir=$(mktemp -d)
    for i in 0 1 2; do cluster+="$prefix$i=http://127.0.0.1:$((base + 10 * i + 1)),"; done
    for i in 0 1 2; do
        local c=http://127.0.0.1:$((base + 10 * i)) p=http://127.0.0.1:$((base + 10 * i + 1))
        "$bin" --name "$prefix$i" --data-dir "$cluster3_dir/m$i" --listen-client-urls "$c" --advertise-client-urls "$c" \
            --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" --initial-cluster "${cluster%,}" \
            --initial-cluster-token "$token" > "$cluster3_dir/m$i.log" 2>&1 &
        cluster3_pids+=($!)
    done
    for _ in $(seq 150); do
        ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$base" endpoint health >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "cluster3: no healthy member at 127.0.0.1:$base; logs:" >&2
    tail -n 20 "$cluster3_dir"/m*.log >&2
    return 1
}
