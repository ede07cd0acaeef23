"""Range counts and paginated lists, ours against etcd 3.5.1 (`make fuzz-counts SEED=S N=n`).

The store remembers counts of large ranges (`RangeCounts`): a count_only Range, or the
next page of a list pinned to a revision, is answered without walking the range. This
sends both servers the same seeded mix on a few prefixes of up to 300 keys (so ranges
pass the 64-key threshold): puts, deletes, range deletes, compactions, count_only
ranges, and lists of limit 1-100 pinned to their first page's revision with writes
between the pages (as Kubernetes' paginated lists); every answer's count, more flag
and keys must be etcd's. Prints "fuzz-counts: clean" or the differences.
"""
import argparse
import random
import sys

import etcd3
from etcd3 import etcdrpc

from servers import Pair

PREFIXES = [b"/registry/pods/", b"/registry/events/", b"/registry/nodes/"]


def prefix_end(p):
    return p[:-1] + bytes([p[-1] + 1])


def both(clients, call):
    """`call` on ours, then on etcd; their answers in that order."""
    return [call(c) for c in clients]


def run(clients, rng, steps):
    def key(p):
        return p + b"%04d" % rng.randrange(300)

    checks, differences = 0, []
    for step in range(steps):
        op, p = rng.random(), rng.choice(PREFIXES)
        if op < 0.45:
            k = key(p)
            both(clients, lambda c: c.put(k, b"v%d" % step))
        elif op < 0.6:
            k = key(p)
            both(clients, lambda c: c.delete(k))
        elif op < 0.65:
            start = rng.randrange(300)
            req = etcdrpc.DeleteRangeRequest(key=p + b"%04d" % start, range_end=p + b"%04d" % (start + rng.randrange(1, 80)))
            both(clients, lambda c: c.kvstub.DeleteRange(req))
        elif op < 0.8:
            req = etcdrpc.RangeRequest(key=p, range_end=prefix_end(p), count_only=True)
            got = both(clients, lambda c: c.kvstub.Range(req).count)
            checks += 1
            if got[0] != got[1]:
                differences.append(f"step {step}: count_only {p!r}: ours {got[0]}, etcd {got[1]}")
        else:
            checks += list_pages(clients, rng, p, step, differences)
        if step % 400 == 399:
            revs = [c.kvstub.Range(etcdrpc.RangeRequest(key=b"-")).header.revision for c in clients]
            for c, rev in zip(clients, revs):
                c.kvstub.Compact(etcdrpc.CompactionRequest(revision=rev - rng.randrange(1, 50)))
    return checks, differences


def list_pages(clients, rng, p, step, differences):
    """One list of `p` page by page, pinned to the first page's revision on each side."""
    limit, keys_only = rng.choice([1, 5, 50, 100]), rng.random() < 0.3
    start, revs, checks, page = [p, p], [0, 0], 0, 0
    while True:
        answers = [c.kvstub.Range(etcdrpc.RangeRequest(key=start[i], range_end=prefix_end(p), limit=limit,
                                                       revision=revs[i], keys_only=keys_only))
                   for i, c in enumerate(clients)]
        checks += 1
        ours, ref = answers
        if (ours.count, ours.more, [kv.key for kv in ours.kvs]) != (ref.count, ref.more, [kv.key for kv in ref.kvs]):
            differences.append(f"step {step}: page {page} of {p!r} (limit {limit}): ours count {ours.count} more "
                               f"{ours.more} {len(ours.kvs)} keys, etcd count {ref.count} more {ref.more} {len(ref.kvs)} keys")
            return checks
        if not ours.more:
            return checks
        for i, a in enumerate(answers):
            revs[i] = revs[i] or a.header.revision
            start[i] = a.kvs[-1].key + b"\0"
        page += 1
        for write in (rng.random() < 0.5, rng.random() < 0.3):
            if write:
                k = p + b"%04d" % rng.randrange(300)
                both(clients, (lambda c: c.put(k, b"x")) if rng.random() < 0.6 else (lambda c: c.delete(k)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=2000, help="steps")
    args = parser.parse_args()
    pair = Pair()
    ok = False
    try:
        clients = [etcd3.client(host="127.0.0.1", port=s.client_port) for s in (pair.ours, pair.ref)]
        checks, differences = run(clients, random.Random(args.seed), args.n)
        print(f"fuzz-counts: seed={args.seed} steps={args.n}: {checks} counted answers compared")
        for d in differences[:20]:
            print("  DIFFERENCE " + d)
        ok = not differences and pair.ours.alive()
        print("fuzz-counts: clean" if ok else f"fuzz-counts: FAILED (logs and data: {pair.workdir})")
    finally:
        pair.stop(keep=not ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
