#!/usr/bin/env bash
# Runs aetcd's own test suite (PyPI aetcd 1.0.0's sdist, unpacked by
# `make deps-test` in .venv/aetcd/src) against three members of swift-etcd;
# its fixtures shell out to etcdctl, which is etcd 3.5.1's (.venv/bin).
#
#   SWIFT_ETCD_BINARY  the server (default .build/release/swift-etcd; etcd
#                      3.5.1's .venv/bin/etcd runs the same suite as reference)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${SWIFT_ETCD_BINARY:-$root/.build/release/swift-etcd}")
src=$root/.venv/aetcd/src/aetcd-1.0.0
if [ ! -d "$src/tests" ]; then
    echo "aetcd.sh: no $src/tests; run make deps-test" >&2
    exit 2
fi
# Left out, with why: builds its client without the suite's
# TEST_ETCD_HTTP_URL (localhost:2379), and test servers here listen on 20000-32767 only.
deselect=(--deselect tests/integration/test_auth.py::test_auth)

source "$root/scripts/e2e/cluster3.sh"
trap cluster3_stop EXIT
export PATH=$root/.venv/bin:$PATH
cluster3_start "$bin" 20500 aetcd aetcd || exit 1
cd "$src" && TEST_ETCD_HTTP_URL=http://127.0.0.1:20500 \
    "$root/.venv/aetcd/bin/python" -m pytest -q -p no:cacheprovider -o addopts= "${deselect[@]}" tests
