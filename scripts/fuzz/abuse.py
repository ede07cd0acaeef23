"""Seeded hostile connections for the abuse fuzzer (abuse_fuzz.py). Pure: a case is a
list of byte strings, each sent on its own connection, built from a seed.

HTTP/2: mutated frames (bad lengths, flags, stream ids, unknown types), SETTINGS,
PRIORITY, PING, WINDOW_UPDATE and RST_STREAM floods, CONTINUATION floods, HPACK
abuse (table size updates, bad indexes, huge literals, a table kept full), and
calls to every gRPC method of the fuzzed services with mutated protobuf bodies.
HTTP/1.1: JSON gateway requests with mutated bodies, lengths and chunking.
"""
import random
import struct

import hpack

from gateway import PATHS as GATEWAY_PATHS
from gateway import JSONWriter
from gen import Gen
from message import encode

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20
EDGE32 = [0, 1, 2, 0x3FFF, 0x4000, 0xFFFF, 1 << 20, (1 << 24) - 1, 1 << 24, (1 << 31) - 1, 1 << 31, (1 << 32) - 1]


def frame(kind, flags, stream, payload, declared=None):
    n = len(payload) if declared is None else declared
    return struct.pack(">I", n & 0xFFFFFF)[1:] + bytes([kind & 0xFF, flags & 0xFF]) + \
        struct.pack(">I", stream & 0xFFFFFFFF) + payload


def grpc_message(body, flag=0, declared=None):
    return bytes([flag]) + struct.pack(">I", (len(body) if declared is None else declared) & 0xFFFFFFFF) + body


# Calls that change what the checks rely on, not how a member copes with input: a voter
# added to a single member takes its quorum away (etcd 3.5.1 accepts that too), an alarm
# or auth refuses every later Put, leadership moves and downgrades change the cluster.
# The API fuzzer (api_fuzz.py) sends these with its housekeeping undoing them.
EXCLUDED = {"MemberAdd", "MemberRemove", "MemberPromote", "MemberUpdate", "MoveLeader", "Downgrade", "Alarm",
            "AuthEnable"}


class Abuse:
    def __init__(self, schema, seed):
        self.rng = random.Random(seed)
        self.methods = [m for m in schema.fuzzed_methods() if m.name not in EXCLUDED]
        self.gen = Gen(schema, seed, only={m.name for m in self.methods})
        self.json = JSONWriter(self.rng, damage_rate=0.3)
        self.kinds = [
            (self.calls, 6), (self.settings, 2), (self.priority, 1), (self.rst_flood, 1), (self.continuation, 2),
            (self.hpack_abuse, 2), (self.random_frames, 3), (self.window, 1), (self.pings, 1), (self.garbage, 1),
            (self.gateway, 5), (self.bidi, 3),
        ]

    def case(self):
        """(description, [bytes per connection])."""
        make = self.rng.choices([k for k, _ in self.kinds], [w for _, w in self.kinds])[0]
        conns = [make() for _ in range(self.rng.choice([1, 1, 1, 2, 3]))]
        return make.__name__, conns

    # MARK: pieces

    def start(self, settings=True):
        out = bytearray(PREFACE)
        if settings:
            out += frame(SETTINGS, 0, 0, b"")
        return out

    def headers_block(self, encoder, path, extra=()):
        fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1"),
                  ("content-type", "application/grpc"), ("te", "trailers")]
        if self.rng.random() < 0.3:
            fields.append(("grpc-timeout", self.rng.choice(["1m", "100m", "1S", "5S", "1H", "0n", "-1S"])))
        fields.extend(extra)
        return encoder.encode(fields)

    def body(self, method):
        data = encode(self.gen.request(method))
        r = self.rng.random()
        if r < 0.35:
            return data
        data = bytearray(data)
        for _ in range(self.rng.randint(1, 4)):
            op = self.rng.randrange(5)
            if op == 0 and data:  # flip a bit
                i = self.rng.randrange(len(data))
                data[i] ^= 1 << self.rng.randrange(8)
            elif op == 1 and data:  # truncate
                del data[self.rng.randrange(len(data)):]
            elif op == 2:  # random bytes somewhere
                i = self.rng.randint(0, len(data))
                data[i:i] = self.rng.randbytes(self.rng.randint(1, 16))
            elif op == 3:  # a length-delimited field claiming too much
                data += bytes([self.rng.choice([0x0A, 0x12, 0x1A, 0x22, 0x2A])]) + \
                    bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
            else:  # a varint that never ends
                data += bytes([0x08]) + b"\xff" * self.rng.randint(1, 12)
        return bytes(data)

    # MARK: kinds

    def calls(self):
        out, enc = self.start(), hpack.Encoder()
        sid = 1
        for _ in range(self.rng.randint(1, 12)):
            method = self.rng.choice(self.methods)
            body = self.body(method)
            r = self.rng.random()
            message = grpc_message(body) if r < 0.8 else grpc_message(
                body, flag=self.rng.choice([0, 1, 2, 0x80]), declared=self.rng.choice([0, len(body) + 1, (1 << 32) - 1]))
            out += frame(HEADERS, END_HEADERS, sid, self.headers_block(enc, method.path))
            if self.rng.random() < 0.2:  # split across DATA frames, maybe never ended
                cut = self.rng.randint(0, len(message))
                out += frame(DATA, 0, sid, message[:cut])
                out += frame(DATA, END_STREAM if self.rng.random() < 0.7 else 0, sid, message[cut:])
            else:
                out += frame(DATA, END_STREAM, sid, message)
            if self.rng.random() < 0.1:
                out += frame(RST_STREAM, 0, sid, struct.pack(">I", self.rng.choice([0, 8, 0xFFFFFFFF])))
            sid += 2
        return bytes(out)

    def bidi(self):
        """Watch / LeaseKeepAlive streams carrying many mutated messages, some left open."""
        out, enc = self.start(), hpack.Encoder()
        streaming = [m for m in self.methods if m.client_stream] or self.methods
        sid = 1
        for _ in range(self.rng.randint(1, 8)):
            method = self.rng.choice(streaming)
            out += frame(HEADERS, END_HEADERS, sid, self.headers_block(enc, method.path))
            messages = b"".join(grpc_message(self.body(method)) for _ in range(self.rng.choice([1, 5, 50, 300])))
            for i in range(0, len(messages), 16384):
                last = i + 16384 >= len(messages) and self.rng.random() < 0.5
                out += frame(DATA, END_STREAM if last else 0, sid, messages[i:i + 16384])
            sid += 2
        return bytes(out)

    def settings(self):
        out = self.start(settings=False)
        frames = 1 if self.rng.random() < 0.6 else self.rng.choice([100, 1000, 3000])
        for _ in range(frames):
            entries = b"".join(struct.pack(">HI", self.rng.randint(0, 10), self.rng.choice(EDGE32))
                               for _ in range(self.rng.randint(0, 6)))
            flags = ACK if self.rng.random() < 0.1 else 0
            declared = None if self.rng.random() < 0.9 else len(entries) + self.rng.choice([-1, 1, 3])
            out += frame(SETTINGS, flags, 0 if self.rng.random() < 0.95 else 1, entries, declared)
        return bytes(out) + self.calls()[len(PREFACE):]

    def priority(self):
        out = self.start()
        for _ in range(self.rng.choice([1, 10, 1000, 5000])):
            sid = self.rng.choice([1, 3, 0, (1 << 31) - 1, self.rng.randrange(1, 1 << 16) | 1])
            dep = self.rng.choice([0, sid, self.rng.randrange(1 << 31)]) | (self.rng.randrange(2) << 31)
            payload = struct.pack(">IB", dep, self.rng.randrange(256))
            if self.rng.random() < 0.05:
                payload = payload[:self.rng.randrange(5)]
            out += frame(PRIORITY, 0, sid, payload)
        return bytes(out)

    def rst_flood(self):
        out, enc = self.start(), hpack.Encoder()
        for i in range(self.rng.choice([100, 1000, 5000])):
            sid = 1 + 2 * i
            out += frame(HEADERS, END_HEADERS, sid, self.headers_block(enc, "/etcdserverpb.KV/Range"))
            out += frame(RST_STREAM, 0, sid, struct.pack(">I", 8))
        return bytes(out)

    def continuation(self):
        out, enc = self.start(), hpack.Encoder()
        block = self.headers_block(enc, "/etcdserverpb.KV/Range", [("x-pad", "p" * self.rng.randint(0, 3000))])
        out += frame(HEADERS, 0, 1, block[:5])
        n = self.rng.choice([1, 10, 100, 2000])
        rest = block[5:]
        for i in range(n):
            piece = rest if i == 0 else self.rng.choice([b"", b"\x40\x01a\x01b", self.rng.randbytes(20)])
            last = i == n - 1 and self.rng.random() < 0.5
            out += frame(CONTINUATION, END_HEADERS if last else 0, self.rng.choice([1, 1, 1, 3]), piece)
        return bytes(out)

    def hpack_abuse(self):
        out = self.start()
        sid = 1
        for _ in range(self.rng.randint(1, 20)):
            kind = self.rng.randrange(6)
            if kind == 0:  # dynamic table size update to a huge or zero size, then a valid block
                block = b"\x3f\xe1\xff\xff\x0f" if self.rng.random() < 0.5 else b"\x20"
                block += hpack.Encoder().encode([(":method", "POST"), (":path", "/etcdserverpb.KV/Range")])
            elif kind == 1:  # indexed field far beyond the table
                block = b"\xff" + bytes([0xFF] * self.rng.randint(1, 6)) + b"\x0f"
            elif kind == 2:  # literal with a huge declared length
                block = b"\x40\x7f\xff\xff\xff\xff\x0f" + b"a" * 10
            elif kind == 3:  # fill the table with large entries, reuse them cheaply
                enc = hpack.Encoder()
                fields = [(":method", "POST"), (":path", "/etcdserverpb.KV/Range"), (":scheme", "http"),
                          ("content-type", "application/grpc")]
                fields += [(f"x-{i}", "v" * 1000) for i in range(self.rng.randint(1, 60))]
                block = enc.encode(fields)
            elif kind == 4:  # bad Huffman
                block = b"\x00\x81\xff\x81\xff"
            else:
                block = self.rng.randbytes(self.rng.randint(1, 200))
            out += frame(HEADERS, END_HEADERS | (END_STREAM if self.rng.random() < 0.5 else 0), sid, block)
            sid += 2
        return bytes(out)

    def random_frames(self):
        out = self.start(settings=self.rng.random() < 0.8)
        for _ in range(self.rng.randint(1, 60)):
            kind = self.rng.choice(list(range(10)) + [10, 0x0C, 0xFA])
            payload = self.rng.randbytes(self.rng.choice([0, 1, 4, 5, 8, 9, 20, 100, 17000]))
            declared = None
            if self.rng.random() < 0.15:
                declared = self.rng.choice([0, len(payload) + 1, max(0, len(payload) - 1), 16385, (1 << 24) - 1])
            sid = self.rng.choice([0, 1, 2, 3, 5, (1 << 31) - 1, 1 << 31, self.rng.randrange(1 << 32)])
            out += frame(kind, self.rng.randrange(256), sid, payload, declared)
        return bytes(out)

    def window(self):
        out = self.start() + self.calls()[len(PREFACE):]
        for _ in range(self.rng.choice([1, 100, 3000])):
            sid = self.rng.choice([0, 1, 3, 99])
            out += frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", self.rng.choice(EDGE32)))
        return bytes(out)

    def pings(self):
        out = self.start()
        for _ in range(self.rng.choice([1, 100, 5000])):
            out += frame(PING, self.rng.choice([0, 0, ACK]), self.rng.choice([0, 0, 0, 1]),
                         self.rng.randbytes(self.rng.choice([8, 8, 8, 0, 9])))
        return bytes(out)

    def garbage(self):
        choice = self.rng.randrange(4)
        if choice == 0:
            return self.rng.randbytes(self.rng.randint(1, 4096))
        if choice == 1:  # a preface cut short or damaged
            p = bytearray(PREFACE)
            p[self.rng.randrange(len(p))] ^= 0xFF
            return bytes(p[:self.rng.randint(1, len(p))])
        if choice == 2:
            return PREFACE + self.rng.randbytes(self.rng.randint(1, 2048))
        return b"GET / HTTP/1.1\r\n" + self.rng.randbytes(self.rng.randint(1, 512))

    def gateway(self):
        method = self.rng.choice([m for m in self.methods if m.name in GATEWAY_PATHS])
        path = GATEWAY_PATHS[method.name]
        try:
            body = self.json.body(self.gen.request(method), lambda kind, index: None)
        except Exception:  # the writer may refuse some generated shapes; send raw bytes then
            body = self.rng.randbytes(64)
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogateescape")
        r = self.rng.random()
        if r < 0.15:
            body = body[:self.rng.randint(0, len(body))]
        elif r < 0.25:
            depth = self.rng.choice([100, 1000, 20000])
            body = b"[" * depth + b"]" * depth
        elif r < 0.3:
            body = b'{"key":"' + b"A" * self.rng.choice([10, 100000]) + b'=="}'
        headers = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
        framing = self.rng.randrange(6)
        if framing == 0:
            headers.append(f"Content-Length: {len(body)}")
            payload = body
        elif framing == 1:  # a length that does not match
            headers.append(f"Content-Length: {self.rng.choice([0, len(body) + 10, 1 << 40, -1])}")
            payload = body
        elif framing == 2:  # chunked, possibly with bad sizes
            headers.append("Transfer-Encoding: chunked")
            size = self.rng.choice([f"{len(body):x}", "zz", "ffffffffffffffffff", f"{len(body) + 5:x}", "-1"])
            payload = f"{size}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        elif framing == 3:  # both
            headers += [f"Content-Length: {len(body)}", "Transfer-Encoding: chunked"]
            payload = body
        elif framing == 4:  # a huge header line
            headers += [f"Content-Length: {len(body)}", "X-Big: " + "b" * self.rng.choice([100, 70000])]
            payload = body
        else:  # pipelined
            headers.append(f"Content-Length: {len(body)}")
            payload = body + (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}").encode()
        return ("\r\n".join(headers) + "\r\n\r\n").encode() + payload
