"""The damage datadir_fuzz.py does to a stopped member's data dir: for every file,
truncations, byte flips, a zeroed block, deletion, garbage, a directory in its
place, no permission, garbage after its content; for every directory, deletion,
emptying, a file in its place and no permission. Offsets come from a seeded RNG
over the file's content (up to its last non-zero byte: WAL segments are
preallocated with zeros), so a seed gives the same cases for the same layout.
"""
import os
import shutil

BLOCK = 4096
# Files every member rewrites or ignores at start; damaging them tests nothing about the data.
SKIP = ()


class Case:
    """One mutation of `target` (relative to the data dir); `apply(data)` does it."""

    def __init__(self, target, name, fn, drop_dac=False, nothing_left=False, tail_of_last_wal=False):
        self.target, self.name, self.fn = target, name, fn
        self.drop_dac, self.nothing_left, self.tail_of_last_wal = drop_dac, nothing_left, tail_of_last_wal

    def apply(self, data):
        self.fn(os.path.join(data, self.target))

    def allow_rollback(self, stop):
        """A member killed with SIGKILL whose last WAL segment lost its tail may come back older."""
        return stop == "kill9" and self.tail_of_last_wal

    def __repr__(self):
        return f"{self.target} {self.name}"


def content_size(path):
    """Bytes up to and including the last non-zero byte."""
    with open(path, "rb") as f:
        data = f.read()
    return len(data.rstrip(b"\0"))


def truncate(at):
    def fn(p):
        os.truncate(p, at)
    return fn


def write_at(offset, data):
    def fn(p):
        with open(p, "r+b") as f:
            f.seek(offset)
            f.write(data)
    return fn


def flip(offset):
    def fn(p):
        with open(p, "r+b") as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([(b[0] if b else 0) ^ 0xFF]))
    return fn


def replace_with(data):
    def fn(p):
        os.unlink(p)
        with open(p, "wb") as f:
            f.write(data)
    return fn


def to_directory(p):
    if os.path.isdir(p):
        shutil.rmtree(p)
    else:
        os.unlink(p)
    os.mkdir(p)


def no_permission(p):
    os.chmod(p, 0)


def remove(p):
    if os.path.isdir(p):
        shutil.rmtree(p)
    else:
        os.unlink(p)


def empty_dir(p):
    shutil.rmtree(p)
    os.mkdir(p)


def to_file(p):
    shutil.rmtree(p)
    with open(p, "wb") as f:
        f.write(b"not a directory\n")


def file_cases(rel, path, rng, last_wal):
    size = content_size(path)
    full = os.path.getsize(path)
    tail = rel == last_wal
    offsets = sorted({rng.randrange(max(size, 1)) for _ in range(3)})
    out = [
        Case(rel, "delete", remove),
        Case(rel, "truncate@0", truncate(0), tail_of_last_wal=tail),
        Case(rel, f"truncate-half@{size // 2}", truncate(size // 2), tail_of_last_wal=tail),
        Case(rel, f"truncate@{max(size - 1, 0)}", truncate(max(size - 1, 0)), tail_of_last_wal=tail),
    ]
    out += [Case(rel, f"truncate@{o}", truncate(o), tail_of_last_wal=tail) for o in offsets[:1]]
    out += [Case(rel, f"flip@{o}", flip(o)) for o in [0] + offsets]
    zero_at = (rng.randrange(max(size, 1)) // BLOCK) * BLOCK
    out += [
        Case(rel, "zero-block@0", write_at(0, b"\0" * min(BLOCK, full))),
        Case(rel, f"zero-block@{zero_at}", write_at(zero_at, b"\0" * max(0, min(BLOCK, full - zero_at))),
             tail_of_last_wal=tail and zero_at + BLOCK >= size),
        Case(rel, "garbage", replace_with(bytes(rng.randrange(256) for _ in range(max(size, 64))))),
        Case(rel, "garbage-after-content", write_at(size, bytes(rng.randrange(1, 256) for _ in range(64)))),
        Case(rel, "directory", to_directory),
        Case(rel, "no-permission", no_permission, drop_dac=True),
    ]
    return out


def dir_cases(rel, has_data_elsewhere):
    return [
        Case(rel, "delete-dir", remove, nothing_left=not has_data_elsewhere),
        Case(rel, "empty-dir", empty_dir, nothing_left=not has_data_elsewhere),
        Case(rel, "file-instead-of-dir", to_file),
        Case(rel, "no-permission-dir", no_permission, drop_dac=True),
    ]


def last_wal_segment(data):
    wal = os.path.join(data, "member", "wal")
    names = sorted(n for n in os.listdir(wal) if n.endswith(".wal")) if os.path.isdir(wal) else []
    return os.path.join("member", "wal", names[-1]) if names else None


def cases(data, rng, subset=False):
    """Every case for the data dir `data` (a stopped member's), in a stable order."""
    last_wal = last_wal_segment(data)
    files, dirs = [], []
    for root, dnames, fnames in os.walk(data):
        dnames.sort()
        for d in dnames:
            dirs.append(os.path.relpath(os.path.join(root, d), data))
        for f in sorted(fnames):
            rel = os.path.relpath(os.path.join(root, f), data)
            if not rel.endswith(SKIP) or not SKIP:
                files.append(rel)
    out = []
    for rel in files:
        out += file_cases(rel, os.path.join(data, rel), rng, last_wal)
    for rel in dirs:
        # Deleting the whole member dir (or its parents) leaves no data: a fresh start is right then.
        out += dir_cases(rel, has_data_elsewhere=not (rel == "member"))
    seen, unique = set(), []
    for c in out:  # a short file gives the same offset twice
        if (c.target, c.name) not in seen:
            seen.add((c.target, c.name))
            unique.append(c)
    return [c for c in unique if in_subset(c, last_wal, newest_snap(data))] if subset else unique


def newest_snap(data):
    snap = os.path.join(data, "member", "snap")
    names = sorted(n for n in os.listdir(snap) if n.endswith(".snap")) if os.path.isdir(snap) else []
    return os.path.join("member", "snap", names[-1]) if names else None


# make test's subset: (target, name prefix) per role; a few cases per file that once found defects
# or guard the main paths (torn WAL tail, missing store, missing WAL, damaged snapshot).
SUBSET = {
    "last-wal": ("delete", "truncate-half@", "flip@0", "garbage-after-content"),
    "newest-snap": ("garbage",),
    "member/snap/db/data.mdb": ("delete", "zero-block@0"),
    "member/snap/db/lock.mdb": ("directory",),
    "member/members.json": ("truncate-half@",),
    "member/wal": ("delete-dir",),
    "member/snap/db": ("delete-dir",),
}


def in_subset(case, last_wal, snap):
    role = {last_wal: "last-wal", snap: "newest-snap"}.get(case.target, case.target)
    return any(case.name == p or (p.endswith("@") and case.name.startswith(p)) for p in SUBSET.get(role, ()))
