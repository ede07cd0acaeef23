"""A request as a tree that can still hold unresolved references, and its encoding.

Entries are (field number, kind, payload):
  ("int", proto type, int)        varint / zigzag / fixed encoding per the proto type
  ("bytes", None, bytes)          a LEN field
  ("msg", None, Node)             an embedded message
  ("ref", kind, (index, fallback)) a value each server gave out itself (lease ID, member ID,
                                   lock key, leader key), resolved per server at encoding time
  ("raw", None, bytes)            bytes appended verbatim: unknown fields, wrong wire types

References keep the two servers' states comparable: request i names "the k-th lease
granted", and each server gets the ID it granted itself.
"""
import wire

FIXED32_TYPES = {"fixed32", "sfixed32", "float"}
FIXED64_TYPES = {"fixed64", "sfixed64", "double"}


class Node:
    __slots__ = ("message", "entries")

    def __init__(self, message, entries=None):
        self.message = message
        self.entries = entries if entries is not None else []

    def add(self, number, kind, proto_type, payload):
        self.entries.append((number, kind, proto_type, payload))

    def depth(self):
        inner = [p.depth() for _, k, _, p in self.entries if k == "msg"]
        return 1 + (max(inner) if inner else 0)

    def walk(self):
        yield self
        for _, kind, _, payload in self.entries:
            if kind == "msg":
                yield from payload.walk()

    def field(self, name):
        """The last entry for field `name` (proto3: last one wins), or None."""
        number = next((f.number for f in self.message.fields if f.name == name), None)
        found = [e for e in self.entries if e[0] == number]
        return found[-1] if found else None

    def describe(self, limit=600):
        text = self._describe()
        return text if len(text) <= limit else text[:limit] + "…"

    def _describe(self):
        names = {f.number: f.name for f in self.message.fields}
        parts = []
        for number, kind, proto_type, payload in self.entries:
            name = names.get(number, str(number))
            if kind == "msg":
                parts.append(f"{name}{{{payload._describe()}}}")
            elif kind == "bytes":
                shown = payload if len(payload) <= 32 else payload[:32] + b"...(%d bytes)" % len(payload)
                parts.append(f"{name}:{shown!r}")
            elif kind == "ref":
                parts.append(f"{name}:<{proto_type} #{payload[0]} else {payload[1]!r}>")
            elif kind == "raw":
                parts.append(f"raw:{payload[:24].hex()}")
            else:
                parts.append(f"{name}:{payload}")
        return " ".join(parts)


def encode(node, resolve=None):
    """Wire bytes of `node`; `resolve(kind, index)` gives a server's own value or None."""
    out = bytearray()
    for number, kind, proto_type, payload in node.entries:
        if kind == "ref":
            ref_kind, (index, fallback) = proto_type, payload
            value = resolve(ref_kind, index) if resolve else None
            if value is None:
                value = fallback
            if isinstance(value, (bytes, bytearray)):
                out += wire.length_delimited(number, bytes(value))
            else:
                out += wire.tag(number, wire.VARINT) + wire.varint(value)
        elif kind == "int":
            out += encode_int(number, proto_type, payload)
        elif kind == "bytes":
            out += wire.length_delimited(number, payload)
        elif kind == "msg":
            out += wire.length_delimited(number, encode(payload, resolve))
        elif kind == "raw":
            out += payload
        else:
            raise ValueError(kind)
    return bytes(out)


def encode_int(number, proto_type, value):
    if proto_type in FIXED32_TYPES:
        return wire.tag(number, wire.FIXED32) + (value & 0xFFFFFFFF).to_bytes(4, "little")
    if proto_type in FIXED64_TYPES:
        return wire.tag(number, wire.FIXED64) + (value & wire.MASK64).to_bytes(8, "little")
    if proto_type == "sint32":
        return wire.tag(number, wire.VARINT) + wire.varint(wire.zigzag(value, 32))
    if proto_type == "sint64":
        return wire.tag(number, wire.VARINT) + wire.varint(wire.zigzag(value, 64))
    return wire.tag(number, wire.VARINT) + wire.varint(value)
