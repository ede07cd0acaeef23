"""Unit tests of the corrupt-data-dir fuzzer's pure parts: the cases made for a layout, and
how a refusal is judged to name the damaged file."""
import os
import random
import shutil
import tempfile
import unittest

import mutations
from datadir_fuzz import History, names


class DataDirCasesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="datadir-test-")
        for rel, data in [("member/wal/0000000000000000-0000000000000000.wal", b"\x01" * 100 + b"\0" * 900),
                          ("member/snap/0000000000000002-0000000000000010.snap", b"s" * 52),
                          ("member/snap/0000000000000002-0000000000000020.snap", b"s" * 52),
                          ("member/snap/db/data.mdb", b"d" * 8192), ("member/members.json", b"[]")]:
            os.makedirs(os.path.dirname(os.path.join(self.dir, rel)), exist_ok=True)
            with open(os.path.join(self.dir, rel), "wb") as f:
                f.write(data)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_same_seed_same_cases_and_offsets_within_content(self):
        a = [repr(c) for c in mutations.cases(self.dir, random.Random(3))]
        self.assertEqual(a, [repr(c) for c in mutations.cases(self.dir, random.Random(3))])
        self.assertEqual(len(a), len(set(a)))
        wal = [c for c in a if c.startswith("member/wal/") and "truncate" in c]
        self.assertTrue(all(int(c.split("@")[1]) <= 100 for c in wal), wal)  # zeros past the content are not content

    def test_subset_picks_the_last_segment_and_newest_snapshot(self):
        picked = [repr(c) for c in mutations.cases(self.dir, random.Random(1), subset=True)]
        self.assertIn("member/snap/0000000000000002-0000000000000020.snap garbage", picked)
        self.assertNotIn("member/snap/0000000000000002-0000000000000010.snap garbage", picked)
        self.assertIn("member/wal delete-dir", picked)
        self.assertIn("member/snap/db/data.mdb delete", picked)

    def test_apply_damages_a_copy(self):
        case = next(c for c in mutations.cases(self.dir, random.Random(1)) if c.name == "directory"
                    and c.target.endswith("data.mdb"))
        case.apply(self.dir)
        self.assertTrue(os.path.isdir(os.path.join(self.dir, "member/snap/db/data.mdb")))


class JudgingTest(unittest.TestCase):
    def test_refusal_must_name_the_file_or_for_a_deletion_its_directory(self):
        out = "starting\nswift-etcd: cannot start from /d/member/wal: no WAL segments\n"
        self.assertFalse(names(out, "member/wal/0-0.wal", deleted=False))
        self.assertTrue(names(out, "member/wal/0-0.wal", deleted=True))
        self.assertTrue(names("x: /d/member/snap/db/data.mdb: bad\n", "member/snap/db/data.mdb", deleted=False))

    def test_state_at_a_revision_replays_puts_and_deletes(self):
        h = History()
        h.writes = [(2, b"a", b"1"), (3, b"b", b"2"), (4, b"a", None), (5, b"b", b"3")]
        self.assertEqual(h.state_at(3), {b"a": b"1", b"b": b"2"})
        self.assertEqual(h.state_at(5), {b"b": b"3"})


if __name__ == "__main__":
    unittest.main()
