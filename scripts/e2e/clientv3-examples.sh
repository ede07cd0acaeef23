#!/usr/bin/env bash
# Runs etcd 3.4's clientv3 and concurrency examples (Debian's
# golang-etcd-server-dev: clientv3/example_*_test.go and
# clientv3/concurrency's examples and election test), whose `// Output:`
# comments are the expected answers, against three members of swift-etcd.
# The examples' own TestMain starts an in-process etcd; ours (written here)
# points their `endpoints` at the cluster instead.
#
#   SWIFT_ETCD_BINARY  the server (default .build/release/swift-etcd)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(realpath "${SWIFT_ETCD_BINARY:-$root/.build/release/swift-etcd}")
etcd=/usr/share/gocode/src/go.etcd.io/etcd/clientv3
if [ ! -d "$etcd/concurrency" ]; then
    echo "clientv3-examples.sh: no $etcd; run make deps-test" >&2
    exit 2
fi
gopath=$root/.build/clientv3-examples
rm -rf "$gopath/src" && mkdir -p "$gopath/src/kvexamples" "$gopath/src/concexamples"
cp "$etcd"/example_*test.go "$gopath/src/kvexamples/"
cp "$etcd"/concurrency/example_*_test.go "$etcd"/concurrency/election_test.go "$gopath/src/concexamples/"
main() { # package, and whether the package declares `endpoints` itself
    printf 'package %s\n\nimport (\n\t"os"\n\t"strings"\n\t"testing"\n)\n\n' "$1"
    [ "$2" = declare ] && printf 'var endpoints []string\n\n'
    printf 'func TestMain(m *testing.M) {\n\tendpoints = strings.Split(os.Getenv("ETCD_ENDPOINTS"), ",")\n\tos.Exit(m.Run())\n}\n'
}
main clientv3_test keep > "$gopath/src/kvexamples/main_test.go"
main concurrency_test declare > "$gopath/src/concexamples/main_test.go"
export GO111MODULE=off GOPATH=$gopath:/usr/share/gocode GOCACHE=$root/.build/go-cache
for p in kvexamples concexamples; do
    (cd "$gopath/src" && go test -c -o "$gopath/$p.test" "./$p") || exit 2
done

source "$root/scripts/e2e/cluster3.sh"
trap cluster3_stop EXIT
export PATH=$root/.venv/bin:$PATH
cluster3_start "$bin" 20700 ex clientv3-examples || exit 1
export ETCD_ENDPOINTS=127.0.0.1:20700,127.0.0.1:20710,127.0.0.1:20720
rc=0
for t in "kvexamples.test -test.run Example" "concexamples.test"; do
    $gopath/$t -test.v > "$gopath/out.log" 2>&1 || rc=1
    grep -E '^(--- |ok|PASS|FAIL|got:|want:)' "$gopath/out.log"
    [ $rc = 0 ] || tail -n 40 "$gopath/out.log"
done
exit $rc
