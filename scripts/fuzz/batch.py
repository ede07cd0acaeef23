#!/usr/bin/env python3
"""Runs the API fuzzer over a range of seeds, a few at a time, and sums what was sent.

Usage: batch.py --first S --seeds K --n N [--jobs J] [--gateway]   (make fuzz-api-batch)
Prints one line per seed and a total; exits 1 if any seed found something.
"""
import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))


def run(seed, n, gateway):
    args = [sys.executable, os.path.join(HERE, "api_fuzz.py"), "--seed", str(seed), "--n", str(n)]
    if gateway:
        args.append("--gateway")
    result = subprocess.run(args, capture_output=True, text=True, errors="replace")
    sent = re.search(r"requests=(\d+) \(\+(\d+) housekeeping, (\d+) skipped as known, (\d+) to ours only", result.stdout)
    counts = tuple(int(x) for x in sent.groups()) if sent else (0, 0, 0, 0)
    return seed, result.returncode, counts, result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--gateway", action="store_true")
    args = parser.parse_args()
    totals, failed = [0, 0, 0, 0], []
    with ThreadPoolExecutor(args.jobs) as pool:
        for seed, code, counts, stdout in pool.map(lambda s: run(s, args.n, args.gateway),
                                                   range(args.first, args.first + args.seeds)):
            totals = [a + b for a, b in zip(totals, counts)]
            print(f"seed {seed}: exit {code}, requests {counts[0]}, housekeeping {counts[1]}, "
                  f"skipped {counts[2]}, ours only {counts[3]}", flush=True)
            if code != 0:
                failed.append(seed)
                print(stdout, flush=True)
    print(f"fuzz-api batch: {args.seeds} seeds, requests compared {totals[0]}, housekeeping {totals[1]}, "
          f"skipped as known {totals[2]}, ours only {totals[3]}; failing seeds {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
