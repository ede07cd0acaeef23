"""Corrupt-data-dir fuzzer: damage one file (or directory) of a stopped member's
data dir, start the member on it, and judge what it does.

A baseline data dir is made once per stop mode with the binary under test
(a few hundred puts over fewer keys, deletes, a lease with keys, a physical
compaction, snapshots via --snapshot-count), then stopped with SIGTERM
("clean") or SIGKILL ("kill9"). Every acknowledged write's revision is
recorded, so the state at any revision is known. For every file and
directory under the data dir, each mutation (mutations.py) is applied to a
fresh copy and the member started on it. Accepted outcomes:

- it serves: every key equals the recorded state at the revision it answers
  with, that revision is the last acknowledged one (a kill9 base whose last
  WAL segment lost its tail may answer an older one: "rollback", reported),
  the lease is alive, a read at the compaction revision is right, and a new
  put works; or nothing of the data is left (every data file deleted) and it
  starts empty ("fresh");
- it refuses: exits within --timeout with a non-zero status (no signal), and
  one of its last output lines names the damaged file or directory.

Anything else is a finding: a crash signal, a hang, exit 0, wrong or lost
data, or a refusal that does not say which file. `--reference` runs the
same cases on etcd 3.5.1 and prints both outcome tables; only ours can fail.
"""
import argparse
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from servers import die_with_parent, free_port, ours_binary, reference_binary  # noqa: E402
import mutations  # noqa: E402

import grpc  # noqa: E402
from etcd3.etcdrpc import rpc_pb2 as pb  # noqa: E402
from etcd3.etcdrpc import rpc_pb2_grpc as stubs  # noqa: E402

LEASE_TTL = 3600


class Member:
    """One single-member server on `data`; `proc` is its process, `out` its combined output."""

    def __init__(self, binary, data, workdir, label, drop_dac=False):
        self.client, self.peer = free_port(), free_port()
        while self.peer == self.client:
            self.peer = free_port()
        c, p = f"http://127.0.0.1:{self.client}", f"http://127.0.0.1:{self.peer}"
        args = [binary, "--name", "m", "--data-dir", data, "--listen-client-urls", c,
                "--advertise-client-urls", c, "--listen-peer-urls", p, "--initial-advertise-peer-urls", p,
                "--initial-cluster", f"m={p}", "--snapshot-count", "40"]
        if drop_dac:  # root ignores file modes unless these capabilities are gone
            args = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] + args
        self.out_path = os.path.join(workdir, f"{label}.log")
        self.outfile = open(self.out_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.outfile, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.client}")
        self.kv = stubs.KVStub(self.channel)
        self.lease = stubs.LeaseStub(self.channel)

    def wait_ready(self, timeout):
        """'ready', 'exited' or 'hang' within `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return "exited"
            try:
                self.kv.Range(pb.RangeRequest(key=b"\0"), timeout=1)
                return "ready"
            except grpc.RpcError:
                time.sleep(0.05)
        return "exited" if self.proc.poll() is not None else "hang"

    def stop(self, sig=signal.SIGTERM):
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.outfile.close()
        return self.proc.returncode

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class History:
    """Acknowledged writes by revision: (revision, key, value or None for a delete)."""

    def __init__(self):
        self.writes, self.final, self.compacted, self.lease_id = [], 1, 0, 0

    def state_at(self, revision):
        state = {}
        for rev, key, value in self.writes:
            if rev > revision:
                break
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        return state


def make_baseline(binary, workdir, label, stop_signal, seed):
    """Writes the workload to a new member, stops it with `stop_signal`; returns (data dir, History)."""
    rng = random.Random(seed)
    data = os.path.join(workdir, label)
    m = Member(binary, data, workdir, label + "-baseline")
    if m.wait_ready(60) != "ready":
        raise RuntimeError(f"baseline member for {label} did not start; see {m.out_path}")
    h = History()
    try:
        def put(key, value, lease=0):
            r = m.kv.Put(pb.PutRequest(key=key, value=value, lease=lease), timeout=10)
            h.writes.append((r.header.revision, key, value))
        for i in range(220):
            put(b"k%03d" % rng.randrange(120), b"v%d-" % i + bytes(rng.randrange(256) for _ in range(rng.randrange(40))))
            if i == 120:
                h.compacted = h.writes[-1][0]
                m.kv.Compact(pb.CompactionRequest(revision=h.compacted, physical=True), timeout=10)
        for key in sorted({k for _, k, _ in h.writes})[:10]:
            r = m.kv.DeleteRange(pb.DeleteRangeRequest(key=key), timeout=10)
            if r.deleted:
                h.writes.append((r.header.revision, key, None))
        h.lease_id = m.lease.LeaseGrant(pb.LeaseGrantRequest(TTL=LEASE_TTL), timeout=10).ID
        for i in range(3):
            put(b"leased%d" % i, b"x", h.lease_id)
        for i in range(60):
            put(b"tail%02d" % i, b"t" * rng.randrange(1, 300))
        h.final = h.writes[-1][0]
    finally:
        rc = m.stop(stop_signal)
    if stop_signal == signal.SIGTERM and rc not in (0, -signal.SIGTERM):  # etcd re-raises SIGTERM
        raise RuntimeError(f"{label}: SIGTERM stop exited {rc}; see {m.out_path}")
    return data, h


def check_serving(m, h, allow_rollback):
    """None when what `m` serves is right, else what is wrong; 'rollback' when allowed and older."""
    r = m.kv.Range(pb.RangeRequest(key=b"\0", range_end=b"\0"), timeout=10)
    rev = r.header.revision
    got = {kv.key: kv.value for kv in r.kvs}
    if rev > h.final:
        return f"answers revision {rev} past the last acknowledged {h.final}"
    want = h.state_at(rev)
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[:3]
        return f"wrong data at revision {rev}: {len(got)} keys, want {len(want)}; e.g. {diff}"
    if rev < h.final:
        return "rollback" if allow_rollback else f"lost acknowledged writes: revision {rev} < {h.final}"
    ttl = m.lease.LeaseTimeToLive(pb.LeaseTimeToLiveRequest(ID=h.lease_id), timeout=10).TTL
    if ttl <= 0:
        return f"lease {h.lease_id:x} lost (TTL {ttl})"
    old = m.kv.Range(pb.RangeRequest(key=b"\0", range_end=b"\0", revision=h.compacted), timeout=10)
    if {kv.key: kv.value for kv in old.kvs} != h.state_at(h.compacted):
        return f"wrong history at the compaction revision {h.compacted}"
    m.kv.Put(pb.PutRequest(key=b"after", value=b"1"), timeout=10)
    if m.kv.Range(pb.RangeRequest(key=b"after"), timeout=10).kvs[0].value != b"1":
        return "a new put is not read back"
    return None


def fresh_start_ok(m):
    r = m.kv.Range(pb.RangeRequest(key=b"\0", range_end=b"\0"), timeout=10)
    return not r.kvs


def names(output, target, deleted):
    """True when one of the last lines of output names the target by its basename (a deleted
    target: or the directory it was in, which is all a member can name when nothing is left)."""
    lines = [line for line in output.strip().splitlines() if line.strip()][-4:]
    names = {os.path.basename(target.rstrip("/"))}
    if deleted and os.path.dirname(target):
        names.add(os.path.dirname(target) + ":")
    return any(n in line for line in lines for n in names)


def run_case(binary, base, h, case, workdir, timeout, label):
    """Copies `base`, applies `case`, starts the member; returns (outcome, detail)."""
    data = os.path.join(workdir, "case")
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(["cp", "-a", "--sparse=always", base, data], check=True)
    case.apply(data)
    m = Member(binary, data, workdir, "case", drop_dac=case.drop_dac)
    state = m.wait_ready(timeout)
    try:
        if state == "hang":
            m.stop(signal.SIGKILL)
            return "FAIL hang", f"neither served nor exited in {timeout}s"
        if state == "exited":
            rc = m.stop()
            out = m.output()
            last = (out.strip().splitlines() or [""])[-1][:300]
            if rc < 0:
                return "FAIL crash", f"signal {-rc}: {last}"
            if "\npanic: " in out or out.startswith("panic: ") or "Fatal error:" in out:  # Go's panic, Swift's trap text
                return "FAIL crash", "panic: " + last
            if rc == 0:
                return "FAIL exit0", last
            if not names(out, case.target, case.name.startswith("delete")):
                return "FAIL unclear", last
            return "refused", last
        try:
            if case.nothing_left and fresh_start_ok(m):
                return "fresh", ""
            problem = check_serving(m, h, case.allow_rollback(label))
        except grpc.RpcError as e:
            problem = f"serving but a call failed: {e.code().name} {e.details()}"
        if problem is None:
            return "served", ""
        if problem == "rollback":
            return "rollback", ""
        return "FAIL data", problem
    finally:
        if m.proc.poll() is None:
            rc = m.stop()
            if rc is not None and rc < 0 and rc not in (-signal.SIGKILL, -signal.SIGTERM):
                return "FAIL crash", f"signal {-rc} on SIGTERM after serving"


def run(binary, who, args, log):
    workdir = tempfile.mkdtemp(prefix=f"fuzz-datadir-{who}-")
    table = collections.Counter()
    findings = []
    files = set()
    try:
        for stop in args.stops:
            sig = signal.SIGTERM if stop == "clean" else signal.SIGKILL
            base, h = make_baseline(binary, workdir, stop, sig, args.seed)
            cases = mutations.cases(base, random.Random(args.seed), args.subset)
            if args.subset and stop == "kill9":  # what a kill adds: the last segment's tail
                cases = [c for c in cases if c.target.endswith(".wal")]
            for case in cases:
                files.add(case.target)
                outcome, detail = run_case(binary, base, h, case, workdir, args.timeout, stop)
                table[outcome] += 1
                line = f"{who} {stop} {case.target} {case.name}: {outcome} {detail}"
                print(line, file=log, flush=True)
                if outcome.startswith("FAIL"):
                    findings.append(line)
                    shutil.copytree(os.path.join(workdir, "case"), os.path.join(workdir, f"finding{len(findings)}"),
                                    symlinks=True, ignore_dangling_symlinks=True, dirs_exist_ok=True) \
                        if os.path.isdir(os.path.join(workdir, "case")) else None
    finally:
        if not findings and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return table, findings, files, workdir


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stops", default="clean,kill9", type=lambda s: s.split(","))
    ap.add_argument("--timeout", type=float, default=30, help="seconds a member may take to serve or exit")
    ap.add_argument("--subset", action="store_true", help="the short deterministic subset make test runs")
    ap.add_argument("--reference", action="store_true", help="also run every case on etcd 3.5.1")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--log", default=None, help="file for one line per case (default stdout)")
    args = ap.parse_args()
    log = open(args.log, "w") if args.log else sys.stdout
    results = [("ours", *run(ours_binary(), "ours", args, log))]
    if args.reference:
        results.append(("etcd-3.5.1", *run(reference_binary(), "etcd", args, log)))
    failed = False
    for who, table, findings, files, workdir in results:
        print(f"{who}: {sum(table.values())} cases over {len(files)} files/dirs: "
              + ", ".join(f"{k} {v}" for k, v in sorted(table.items())))
        if who == "ours" and findings:
            failed = True
            print(f"{len(findings)} findings (work dir kept: {workdir}):")
            for f in findings:
                print("  " + f)
    if not failed:
        print("fuzz-datadir: clean")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
