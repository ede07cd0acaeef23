#!/usr/bin/env python3
"""Differential API fuzzer: the same seeded requests to swift-etcd and etcd 3.5.1.

Usage: api_fuzz.py --seed S --n N [--verbose]   (make fuzz-api SEED=S N=N)

Every request goes to both servers at once (each started on a fresh data dir) and
the run fails on: ours exiting (a crash), ours timing out where etcd answered (a
hang), a different gRPC status code (unless etcd itself is down), a different
revision after a KV call, an acknowledged sentinel write missing at the end, or
a different final key space. Exit status 0 = clean, 1 = findings, 2 = setup error.
"""
import argparse
import faulthandler
import signal
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import known  # noqa: E402
from client import Client  # noqa: E402
from gateway import GatewayClient  # noqa: E402
from driver import Driver  # noqa: E402
from gen import Gen  # noqa: E402
from schema import Schema  # noqa: E402
from servers import Pair  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--gateway", action="store_true", help="send the requests as JSON to the /v3/ gateway")
    parser.add_argument("--include-known", action="store_true",
                        help="send what issue 18's open defects would skip or tolerate (to see them found)")
    parser.add_argument("--only", help="comma-separated RPC names to fuzz (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep data dirs and logs even when clean")
    args = parser.parse_args()

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1` prints every thread's stack
    schema = Schema()
    if args.include_known:
        known.IGNORED.update(name for name, _, _ in known.KNOWN if name.startswith("18."))
    try:
        pair = Pair()
    except Exception as e:  # noqa: BLE001
        print(f"fuzz-api: cannot start servers: {e}")
        return 2
    grpc_clients = [Client(pair.ours.endpoint), Client(pair.ref.endpoint)]
    clients = grpc_clients
    if args.gateway:
        # One JSON writer per server, each with the same seed: the same bodies byte for byte.
        clients = [GatewayClient(pair.ours.endpoint, random.Random(args.seed)),
                   GatewayClient(pair.ref.endpoint, random.Random(args.seed))]
    only = args.only.split(",") if args.only else None
    driver = Driver(schema, Gen(schema, args.seed, only=only), pair, clients, grpc_clients, args.seed, args.verbose)
    started = time.time()
    try:
        driver.setup()
        driver.run(args.n)
        driver.finish()
    finally:
        for c in clients + grpc_clients:
            c.close()
        failed = bool(driver.failures or driver.differences)
        pair.stop(keep=failed or args.keep)
    elapsed = time.time() - started
    report(driver, args, elapsed, pair.workdir if failed or args.keep else None)
    return 1 if failed else 0


def report(driver, args, elapsed, kept):
    stats = driver.stats
    rate = stats["sent"] / elapsed if elapsed > 0 else 0
    print(f"fuzz-api: seed={args.seed} requests={stats['sent']} (+{stats['housekeeping']} housekeeping, "
          f"{stats['skipped']} skipped as known, {stats['ours_only']} to ours only) in {elapsed:.1f}s ({rate:.0f}/s); "
          f"sentinel writes acknowledged={stats['sentinels']}")
    slowest = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in driver.seconds.most_common(5))
    print(f"  time by RPC: {slowest}")
    for (name, code), count in sorted(driver.reference_hangs.items()):
        print(f"  reference timed out, ours answered {code}: {name}: {count}")
    for name, count in sorted(driver.tolerated.items()):
        print(f"  tolerated (known): {name}: {count}")
    for name, count in sorted(driver.skipped_by.items()):
        print(f"  skipped (known): {name}: {count}")
    for signature, (count, example) in sorted(driver.differences.items()):
        print(f"  DIFFERENCE x{count}: {signature}\n    first: {example}")
    for failure in driver.failures:
        print(f"  FAILURE: {failure}")
    if kept:
        print(f"  logs and data: {kept}")
    failed = driver.failures or driver.differences
    if failed:
        extra = [f for f, on in (("--gateway", args.gateway), ("--include-known", args.include_known)) if on]
        extra += [f"--only {args.only}"] if args.only else []
        if extra:
            print(f"  replay: scripts/fuzz/api_fuzz.py --seed {args.seed} --n {driver.generated} {' '.join(extra)}")
        else:
            print(f"  replay: make fuzz-api SEED={args.seed} N={driver.generated}")
    print(f"fuzz-api: {'FAILED' if failed else 'clean'}")


if __name__ == "__main__":
    sys.exit(main())
