#!/usr/bin/env bash
# Runs `swift test ARGS...` as `make test` does, with a time limit on the
# whole run so a hung test (a server child that never answers, a deadlock)
# fails CI with its name instead of spending CI's whole budget:
#
#   scripts/swift-test.sh LABEL SECONDS swift-test-args...
#
# Prints swift test's output as it comes; afterwards the 15 slowest tests
# (Swift Testing's "passed after N seconds" lines) and, after a timeout, every
# test and suite that started and never finished. Exits with swift test's
# status (non-zero when any test failed), or 124 after the time limit.
# The output is kept in .build/test-logs/LABEL.log.
# With SWIFT_TEST_BUNDLE set, runs that test bundle directly (Swift Testing's
# own options: --filter, --skip, --no-parallel) instead of `swift test`, so
# two runs can share one build (scripts/integration-tests.sh).
set -uo pipefail
label=$1 limit=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/.build/test-logs"
log=$root/.build/test-logs/$label.log
start=$(date +%s)
# timeout signals the whole process group it creates: the test runner and
# every server it started.
# stdbuf: the test runner block-buffers its output into a pipe, which a
# time limit would then lose; line-buffered, the log shows where it hung.
if [ -n "${SWIFT_TEST_BUNDLE:-}" ]; then
    # NO_COLOR: plain lines, as `swift test` prints into a pipe (the summary below reads them).
    export NO_COLOR=1
    runner=("$SWIFT_TEST_BUNDLE" --testing-library swift-testing)
else
    runner=("${SWIFT:-swift}" test)
fi
timeout -k 30 "$limit" stdbuf -oL -eL "${runner[@]}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "== $label: swift test exited $rc after $(( $(date +%s) - start )) s"
echo "== $label: the 15 slowest tests (seconds)"
sed -n 's/^. Test \(.*\) passed after \([0-9.]*\) seconds.*/\2 \1/p' "$log" | grep -v ' run with ' | sort -rn | head -15
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "== $label: TIME LIMIT ($limit s) reached; started and never finished:"
    # "◇ Test x() started." has no matching "Test x() passed/failed/skipped";
    # names are per suite, so a repeated name can hide a hang behind its twin.
    awk '
        / (Test|Suite) .* started\.$/ {
            name = $0; sub(/^[^ ]* /, "", name); sub(/ started\.$/, "", name); open[name]++ }
        / (Test|Suite) .* ((passed|failed) after [0-9.]+ seconds|skipped)/ {
            name = $0; sub(/^[^ ]* /, "", name); sub(/ ((passed|failed) after [0-9.]+ seconds|skipped).*$/, "", name)
            if (open[name] > 0) open[name]-- }
        END { for (n in open) if (open[n] > 0) print "   " n }
    ' "$log"
    rc=124
fi
exit "$rc"
