"""The etcd API as data, read from Protos/ with the same parser gen-swift.py uses,
so the fuzzer never carries a hand-written copy of a message definition.

A Schema knows every message (fields, their proto types, oneofs), every enum
(declared values) and every RPC (path, request/response types, streaming).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from proto_parse import Enum, Message, all_enums, all_messages, parse_file, resolve  # noqa: E402
import wire  # noqa: E402

INT_TYPES = {
    "int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1),
    "uint32": (0, (1 << 32) - 1), "uint64": (0, (1 << 64) - 1),
    "sint32": (-(1 << 31), (1 << 31) - 1), "sint64": (-(1 << 63), (1 << 63) - 1),
    "fixed32": (0, (1 << 32) - 1), "fixed64": (0, (1 << 64) - 1),
    "sfixed32": (-(1 << 31), (1 << 31) - 1), "sfixed64": (-(1 << 63), (1 << 63) - 1),
}
# The services the fuzzer drives (issue 18: every RPC of these); gRPC health is not etcd's API.
FUZZED_SERVICES = ("KV", "Watch", "Lease", "Cluster", "Maintenance", "Auth", "Lock", "Election")


class Method:
    def __init__(self, package, service, name, request, client_stream, response, server_stream):
        self.package, self.service, self.name = package, service, name
        self.request, self.response = request, response
        self.client_stream, self.server_stream = client_stream, server_stream
        self.path = f"/{package}.{service}/{name}"

    def __repr__(self):
        return self.path


class Schema:
    def __init__(self, protos_dir=os.path.join(ROOT, "Protos")):
        files = []
        for dirpath, _, names in os.walk(protos_dir):
            for name in sorted(names):
                if name.endswith(".proto"):
                    files.append(os.path.relpath(os.path.join(dirpath, name), protos_dir))
        parsed = [parse_file(protos_dir, rel) for rel in sorted(files)]
        self.messages, self.enums, self.methods = {}, {}, []
        for pf in parsed:
            for m in all_messages(pf.messages):
                self.messages[m.full] = m
            for e in all_enums(pf):
                self.enums[e.full] = e
        defs = dict(self.messages)
        defs.update(self.enums)
        for m in self.messages.values():
            for f in m.fields:
                if f.type_name not in INT_TYPES and f.type_name not in ("bool", "string", "bytes", "float", "double"):
                    f.resolved = resolve(defs, f.type_name, m.full)
        for pf in parsed:
            for service, methods in pf.services:
                for name, req, cs, resp, ss in methods:
                    self.methods.append(Method(pf.package, service, name, resolve(defs, req, pf.package), cs,
                                               resolve(defs, resp, pf.package), ss))

    def fuzzed_methods(self):
        return [m for m in self.methods if m.service in FUZZED_SERVICES]

    def method(self, path):
        return next(m for m in self.methods if m.path == path)

    def message(self, full):
        return self.messages[full]

    def decode(self, message, data):
        """Decodes bytes as `message` into {field name: value}; repeated fields are lists,
        messages are dicts, bytes stay bytes, strings are decoded leniently."""
        by_number = {f.number: f for f in message.fields}
        out = {}
        for number, wire_type, value in wire.fields(data):
            f = by_number.get(number)
            if f is None:
                continue
            v = self._decode_value(f, wire_type, value)
            if f.repeated:
                out.setdefault(f.name, []).extend(v if isinstance(v, list) else [v])
            else:
                out[f.name] = v
        return out

    def _decode_value(self, f, wire_type, value):
        if isinstance(f.resolved, Message):
            return self.decode(f.resolved, value)
        if f.type_name in ("bytes",):
            return value
        if f.type_name == "string":
            return value.decode("utf-8", "replace")
        if wire_type == wire.LEN:  # packed repeated scalars
            vals, pos = [], 0
            while pos < len(value):
                v, pos = wire.read_varint(value, pos)
                vals.append(self._scalar(f, v))
            return vals
        return self._scalar(f, value)

    @staticmethod
    def _scalar(f, v):
        if f.type_name == "bool":
            return v != 0
        if f.type_name in ("int64", "sfixed64") or isinstance(f.resolved, Enum):
            return wire.signed64(v)
        if f.type_name == "int32":
            v &= 0xFFFFFFFF
            return v - (1 << 32) if v >= 1 << 31 else v
        return v
