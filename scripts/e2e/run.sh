#!/usr/bin/env bash
# Runs etcd 3.4's own end-to-end suite (Debian's golang-etcd-server-dev,
# go.etcd.io/etcd/tests/e2e) with swift-etcd standing in as bin/etcd and
# Debian's etcdctl 3.4 as bin/etcdctl. Each test runs alone (its own
# process, a time limit); prints one line per test and the pass/fail/skip
# counts; exits 1 when any test fails.
#
#   SWIFT_ETCD_BINARY  the server to test (default .build/release/swift-etcd)
#   E2E_TESTS          a file of test names to run (default: every test)
#   E2E_RUN            a Go regexp: run only the tests it matches
#   E2E_TIMEOUT        seconds per test (default 150; the slowest passing test takes 40)
#   E2E_RETRIES        runs again a test that failed, up to this many times
#                      (default 1: the machine is shared and the suite's own
#                      deadlines are tight); a pass on a retry is listed as flaky
#   E2E_DIR            work dir (default .build/etcd-e2e); logs in $E2E_DIR/logs
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${SWIFT_ETCD_BINARY:-$root/.build/release/swift-etcd}")
dir=${E2E_DIR:-$root/.build/etcd-e2e}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)
per_test=${E2E_TIMEOUT:-150}
skipfile=$root/scripts/e2e/skip.txt
[ -x "$bin" ] || { echo "no server binary at $bin" >&2; exit 2; }
ctl=/usr/bin/etcdctl
[ -x "$ctl" ] || ctl=$(find "$root/.venv" -name etcdctl -type f | head -1)
[ -x "$ctl" ] || { echo "no etcdctl (apt-get install etcd-client)" >&2; exit 2; }

# Build the suite once per change of this script dir (GOPATH mode; the
# package is copied with its ports moved into 20000-32767, see patch-ports.sh).
gopath=$dir/gopath
stamp=$(cat "$root"/scripts/e2e/patch-ports.sh | sha256sum | cut -c1-16)
if [ ! -x "$dir/e2e.test" ] || [ "$(cat "$dir/e2e.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "building etcd 3.4's e2e suite"
    "$root/scripts/e2e/patch-ports.sh" "$gopath" || exit 2
    (cd "$dir" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$dir/gocache" \
        go test -c -o e2e.test go.etcd.io/etcd/tests/e2e) || exit 2
    echo "$stamp" > "$dir/e2e.stamp"
fi

# bin/etcd and bin/etcdctl; certificates where the suite looks for them
# (--cert-dir, and ../../integration/fixtures from the working dir for JWT).
mkdir -p "$dir/bin" "$dir/run/a/b" "$dir/logs" "$dir/tmp"
ln -sfn "$bin" "$dir/bin/etcd"
ln -sfn "$ctl" "$dir/bin/etcdctl"
"$root/scripts/e2e/fixtures.sh" "$dir/run/integration/fixtures" || exit 2

mapfile -t all < <("$dir/e2e.test" -test.list '.*')
if [ -n "${E2E_TESTS:-}" ]; then
    mapfile -t all < <(grep -v '^#' "$E2E_TESTS" | awk 'NF { print $1 }')
fi
skip_reason() { # name -> reason, or nothing
    local pattern reason
    while read -r pattern reason; do
        case $pattern in ''|'#'*) continue ;; esac
        if [[ $1 =~ ^(${pattern})$ ]]; then echo "$reason"; return; fi
    done < "$skipfile"
}

# Kills what a test left running: servers started from our bin dir (found by
# their command line, killed by pid) so the next test has its ports.
reap() {
    local p
    for p in $(pgrep -f "^$dir/bin/etcd( |$)" || true); do kill -9 "$p" 2>/dev/null; done
}

pass=0 fail=0 skip=0 failed=() flaky=()
for t in "${all[@]}"; do
    if [ -n "${E2E_RUN:-}" ] && ! [[ $t =~ ${E2E_RUN} ]]; then continue; fi
    reason=$(skip_reason "$t")
    if [ -n "$reason" ]; then
        skip=$((skip + 1)); printf 'SKIP %-50s %s\n' "$t" "$reason"; continue
    fi
    log=$dir/logs/$t.log
    start=$(date +%s)
    : > "$log"
    for attempt in $(seq 0 "${E2E_RETRIES:-1}"); do
        [ "$attempt" -gt 0 ] && echo "=== retry $attempt" >> "$log"
        (cd "$dir/run/a/b" && TMPDIR=$dir/tmp timeout -k 10 "$per_test" "$dir/e2e.test" \
            -test.run "^${t}\$" -test.v -test.timeout "$((per_test - 5))s" \
            -bin-dir "$dir/bin" -cert-dir "$dir/run/integration/fixtures") > "$log.try" 2>&1
        rc=$?
        cat "$log.try" >> "$log"
        reap
        rm -rf "${dir:?}/tmp/"* "$dir/run/a/b/"*
        outcome=fail
        if [ $rc -eq 0 ] && grep -q -- "^--- PASS: $t " "$log.try"; then outcome=pass
        elif [ $rc -eq 0 ] && grep -q -- "^--- SKIP: $t " "$log.try"; then outcome=skip; fi
        [ $outcome = fail ] || break
    done
    rm -f "$log.try"
    secs=$(( $(date +%s) - start ))
    case $outcome in
        pass) pass=$((pass + 1))
              if [ "$attempt" -gt 0 ]; then flaky+=("$t"); printf 'PASS %-50s %3ds  (on retry %d)\n' "$t" "$secs" "$attempt"
              else printf 'PASS %-50s %3ds\n' "$t" "$secs"; fi ;;
        skip) skip=$((skip + 1)); printf 'SKIP %-50s skipped by the suite itself\n' "$t" ;;
        *)    fail=$((fail + 1)); failed+=("$t"); printf 'FAIL %-50s %3ds  (%s)\n' "$t" "$secs" "$log" ;;
    esac
done
echo "etcd e2e: $pass passed, $fail failed, $skip skipped"
[ ${#flaky[@]} -eq 0 ] || printf 'passed only on a retry: %s\n' "${flaky[*]}"
[ $fail -eq 0 ] || { printf 'failed: %s\n' "${failed[*]}"; exit 1; }
