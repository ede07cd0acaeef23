"""Seeded HTTP/2 cases for the header fuzzer: a valid unary gRPC call (a Range)
with one to three changes to its headers, its message framing or the frames
around it. Pure: a case is data (header list + frame plan) built from a seed.

A frame plan is a list of ("headers", [(name, value)], end_stream) / ("data", bytes,
end_stream) / ("raw", bytes) steps on stream 1 (raw steps are complete frames).
"""
import gzip
import struct
import zlib

import wire

RANGE_BODY = wire.length_delimited(1, b"a")  # RangeRequest{key: "a"}

TIMEOUTS = ["1n", "1u", "1m", "100m", "1S", "10S", "1M", "1H", "0n", "0S", "99999999S", "99999999H", "2562048H",
            "2562047H", "9223372036S", "9223372036854775807n", "100000000S", "123456789S", "1", "S", "-1S", "1x",
            "", " 1S", "1S ", "1.5S", "01S", "+1S", "1s", "1h"]
CONTENT_TYPES = ["application/grpc", "application/grpc+proto", "application/grpc+json", "application/grpc;x=y",
                 "application/grpcx", "application/json", "text/plain", "", "APPLICATION/GRPC", "application/grpc-web"]
ENCODINGS = ["identity", "gzip", "deflate", "snappy", "br", "", "gzip, deflate", "x"]
METHODS = ["GET", "PUT", "HEAD", "OPTIONS", "post", "CONNECT", ""]
PATHS = ["/etcdserverpb.KV/Nope", "/etcdserverpb.Nope/Range", "/", "", "*", "etcdserverpb.KV/Range",
         "/etcdserverpb.KV/Range?x=1", "/etcdserverpb.KV/Range/", "//etcdserverpb.KV/Range",
         "/etcdserverpb.KV/range", "/" + "a" * 5000, "/etcdserverpb.KV/Range%00", "/v3/kv/range"]
# HTTP/2 frame types and flags used below (RFC 9113).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 2, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, PADDED = 0x1, 0x4, 0x8


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def grpc_message(body, compressed=0, declared=None):
    return bytes([compressed]) + struct.pack(">I", len(body) if declared is None else declared) + body


class Case:
    def __init__(self):
        self.headers = [(":method", "POST"), (":scheme", "http"), (":path", "/etcdserverpb.KV/Range"),
                        (":authority", "localhost"), ("content-type", "application/grpc"), ("te", "trailers")]
        self.message = grpc_message(RANGE_BODY)
        self.plan = None  # built by finish() unless a mutation set it
        self.changes = []
        self.before, self.after = [], []  # raw frames around the request

    def set_header(self, name, value):
        self.headers = [(n, v) for n, v in self.headers if n != name]
        if value is not None:
            self.headers.append((name, value))

    def header(self, name):
        return next((v for n, v in self.headers if n == name), None)

    def finish(self):
        if self.plan is None:
            self.plan = [("headers", self.headers, False), ("data", self.message, True)]
        return self

    def describe(self):
        return "; ".join(self.changes) or "valid"


def make_case(rng):
    case = Case()
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        mutation = rng.choice(MUTATIONS)
        mutation(case, rng)
    return case.finish()


# MARK: mutations, each appends a description of itself

def m_timeout(case, rng):
    value = rng.choice(TIMEOUTS)
    case.set_header("grpc-timeout", value)
    case.changes.append(f"grpc-timeout {value!r}")


def m_content_type(case, rng):
    value = rng.choice(CONTENT_TYPES + [None])
    case.set_header("content-type", value)
    case.changes.append(f"content-type {value!r}")


def m_te(case, rng):
    value = rng.choice(["gzip", "", "trailers, deflate", "TRAILERS", None])
    case.set_header("te", value)
    case.changes.append(f"te {value!r}")


def m_encoding(case, rng):
    value = rng.choice(ENCODINGS)
    compressed = rng.choice([0, 1])
    case.set_header("grpc-encoding", value)
    body = RANGE_BODY
    if compressed and value == "gzip":
        body = gzip.compress(body)
    elif compressed and value == "deflate":
        body = zlib.compress(body)
    case.message = grpc_message(body, compressed)
    case.changes.append(f"grpc-encoding {value!r} compressed={compressed}")


def m_pseudo(case, rng):
    name = rng.choice([":method", ":path", ":scheme", ":authority"])
    value = {":method": lambda: rng.choice(METHODS), ":path": lambda: rng.choice(PATHS),
             ":scheme": lambda: rng.choice(["https", "ftp", ""]),
             ":authority": lambda: rng.choice(["", "a b", "h:99999", "x" * 300, "[::1"])}[name]()
    if rng.random() < 0.2:
        value = None
    case.set_header(name, value)
    if value is not None and rng.random() < 0.3:  # pseudo-header after a regular one
        case.headers = [h for h in case.headers if h[0] != name] + [(name, value)]
    case.changes.append(f"{name} {value!r}")


def m_odd_header(case, rng):
    choice = rng.choice([(":method", "POST"), (":path", "/etcdserverpb.KV/Range"), ("connection", "keep-alive"),
                         ("Content-Type", "application/grpc"), ("x-bad", "a\r\nb"), ("x-nul", "a\x00b"),
                         ("", "empty-name"), (":unknown", "x"), ("content-length", "0"), ("content-length", "99"),
                         ("content-length", "-1"), ("x-big", "v" * rng.choice([8000, 16385, 70000])),
                         ("grpc-accept-encoding", "gzip,,x"), ("token", "not-a-token"), ("x-bin", "!!"),
                         ("x-bin", "AAAA=="), ("host", "other"), ("transfer-encoding", "chunked"),
                         ("upgrade", "h2c"), ("keep-alive", "1"), ("proxy-connection", "x")])
    case.headers.append(choice)
    case.changes.append(f"extra header {choice[0]!r}={choice[1][:20]!r}")


def m_framing(case, rng):
    kind = rng.choice(["flag", "longer", "shorter", "huge", "split", "empty", "none", "two", "zero-data", "padded"])
    if kind == "flag":
        case.message = grpc_message(RANGE_BODY, rng.choice([2, 3, 0x80, 0xFF]))
    elif kind == "longer":
        case.message = grpc_message(RANGE_BODY, declared=len(RANGE_BODY) + rng.choice([1, 100]))
    elif kind == "shorter":
        case.message = grpc_message(RANGE_BODY, declared=len(RANGE_BODY) - 1)
    elif kind == "huge":
        case.message = grpc_message(RANGE_BODY, declared=rng.choice([1 << 24, (1 << 31) - 1, (1 << 32) - 1]))
    elif kind == "split":
        m = case.message
        case.plan = [("headers", case.headers, False), ("data", m[:2], False), ("data", m[2:7], False),
                     ("data", m[7:], True)]
    elif kind == "empty":
        case.message = b""
    elif kind == "none":
        case.plan = [("headers", case.headers, True)]
    elif kind == "two":
        case.message = case.message + grpc_message(RANGE_BODY)
    elif kind == "zero-data":
        case.plan = [("headers", case.headers, False), ("data", b"", False), ("data", case.message, False),
                     ("data", b"", True)]
    elif kind == "padded":
        pad = rng.choice([0, 1, 255])
        payload = bytes([pad]) + case.message + bytes(pad)
        case.plan = [("headers", case.headers, False), ("raw", frame(DATA, PADDED | END_STREAM, 1, payload))]
    case.changes.append(f"message framing {kind}")


def m_frames(case, rng):
    kind = rng.choice(["priority", "unknown", "window0", "window-huge", "settings-bad", "ping", "data-stream0",
                       "even-stream", "rst-after", "continuation-alone", "oversized", "settings-window",
                       "headers-stream0", "window-stream-huge", "goaway"])
    raw = {
        "priority": frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 15)),
        "unknown": frame(0xFA, 0xFF, 1, b"xyz"),
        "window0": frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0)),
        "window-huge": frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", (1 << 31) - 1)),
        "window-stream-huge": frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", (1 << 31) - 1)),
        "settings-bad": frame(SETTINGS, 0, 0, struct.pack(">HI", 2, 2)),  # ENABLE_PUSH = 2
        "settings-window": frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 31)),  # INITIAL_WINDOW_SIZE too big
        "ping": frame(PING, 0, 0, bytes(8)),
        "data-stream0": frame(DATA, 0, 0, b"x"),
        "even-stream": frame(DATA, 0, 2, b"x"),
        "rst-after": frame(RST_STREAM, 0, 1, struct.pack(">I", 8)),
        "continuation-alone": frame(CONTINUATION, END_HEADERS, 1, b"\x82"),
        "oversized": frame(DATA, 0, 1, bytes(20000)),
        "headers-stream0": frame(HEADERS, END_HEADERS, 0, b"\x82"),
        "goaway": frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)),
    }[kind]
    (case.after if kind in ("rst-after", "goaway") else case.before).append(raw)
    case.changes.append(f"frame {kind}")


MUTATIONS = [m_timeout, m_timeout, m_content_type, m_te, m_encoding, m_pseudo, m_pseudo, m_odd_header,
             m_odd_header, m_framing, m_framing, m_frames]
