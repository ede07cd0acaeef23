#!/usr/bin/env bash
# Runs etcd3gw's own test suite (PyPI etcd3gw 2.7.0's sdist: OpenStack's
# client of the /v3/ JSON gateway) against three members of swift-etcd.
# Its packages go to their own venv (pinned; oslotest pulls fixtures/testtools).
#
#   SWIFT_ETCD_BINARY  the server (default .build/release/swift-etcd)
#   ETCD3GW_DIR        the venv and the unpacked sdist (default .build/etcd3gw)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${SWIFT_ETCD_BINARY:-$root/.build/release/swift-etcd}")
dir=${ETCD3GW_DIR:-$root/.build/etcd3gw}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
if [ ! -f "$dir/installed" ]; then
    python3 -m venv "$dir/venv" && "$dir/venv/bin/pip" install -q requests==2.34.2 futurist==3.5.0 pbr==7.1.3 \
        oslotest==6.1.1 pytest==9.2.0 urllib3==2.8.0 etcd3gw==2.7.0 || exit 2
    "$dir/venv/bin/pip" download -q --no-deps --no-binary :all: -d "$dir" etcd3gw==2.7.0 || exit 2
    tar -xzf "$dir/etcd3gw-2.7.0.tar.gz" -C "$dir" && touch "$dir/installed"
fi

source "$root/scripts/e2e/cluster3.sh"
trap cluster3_stop EXIT
export PATH=$root/.venv/bin:$PATH
cluster3_start "$bin" 20600 gw etcd3gw || exit 1
cd "$dir/etcd3gw-2.7.0" && TOOZ_TEST_HTTP_URL=http://127.0.0.1:20600 TOOZ_TEST_ETCD_PORT=20600 \
    "$dir/venv/bin/python" -m pytest -q -p no:cacheprovider etcd3gw/tests
