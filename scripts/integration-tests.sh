#!/usr/bin/env bash
# Runs the integration suites (Tests/IntegrationTests) in two shards at once,
# each one test at a time, as `make test` does:
#
#   SWIFT_ETCD_BINARY=.build/release/swift-etcd scripts/integration-tests.sh SECONDS
#
# Most integration tests wait (for elections, timeouts, etcd 3.5.1 doing the
# same thing) more than they compute: one after another they kept 2 cores
# about half busy for ~21 minutes; two shards side by side take ~11.
# Shard a runs the suites listed in scripts/integration-shard-a.txt, shard b
# every other one. Each shard runs the test bundle that `swift build
# --build-tests` made directly (two `swift test` processes would wait on
# each other's lock on .build) through scripts/swift-test.sh, with its own
# half of SWIFT_ETCD_TEST_PORTS (by default 20100-23999 and 24001-32767:
# e2e's ports stay free) so the shards' servers never race for a port.
# Output lines carry their shard ([a] or [b]); each shard's own log and
# slowest tests are in .build/test-logs/integration-{a,b}.log.
# Exits non-zero when either shard failed.
set -uo pipefail
limit=${1:?usage: integration-tests.sh SECONDS}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bundle=$("${SWIFT:-swift}" build --show-bin-path)/swift-etcdPackageTests.xctest
[ -x "$bundle" ] || { echo "integration-tests.sh: no test bundle at $bundle (swift build --build-tests first)" >&2; exit 2; }

if [ -n "${SWIFT_ETCD_TEST_PORTS:-}" ]; then
    lo=${SWIFT_ETCD_TEST_PORTS%-*} hi=${SWIFT_ETCD_TEST_PORTS#*-}
    mid=$(( (lo + hi) / 2 ))
    ports_a="$lo-$mid" ports_b="$(( mid + 1 ))-$hi"
else
    # e2e (scripts/e2e) listens on 20000-20010 and 24000: both stay out.
    ports_a="20100-23999" ports_b="24001-32767"
fi

suites=$(grep -v '^#' scripts/integration-shard-a.txt | grep . | paste -sd'|')
shard_a="IntegrationTests\.($suites)/"

run_shard() {
    local name=$1 ports=$2
    shift 2
    SWIFT_TEST_BUNDLE=$bundle SWIFT_ETCD_TEST_PORTS=$ports \
        ./scripts/swift-test.sh "integration-$name" "$limit" --no-parallel "$@" 2>&1 | sed -u "s/^/[$name] /"
}
start=$(date +%s)
run_shard a "$ports_a" --filter "$shard_a" &
pid_a=$!
run_shard b "$ports_b" --filter IntegrationTests --skip "$shard_a" &
pid_b=$!
wait $pid_a; rc_a=$?
wait $pid_b; rc_b=$?
echo "== integration: shard a exited $rc_a, shard b $rc_b, after $(( $(date +%s) - start )) s"
[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]
