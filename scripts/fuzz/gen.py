"""Seeded, structure-aware requests for every RPC, built from the Schema.

Every field gets a value of its proto type, usually an edge value; fields that
name shared state (keys, leases, revisions, members, users) draw from small pools
so requests collide with each other and reach deep code, not just the decoder.
A few requests carry wire-level damage (unknown fields, wrong wire types,
duplicated fields, truncation). Generation depends only on the seed and the
State the driver feeds back from the reference server, so a seed replays exactly.
"""
import random

import values
from message import Node
from schema import INT_TYPES, Enum, Message
import wire

KEYS = [b"a", b"b", b"foo", b"foo/bar", b"foo/baz", b"k1", b"k2", b"\x00", b"\xff", b"\xff\xff",
        b"lock", b"elect", b"a\x00b", b"z" * 64]
NAMES = [b"root", b"u1", b"u2", b"", b"r1", b"root\x00", "é".encode()]
PASSWORDS = [b"pw", b"", b"x" * 80, b"\xff"]
VERSIONS = [b"3.4.0", b"3.5.0", b"3.4", b"3.6.0", b"", b"x.y.z", b"3.5.1", b"99999999999999999999.0.0"]
REVISION_FIELDS = {"revision", "start_revision", "min_mod_revision", "max_mod_revision",
                   "min_create_revision", "max_create_revision", "create_revision", "mod_revision", "rev"}
NAME_FIELDS = {"name", "user", "role"}
# Weights per RPC: cheap KV traffic dominates, slow or blocking RPCs are rare.
WEIGHTS = {"Range": 30, "Put": 30, "DeleteRange": 10, "Txn": 25, "Compact": 3, "Watch": 8,
           "LeaseGrant": 8, "LeaseRevoke": 4, "LeaseKeepAlive": 4, "LeaseTimeToLive": 4, "LeaseLeases": 2,
           "MemberAdd": 1, "MemberRemove": 1, "MemberUpdate": 1, "MemberList": 2, "MemberPromote": 1,
           "Alarm": 2, "Status": 2, "Defragment": 0.3, "Hash": 1, "HashKV": 2, "Snapshot": 0.3,
           "MoveLeader": 1, "Downgrade": 1, "AuthEnable": 0.5, "AuthDisable": 0.5, "AuthStatus": 1,
           "Authenticate": 1, "Lock": 0.7, "Unlock": 1, "Campaign": 0.7, "Proclaim": 1.5, "Leader": 1.5,
           "Observe": 0.5, "Resign": 1.5}
AUTH_WEIGHT = 0.7  # every other Auth RPC (user and role management)


class State:
    """What the driver learned from the servers: the reference's current revision and
    how many of each self-assigned value (leases, members, lock and leader keys) exist."""

    def __init__(self):
        self.revision = 1
        self.refs = {"lease": 0, "member": 1, "lockkey": 0, "leader": 0}


class Gen:
    def __init__(self, schema, seed, state=None, only=None):
        self.schema = schema
        self.rng = random.Random(seed)
        self.state = state or State()
        self.methods = [m for m in schema.fuzzed_methods() if not only or m.name in only]
        self.weights = [WEIGHTS.get(m.name, AUTH_WEIGHT) for m in self.methods]

    # MARK: requests

    def method(self):
        return self.rng.choices(self.methods, self.weights)[0]

    def request(self, method):
        if method.name == "Txn" and self.rng.random() < 0.02:
            return self.deep_txn(method.request, self.rng.choice([8, 16, 31, 32, 33, 48, 49, 50, 64, 100]))
        # How many fields a request sets: defaults matter as much as values (a Range only
        # trusts its limit when no sort or filter field is set).
        self.density = self.rng.choice([0.15, 0.3, 0.55, 0.9])
        node = self.message(method.request, depth=0)
        if self.rng.random() < 0.04:
            self.damage(node)
        return node

    def message(self, message, depth):
        node = Node(message)
        oneofs = {}
        for f in message.fields:
            if f.oneof:
                oneofs.setdefault(f.oneof, []).append(f)
                continue
            if self.rng.random() < getattr(self, "density", 0.55):
                self.field(node, message, f, depth)
        for group in oneofs.values():
            roll = self.rng.random()
            chosen = [] if roll < 0.1 else self.rng.sample(group, 2 if roll > 0.95 and len(group) > 1 else 1)
            for f in chosen:
                self.field(node, message, f, depth)
        return node

    def field(self, node, message, f, depth):
        count = 1
        if f.repeated:
            big = depth == 0 and self.rng.random() < 0.02
            count = self.rng.choice([128, 129, 300]) if big else self.rng.choice([0, 1, 1, 2, 3, 5])
        for _ in range(count):
            self.value(node, message, f, depth)

    def value(self, node, message, f, depth):
        hinted = self.hint(node, message, f)
        if hinted:
            return
        rng = self.rng
        if isinstance(f.resolved, Message):
            if self.nesting_allowed(f, depth):
                node.add(f.number, "msg", None, self.message(f.resolved, depth + 1))
        elif isinstance(f.resolved, Enum):
            node.add(f.number, "int", "int32", rng.choice(values.enum_numbers(f.resolved)))
        elif f.type_name == "bool":
            node.add(f.number, "int", "bool", rng.choice([0, 1, 1, 2, (1 << 64) - 1]) if rng.random() < 0.1 else rng.choice([0, 1]))
        elif f.type_name in INT_TYPES:
            node.add(f.number, "int", f.type_name, values.random_int(rng, f.type_name))
        elif f.type_name == "string":
            node.add(f.number, "bytes", None, values.random_string(rng))
        else:
            node.add(f.number, "bytes", None, values.random_bytes(rng))

    @staticmethod
    def nesting_allowed(f, depth):
        """Random Txns nest (TxnRequest → RequestOp → TxnRequest) at most three deep; deep_txn goes further."""
        return f.name != "request_txn" or depth < 6

    def deep_txn(self, txn, levels):
        """A chain of `levels` Txns, each the only success op of the one above, ending in a Put."""
        op = next(f for f in txn.fields if f.name == "success").resolved
        put_field = next(f for f in op.fields if f.name == "request_put")
        txn_field = next(f for f in op.fields if f.name == "request_txn")
        inner = Node(op)
        inner.add(put_field.number, "msg", None, self.message(put_field.resolved, 1))
        node = None
        for level in range(levels):
            node = Node(txn)
            node.add(2, "msg", None, inner)
            if level < levels - 1:
                inner = Node(op)
                inner.add(txn_field.number, "msg", None, node)
        return node

    # MARK: field hints (shared state)

    def hint(self, node, message, f):
        rng, name, mname = self.rng, f.name, message.name
        if rng.random() < 0.1:
            return False  # sometimes any value at all
        if f.type_name == "bytes" and name in ("key", "range_end", "name", "prefix"):
            node.add(f.number, "bytes", None, self.key(name, node))
            if mname == "UnlockRequest" and rng.random() < 0.7:
                node.entries.pop()
                node.add(f.number, "ref", "lockkey", self.ref("lockkey", b"lock/0"))
            return True
        if f.type_name == "string" and name in NAME_FIELDS:
            node.add(f.number, "bytes", None, rng.choice(NAMES))
            return True
        if name in ("password", "hashedPassword") and rng.random() < 0.8:
            node.add(f.number, "bytes", None, rng.choice(PASSWORDS) if name == "password" else b"$2a$10$" + b"x" * 53)
            return True
        if name == "ver":
            node.add(f.number, "bytes", None, rng.choice(VERSIONS))
            return True
        if name in ("peerURLs", "clientURLs"):
            node.add(f.number, "bytes", None, self.url())
            return True
        if name in ("limit", "TTL") and f.type_name == "int64" and rng.random() < 0.3:
            # Where a server adds to a client's number (limit + 1, now + TTL): the extremes.
            node.add(f.number, "int", "int64", rng.choice([(1 << 63) - 1, (1 << 63) - 2, -(1 << 63), -1, 0, 1]))
            return True
        if f.type_name in ("int64", "uint64") and name in REVISION_FIELDS:
            node.add(f.number, "int", f.type_name, self.revision(f.type_name))
            return True
        if f.type_name == "int64" and (name == "lease" or (name == "ID" and mname.startswith("Lease") and mname != "LeaseGrantRequest")):
            node.add(f.number, "ref", "lease", self.ref("lease", rng.choice([0, 1, -1, 7, 1 << 62])))
            return True
        if mname == "LeaseGrantRequest":
            if name == "ID":
                node.add(f.number, "int", "int64", rng.choice([0, 0, 0, 1, 2, 0x1234, -1, (1 << 63) - 1]))
            else:
                node.add(f.number, "int", "int64", rng.choice([3600, 100000, 10 ** 9, 9000000000]) if rng.random() < 0.6
                         else values.random_int(rng, "int64"))
            return True
        if f.type_name == "uint64" and (name in ("ID", "targetID", "memberID") and not mname.startswith("Lease")):
            node.add(f.number, "ref", "member", self.ref("member", rng.choice([0, 1, (1 << 64) - 1])))
            return True
        if mname in ("ResignRequest", "ProclaimRequest") and name == "leader" and rng.random() < 0.6:
            node.add(f.number, "ref", "leader", self.ref("leader", b""))
            return True
        if mname == "DowngradeRequest" and name == "version" and rng.random() < 0.6:
            # Targets near the one allowed (3.4 on a 3.5 cluster), in go-semver's accepted and refused forms.
            node.add(f.number, "bytes", None, rng.choice([b"3.4", b"3.4.0", b"3.4.7-rc.1+b", b"03.04", b"3.5",
                                                              b"3.3.0", b"4.4", b"v3.4", b"3.4.", b"3.4.0-a..b", b""]))
            return True
        if mname == "WatchCancelRequest" or (mname == "WatchCreateRequest" and name == "watch_id"):
            node.add(f.number, "int", "int64", rng.choice([0, 1, 2, 3, -1, 100, (1 << 63) - 1, -(1 << 63)]))
            return True
        return False

    def key(self, name, node):
        rng = self.rng
        if name == "range_end":
            roll = rng.random()
            if roll < 0.25:
                return b"\x00"
            if roll < 0.55:
                return prefix_end(rng.choice(KEYS))
            if roll < 0.9:
                return rng.choice(KEYS)
            return values.random_bytes(rng, big=False)
        return rng.choice(KEYS) if rng.random() < 0.85 else values.random_bytes(rng)

    def ref(self, kind, fallback):
        """A reference to the k-th value of `kind` the servers gave out (or a few past the end)."""
        count = self.state.refs[kind]
        return (self.rng.randint(0, count) if count else 0, fallback)

    def revision(self, type_name):
        rng, current = self.rng, self.state.revision
        if rng.random() < 0.7:
            return max(0, current + rng.randint(-4, 2)) if rng.random() < 0.9 else 0
        return values.random_int(rng, type_name)

    def url(self):
        rng = self.rng
        if rng.random() < 0.7:
            return b"http://127.0.0.1:%d" % rng.randint(20000, 32767)
        return rng.choice([b"", b"::::", b"127.0.0.1:2380", b"ftp://x:1", b"http://h:1/path", b"http://h:1?q",
                           b"http://[::1", b"http://h:99999", b"http://%zz", b"http://h:1\n", b"https://localhost:1",
                           b"unix://sock", b"http://h:-1", b"http://" + b"h" * 300 + b":1"])

    # MARK: wire damage

    def damage(self, node):
        """Unknown fields, a known field with the wrong wire type, a repeated scalar, or truncation."""
        rng = self.rng
        roll = rng.random()
        number = rng.choice([f.number for f in node.message.fields] or [1])
        if roll < 0.3:
            unknown = rng.choice([15, 16, 99, 2047, (1 << 29) - 1])
            wt = rng.choice([wire.VARINT, wire.FIXED64, wire.LEN, wire.FIXED32])
            body = {wire.VARINT: wire.varint(rng.getrandbits(64)), wire.FIXED64: bytes(8),
                    wire.FIXED32: bytes(4), wire.LEN: wire.varint(3) + b"abc"}[wt]
            node.add(unknown, "raw", None, wire.tag(unknown, wt) + body)
        elif roll < 0.6:
            wt = rng.choice([wire.VARINT, wire.FIXED64, wire.LEN, wire.FIXED32, 3, 4, 6, 7])
            body = {wire.VARINT: wire.varint(5), wire.FIXED64: bytes(8), wire.FIXED32: bytes(4),
                    wire.LEN: wire.varint(1) + b"\x01"}.get(wt, b"")
            node.add(number, "raw", None, wire.tag(number, wt) + body)
        elif roll < 0.8:
            node.add(number, "raw", None, wire.tag(number, wire.LEN) + wire.varint(1 << 40))
        else:
            node.add(number, "raw", None, wire.tag(number, wire.VARINT) + b"\xff" * rng.choice([3, 10, 11]))


def prefix_end(key):
    """The range end that covers every key with `key` as prefix (etcd's clientv3.GetPrefixRangeEnd)."""
    end = bytearray(key)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"
