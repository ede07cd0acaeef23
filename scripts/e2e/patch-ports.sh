#!/usr/bin/env bash
# Copies etcd 3.4's e2e package into GOPATH dir $1 (it then shadows
# /usr/share/gocode) with its ports moved into 20000-32767, where test
# servers must listen on this machine; nothing else changes:
#  - make-mirror's second cluster: base port 10000 -> 24000
#  - etcd_config_test's "http://0.0.0.0:0" client URLs (an ephemeral port)
#    -> http://127.0.0.1:(20010+i)
#  - TestEtcdUnixPeers' default client URL (localhost:2379) -> 127.0.0.1:20010
set -euo pipefail
src=/usr/share/gocode/src/go.etcd.io/etcd/tests/e2e
dst=$1/src/go.etcd.io/etcd/tests/e2e
rm -rf "$dst"
mkdir -p "$dst"
cp "$src"/*.go "$dst"/
sed -i 's/mirrorcfg.basePort = 10000/mirrorcfg.basePort = 24000/' "$dst/ctl_v3_make_mirror_test.go"
sed -i 's|"http://0.0.0.0:0",|fmt.Sprintf("http://127.0.0.1:%d", etcdProcessBasePort+10+i),|' "$dst/etcd_config_test.go"
sed -i 's|"--initial-cluster", "e1=unix://etcd.unix:1",|"--initial-cluster", "e1=unix://etcd.unix:1", "--listen-client-urls", "http://127.0.0.1:20010", "--advertise-client-urls", "http://127.0.0.1:20010",|' "$dst/etcd_config_test.go"
grep -q 'basePort = 24000' "$dst/ctl_v3_make_mirror_test.go"
! grep -q '0\.0\.0\.0:0' "$dst/etcd_config_test.go"
grep -q '127.0.0.1:20010' "$dst/etcd_config_test.go"
