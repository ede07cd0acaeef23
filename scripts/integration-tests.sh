#!/usr/bin/env bash
# Runs the integration suites (Tests/IntegrationTests) in three shards at
# once, each one test at a time, as `make test` does:
#
#   SWIFT_ETCD_BINARY=.build/release/swift-etcd scripts/integration-tests.sh SECONDS
#
# SWIFT_TEST_CONFIGURATION (debug by default; `make test` passes release)
# picks the build whose test bundle runs.
#
# Most integration tests wait (for elections, timeouts, etcd 3.5.1 doing the
# same thing) more than they compute: one after another they took ~21
# minutes of a 2-core machine; with two shards side by side the cores were
# still idle half the time. Shard a runs the suites listed in
# scripts/integration-shard-a.txt, shard b those in integration-shard-b.txt,
# shard c every other suite. Each shard runs the test bundle that `swift
# build [-c release] --build-tests` made directly (`swift test` processes
# would wait on each other's lock on .build) through scripts/swift-test.sh,
# with its own third of SWIFT_ETCD_TEST_PORTS (by default 20100-23999 and
# 24001-32767, e2e's ports left out), so the shards' servers never race for
# a port. Output lines carry their shard ([a], [b], [c]); each shard's own
# log and slowest tests are in .build/test-logs/integration-{a,b,c}.log.
# Exits non-zero when any shard failed.
set -uo pipefail
limit=${1:?usage: integration-tests.sh SECONDS}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
config=${SWIFT_TEST_CONFIGURATION:-debug}
bundle=$("${SWIFT:-swift}" build -c "$config" --show-bin-path)/swift-etcdPackageTests.xctest
[ -x "$bundle" ] || { echo "integration-tests.sh: no test bundle at $bundle (swift build -c $config --build-tests first)" >&2; exit 2; }

# Three port ranges: thirds of SWIFT_ETCD_TEST_PORTS, or by default
# 20100-32767 without e2e's 20000-20010 and 24000.
if [ -n "${SWIFT_ETCD_TEST_PORTS:-}" ]; then
    lo=${SWIFT_ETCD_TEST_PORTS%-*} hi=${SWIFT_ETCD_TEST_PORTS#*-}
    third=$(( (hi - lo + 1) / 3 ))
    ports=("$lo-$(( lo + third - 1 ))" "$(( lo + third ))-$(( lo + 2 * third - 1 ))" "$(( lo + 2 * third ))-$hi")
else
    ports=(20100-23999 24001-28399 28400-32767)
fi

listed() { # shard letter -> its suites as a regex alternation
    grep -v '^#' "scripts/integration-shard-$1.txt" | grep . | paste -sd'|'
}
shard_a="IntegrationTests\.($(listed a))/"
shard_b="IntegrationTests\.($(listed b))/"

run_shard() {
    local name=$1 ports=$2
    shift 2
    SWIFT_TEST_BUNDLE=$bundle SWIFT_ETCD_TEST_PORTS=$ports \
        ./scripts/swift-test.sh "integration-$name" "$limit" --no-parallel "$@" 2>&1 | sed -u "s/^/[$name] /"
}
start=$(date +%s)
run_shard a "${ports[0]}" --filter "$shard_a" & pids=($!)
run_shard b "${ports[1]}" --filter "$shard_b" & pids+=($!)
run_shard c "${ports[2]}" --filter IntegrationTests --skip "$shard_a" --skip "$shard_b" & pids+=($!)
codes=()
for pid in "${pids[@]}"; do wait "$pid"; codes+=($?); done
echo "== integration: shards a, b, c exited ${codes[*]}, after $(( $(date +%s) - start )) s"
[ "${codes[*]}" = "0 0 0" ]
