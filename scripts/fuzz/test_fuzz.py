"""Unit tests of the fuzzer's pure parts: edge values, wire encoding, seeded generation,
the sentinel guard and the known-issue predicates (`make test` runs them)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import values  # noqa: E402
import wire  # noqa: E402
from driver import covers_sentinels  # noqa: E402
from gen import Gen, prefix_end  # noqa: E402
from message import Node, encode  # noqa: E402
from schema import INT_TYPES, Schema  # noqa: E402

SCHEMA = Schema()


class EdgeValues(unittest.TestCase):
    def test_integers_cover_bounds_and_powers_of_two(self):
        for type_name, (lo, hi) in INT_TYPES.items():
            edges = values.int_edges(type_name)
            self.assertTrue(all(lo <= v <= hi for v in edges), type_name)
            for v in (0, 1, lo, hi, (1 << 31) - 1, 1 << 16, (1 << 16) + 1):
                if lo <= v <= hi:
                    self.assertIn(v, edges, (type_name, v))
        self.assertIn(-1, values.int_edges("int64"))
        self.assertIn(-(1 << 63) + 1, values.int_edges("int64"))

    def test_enums_include_declared_and_unknown_numbers(self):
        enum = next(e for e in SCHEMA.enums.values() if e.full == "etcdserverpb.RangeRequest.SortOrder")
        numbers = values.enum_numbers(enum)
        for declared in (0, 1, 2):
            self.assertIn(declared, numbers)
        for unknown in (3, -1, (1 << 31) - 1):
            self.assertIn(unknown, numbers)


class Wire(unittest.TestCase):
    def test_negative_varints_take_ten_bytes(self):
        self.assertEqual(len(wire.varint(-1)), 10)
        self.assertEqual(wire.varint(300), b"\xac\x02")
        self.assertEqual(wire.read_varint(wire.varint(-5), 0)[0], (1 << 64) - 5)

    def test_zigzag(self):
        self.assertEqual([wire.zigzag(v) for v in (0, -1, 1, -2)], [0, 1, 2, 3])

    def test_truncated_input_is_an_error(self):
        with self.assertRaises(wire.WireError):
            list(wire.fields(b"\x0a\x05ab"))


class Generation(unittest.TestCase):
    def sequence(self, seed, n=300):
        gen = Gen(SCHEMA, seed)
        out = []
        for _ in range(n):
            method = gen.method()
            out.append((method.path, encode(gen.request(method))))
        return out

    def test_a_seed_replays_exactly(self):
        self.assertEqual(self.sequence(7), self.sequence(7))
        self.assertNotEqual(self.sequence(7), self.sequence(8))

    def test_every_rpc_of_every_service_is_generated(self):
        gen = Gen(SCHEMA, 1)
        seen = {gen.method().path for _ in range(30000)}
        self.assertEqual(seen, {m.path for m in SCHEMA.fuzzed_methods()})
        self.assertEqual({m.service for m in SCHEMA.fuzzed_methods()},
                         {"KV", "Watch", "Lease", "Cluster", "Maintenance", "Auth", "Lock", "Election"})

    def test_undamaged_requests_decode_with_the_schema(self):
        gen = Gen(SCHEMA, 3)
        decoded = 0
        for _ in range(500):
            method = gen.method()
            node = gen.request(method)
            if any(e[1] == "raw" for n in node.walk() for e in n.entries):
                continue
            SCHEMA.decode(method.request, encode(node))
            decoded += 1
        self.assertGreater(decoded, 400)

    def test_references_resolve_per_server(self):
        node = Node(SCHEMA.message("etcdserverpb.LeaseRevokeRequest"))
        node.add(1, "ref", "lease", (1, 99))
        mine = {"lease": [10, 20]}
        self.assertEqual(SCHEMA.decode(node.message, encode(node, lambda k, i: mine[k][i]))["ID"], 20)
        self.assertEqual(SCHEMA.decode(node.message, encode(node, lambda k, i: None))["ID"], 99)

    def test_deep_txn_is_a_chain_ending_in_a_put(self):
        gen = Gen(SCHEMA, 1)
        node = gen.deep_txn(SCHEMA.message("etcdserverpb.TxnRequest"), 50)
        self.assertEqual(node.depth(), 50 * 2 + 1)
        self.assertTrue(any(n.message.name == "PutRequest" for n in node.walk()))

    def test_prefix_end(self):
        self.assertEqual(prefix_end(b"foo"), b"fop")
        self.assertEqual(prefix_end(b"a\xff"), b"b")
        self.assertEqual(prefix_end(b"\xff"), b"\x00")


class Guards(unittest.TestCase):
    def delete(self, key=None, end=None):
        node = Node(SCHEMA.message("etcdserverpb.DeleteRangeRequest"))
        if key is not None:
            node.add(1, "bytes", None, key)
        if end is not None:
            node.add(2, "bytes", None, end)
        return node

    def test_deletes_that_reach_the_sentinels_are_caught(self):
        self.assertTrue(covers_sentinels(self.delete(b"a", b"\x00")))
        self.assertTrue(covers_sentinels(self.delete(None, b"\xff")))
        self.assertTrue(covers_sentinels(self.delete(b"\xfe-ack/00000024")))
        self.assertFalse(covers_sentinels(self.delete(b"a", b"b")))
        self.assertFalse(covers_sentinels(self.delete(b"\xff", b"\x00")))
        self.assertFalse(covers_sentinels(self.delete(b"foo")))


if __name__ == "__main__":
    unittest.main()


class AbuseCases(unittest.TestCase):
    """abuse.py: a seed gives the same bytes every time, every kind is drawn, and the
    excluded calls (quorum, alarms, auth) are never sent."""

    def test_seeded_cases_replay_and_cover_every_kind(self):
        from abuse import EXCLUDED, Abuse
        first, second = Abuse(SCHEMA, 7), Abuse(SCHEMA, 7)
        kinds = set()
        for _ in range(400):
            a, b = first.case(), second.case()
            self.assertEqual(a, b)
            kinds.add(a[0])
            self.assertTrue(all(isinstance(c, bytes) and c for c in a[1]), a[0])
        self.assertEqual(kinds, {k.__name__ for k, _ in first.kinds})
        self.assertFalse({m.name for m in first.methods} & EXCLUDED)
