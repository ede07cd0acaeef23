"""The workloads of `make bench` (issue 20's table) and the figures each yields.

A workload is one Go client program run against a fresh server (or 3-member
cluster); it prints one line of key=value pairs, from which each figure
takes one value. A figure's ratio is always "times better than etcd":
ours/etcd for rates, etcd/ours for times, latencies and memory; `goal` is the
ratio the issue asks for.

BENCH_SCALE multiplies request counts (default 1).
"""
import os

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
FILL_KEYS = int(os.environ.get("BENCH_FILL_KEYS", "1000000"))


def n(count):
    return str(max(1, int(count * SCALE)))


class Figure:
    def __init__(self, label, metric, unit, higher_is_better, goal):
        self.label, self.metric, self.unit = label, metric, unit
        self.higher_is_better, self.goal = higher_is_better, goal

    def ratio(self, ours, etcd):
        if ours is None or etcd is None:
            return None
        a, b = (ours, etcd) if self.higher_is_better else (etcd, ours)
        return a / b if b else None


class Workload:
    def __init__(self, name, program, args, figures, members=1, rounds=None, rss=False, timeout=600,
                 saturates=False):
        self.name, self.program, self.args, self.figures = name, program, args, figures
        self.members = members
        # Enough clients to keep every core busy, so the rate follows server +
        # client CPU per request (report.cpu_rows' budget applies).
        self.saturates = saturates
        self.rounds = rounds  # None: every round (BENCH_ROUNDS)
        self.rss = rss  # adds metric "rss": the server's peak RSS in MB after the run
        self.timeout = timeout


def loadgen(workload, clients, conns, total):
    return ["-workload", workload, "-clients", str(clients), "-conns", str(conns), "-total", total]


def rate(label, goal=2.0):
    return Figure(label, "rate", "req/s", True, goal)


WORKLOADS = [
    Workload("put-1", "loadgen", loadgen("put", 1, 1, n(2000)),
             [rate("put, 1 client", 1.0), Figure("put, 1 client: p99", "p99ms", "ms", False, 2.0)]),
    Workload("put", "loadgen", loadgen("put", 100, 10, n(30000)), [rate("put")], saturates=True),
    Workload("range-lin", "loadgen", loadgen("range-lin", 100, 10, n(60000)), [rate("linearizable range")],
             saturates=True),
    Workload("range-ser", "loadgen", loadgen("range-ser", 100, 10, n(60000)), [rate("serializable range")],
             saturates=True),
    Workload("txn-put", "loadgen", loadgen("txn-put", 100, 10, n(30000)), [rate("txn-put")], saturates=True),
    Workload("mixed", "loadgen", loadgen("mixed", 100, 10, n(60000)), [rate("90/10 read/write mix")], saturates=True),
    Workload("keepalive", "watchbench", ["-mode", "keepalive", "-clients", "100", "-conns", "10", "-seconds", "8"],
             [Figure("lease keep-alive", "rate", "/s", True, 2.0)], saturates=True),
    Workload("fanout-100", "watchbench", ["-mode", "fanout", "-watchers", "100", "-conns", "1", "-puts", n(2000)],
             [Figure("100 watchers × 2,000 puts: all delivered", "secs", "s", False, 2.0),
              Figure("100 watchers: watch p50", "p50ms", "ms", False, 2.0)]),
    Workload("fanout-1000", "watchbench", ["-mode", "fanout", "-watchers", "1000", "-conns", "1", "-puts", n(2000)],
             [Figure("1,000 watchers × 2,000 puts: all delivered", "secs", "s", False, 2.0),
              Figure("1,000 watchers: watch p50", "p50ms", "ms", False, 2.0)]),
    Workload("k8s", "k8sload", ["-seconds", "15", "-clients", "100", "-conns", "10"],
             [Figure("Kubernetes-style load, 15 s", "writes", "writes done", True, 2.0)], saturates=True),
    Workload("put-watched", "watchbench", ["-mode", "putwatched", "-watchers", "100", "-conns", "1", "-puts", n(2000)],
             [rate("put, 1 client, 100 watchers open", 1.0)]),
    Workload("cluster-put", "loadgen", loadgen("put", 100, 10, n(30000)), [rate("3 members: put")], members=3,
             saturates=True),
    Workload("cluster-range", "loadgen", loadgen("range-lin", 100, 10, n(60000)),
             [rate("3 members: linearizable range")], members=3, saturates=True),
    Workload("fill", "loadgen", loadgen("fill", 100, 10, str(FILL_KEYS)),
             [Figure(f"peak RSS at {FILL_KEYS:,} keys", "rss", "MB", False, 2.0)], rounds=1, rss=True, timeout=3600),
]


def parse(line):
    """'name k=v k=v …' → {k: float or str}."""
    out = {}
    for part in line.split()[1:]:
        if "=" in part:
            k, v = part.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out
