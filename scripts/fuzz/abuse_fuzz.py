#!/usr/bin/env python3
"""Abuse fuzzer: seeded hostile connections (abuse.py) against the release binary,
a single member or a 3-member cluster, checking that every member stays up, keeps
answering and does not grow without bound.

Usage: abuse_fuzz.py --seed S --n N --seconds T [--members 3]
       (make fuzz-abuse SEED=S N=N SECONDS=T MEMBERS=3)

Each case opens one to three connections to a member (at random in a cluster),
sends its bytes, reads what comes back for a moment and closes (one in ten
stays open until the end, at most 40). Every 25 cases and at the end, each
member must still run, answer a Put and a linearizable Range within 10 s (the
cluster: a Put on one member read back from every member), and its RSS is
sampled. At the end, after every connection closed, RSS must be within
--max-growth MiB of what it was after the first check (a wide bound: this
catches leaks that grow with cases, not allocator noise). Loopback only,
ports 20000-32767; bounded by --n and --seconds; servers die with the script.
Prints "fuzz-abuse: clean" when nothing was found.
"""
import argparse
import os
import shutil
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import grpc  # noqa: E402

import wire  # noqa: E402
from abuse import Abuse  # noqa: E402
from schema import Schema  # noqa: E402
from servers import Server, free_port, ours_binary, rss_mib  # noqa: E402

CHECK_EVERY = 25


def start_members(count, workdir):
    if count == 1:
        return [Server("m0", ours_binary(), workdir)]
    ports = []
    while len(ports) < 2 * count:
        p = free_port()
        if p not in ports:
            ports.append(p)
    peers = [f"http://127.0.0.1:{ports[2 * i + 1]}" for i in range(count)]
    cluster = ",".join(f"m{i}={peers[i]}" for i in range(count))
    return [Server(f"m{i}", ours_binary(), workdir, ports=(ports[2 * i], ports[2 * i + 1]), initial_cluster=cluster)
            for i in range(count)]


def send_case(port, payload):
    """Sends `payload` on a fresh connection; returns the socket if the case keeps it open."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return "connect failed"
    try:
        sock.settimeout(2)
        try:
            sock.sendall(payload)
        except OSError:
            pass  # the server may close or stop reading: both are fine
        sock.settimeout(0.15)
        try:
            for _ in range(64):
                if not sock.recv(65536):
                    break
        except OSError:
            pass
    finally:
        sock.close()
    return None


class Checker:
    def __init__(self, members):
        self.members = members
        self.channels = [grpc.insecure_channel(m.endpoint) for m in members]
        self.n = 0

    def check(self, label):
        """Every member runs and answers; a Put on one is read back from all. Returns problems."""
        problems = []
        for m in self.members:
            if not m.alive():
                problems.append(f"{label}: {m.label} exited with {m.exit_status()} (log {m.log})")
        if problems:
            return problems
        self.n += 1
        key, value = b"abuse-check", b"%d" % self.n
        writer = self.channels[self.n % len(self.channels)]
        try:
            writer.unary_unary("/etcdserverpb.KV/Put")(wire.length_delimited(1, key) + wire.length_delimited(2, value),
                                                       timeout=10)
        except grpc.RpcError as e:
            return [f"{label}: Put on {self.members[self.n % len(self.members)].label} failed: {e.code().name} {e.details()}"]
        for m, ch in zip(self.members, self.channels):
            try:
                answer = ch.unary_unary("/etcdserverpb.KV/Range")(wire.length_delimited(1, key), timeout=10)
            except grpc.RpcError as e:
                problems.append(f"{label}: Range on {m.label} failed: {e.code().name} {e.details()}")
                continue
            if value not in answer:
                problems.append(f"{label}: {m.label} did not read back the Put ({answer[:80]!r})")
        return problems

    def close(self):
        for ch in self.channels:
            ch.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--members", type=int, default=1, choices=[1, 3])
    p.add_argument("--max-growth", type=float, default=400, help="MiB of RSS growth tolerated at the end")
    args = p.parse_args()

    workdir = tempfile.mkdtemp(prefix="fuzz-abuse-")
    members = start_members(args.members, workdir)
    problems, kept, kinds = [], [], {}
    checker = None
    try:
        for m in members:
            m.wait_listening()
        checker = Checker(members)
        ready_by = time.time() + 60  # a cluster elects its leader first
        while checker.check("start") and time.time() < ready_by:
            time.sleep(0.5)
        problems += checker.check("start")
        baseline = {m.label: rss_mib(m.proc.pid) for m in members}
        peak = dict(baseline)
        abuse = Abuse(Schema(), args.seed)
        end = time.time() + args.seconds
        done = 0
        for i in range(args.n):
            if problems or time.time() >= end:
                break
            kind, conns = abuse.case()
            kinds[kind] = kinds.get(kind, 0) + 1
            target = members[abuse.rng.randrange(len(members))]
            for payload in conns:
                if abuse.rng.random() < 0.1 and len(kept) < 40:
                    try:
                        s = socket.create_connection(("127.0.0.1", target.client_port), timeout=2)
                        s.settimeout(2)
                        s.sendall(payload)
                        kept.append(s)
                    except OSError:
                        pass
                elif send_case(target.client_port, payload) == "connect failed" and target.alive():
                    problems.append(f"case {i} ({kind}): {target.label} refused a connection")
            done = i + 1
            if done % CHECK_EVERY == 0:
                problems += [f"{x} (after case {i}, {kind})" for x in checker.check(f"case {i}")]
                for m in members:
                    peak[m.label] = max(peak[m.label], rss_mib(m.proc.pid))
        for s in kept:
            s.close()
        kept = []
        if not problems:
            time.sleep(2)
            problems += checker.check("end")
        growth = {}
        for m in members:
            now = rss_mib(m.proc.pid)
            peak[m.label] = max(peak[m.label], now)
            growth[m.label] = now - baseline[m.label]
            if m.alive() and growth[m.label] > args.max_growth:
                problems.append(f"{m.label}: RSS grew {growth[m.label]:.0f} MiB over the run "
                                f"({baseline[m.label]:.0f} -> {now:.0f} MiB)")
        print(f"fuzz-abuse: seed {args.seed}, {args.members} member(s), {done} cases "
              f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
        for m in members:
            print(f"  {m.label}: RSS {baseline[m.label]:.0f} MiB after start, peak {peak[m.label]:.0f}, "
                  f"end {baseline[m.label] + growth[m.label]:.0f}")
        if problems:
            print("fuzz-abuse: FOUND")
            for x in problems:
                print("  " + x)
            print(f"  servers' logs and data kept in {workdir}; replay: make fuzz-abuse SEED={args.seed} "
                  f"N={args.n} MEMBERS={args.members}")
            return 1
        print("fuzz-abuse: clean")
        return 0
    finally:
        for s in kept:
            s.close()
        if checker:
            checker.close()
        for m in members:
            m.stop()
        if not problems:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
