"""make bench: every workload of issue 20 against swift-etcd and etcd 3.5.1 on
this machine, alternating the two (ours first in odd rounds, etcd first in
even ones) on a fresh server each time, BENCH_ROUNDS rounds (default 3);
the table shows each figure's median and the ratio of the medians.

Environment: BENCH_ROUNDS, BENCH_ONLY (comma-separated workload names, see
workloads.py), BENCH_SCALE, BENCH_FILL_KEYS, OURS, REF_ETCD, BENCH_OUT
(default .build/bench). Writes table.txt, table.md, results.json and
chart.svg there.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from members import Servers  # noqa: E402
import report  # noqa: E402
from workloads import WORKLOADS, parse  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def go_program(name):
    out = os.path.join(ROOT, ".build/go-bin", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOPATH=f"{ROOT}/.gopath:/usr/share/gocode")
    subprocess.run(["go", "build", "-o", out, f"./Tests/GoClients/{name}"], cwd=ROOT, env=env, check=True)
    return out


def run_one(w, side, binary, program, workdir, ctl):
    """One workload against a fresh server of `binary`: its metrics, or an 'error'."""
    servers = Servers(binary, side, workdir, size=w.members, ctl=ctl)
    load = loadavg()
    started = time.time()
    server_cpu = servers.cpu_seconds()
    switches = servers.context_switches()
    try:
        p, client_cpu = run_client([program, "-endpoint", servers.endpoints, *w.args], w.timeout)
        lines = p.stdout.strip().splitlines()
        metrics = parse(lines[-1]) if lines else {}
        if p.returncode != 0 or not lines:
            metrics = {"error": ((p.stderr.strip() or p.stdout.strip())[-400:] or f"exit {p.returncode}")
                       + "\n" + servers.log_tail()}
        else:
            metrics.update(cpu_figures(metrics, servers.cpu_seconds() - server_cpu, client_cpu,
                                       servers.context_switches() - switches))
            if w.rss:
                metrics["rss"] = servers.members[0].peak_rss_mb()
    except subprocess.TimeoutExpired:
        metrics = {"error": f"timed out after {w.timeout}s"}
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    metrics["load"] = round((load + loadavg()) / 2, 2)
    metrics["wall"] = round(time.time() - started, 1)
    return metrics


CPU_SHOWN = ["server_us_per_op", "client_us_per_op", "server_cs_per_op", "server_cpu_s", "client_cpu_s"]


def run_client(argv, timeout):
    """Runs a load program: its CompletedProcess and the CPU seconds it used
    (its own rusage, so the servers' CPU is not counted)."""
    child_cpu_delta()  # servers of earlier runs were reaped since: not this run's
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    # communicate reaped it, so its CPU is the children's rusage since the start.
    return subprocess.CompletedProcess(argv, proc.returncode, out, err), child_cpu_delta()


_children_cpu = [0.0]


def child_cpu_delta():
    """CPU of the children reaped since the last call."""
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = r.ru_utime + r.ru_stime
    delta, _children_cpu[0] = total - _children_cpu[0], total
    return delta


def cpu_figures(metrics, server_cpu, client_cpu, switches=0):
    """Server and client CPU of a run, and per operation in µs where the
    program says how many it did (ops, or writes for the Kubernetes load,
    or rate × seconds for keep-alives); the servers' context switches per
    operation (all members' threads, voluntary and involuntary)."""
    ops = metrics.get("ops") or metrics.get("writes")
    if not ops and isinstance(metrics.get("rate"), float) and isinstance(metrics.get("secs"), float):
        ops = metrics["rate"] * metrics["secs"]
    out = {"server_cpu_s": round(server_cpu, 2), "client_cpu_s": round(client_cpu, 2)}
    if isinstance(ops, float) and ops > 0:
        out["server_us_per_op"] = round(server_cpu / ops * 1e6, 2)
        out["client_us_per_op"] = round(client_cpu / ops * 1e6, 2)
        out["server_cs_per_op"] = round(switches / ops, 2)
    return out


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    workloads = [w for w in WORKLOADS if not only or w.name in only]
    unknown = only - {w.name for w in WORKLOADS}
    if unknown:
        sys.exit(f"bench: unknown workload(s) {sorted(unknown)}; known: {[w.name for w in WORKLOADS]}")
    binaries = {"ours": os.environ.get("OURS", os.path.join(ROOT, ".build/release/swift-etcd")),
                "etcd": os.environ.get("REF_ETCD", os.path.join(ROOT, ".venv/bin/etcd"))}
    ctl = os.path.join(ROOT, ".venv/bin/etcdctl")
    programs = {name: go_program(name) for name in {w.program for w in workloads}}
    out_dir = os.environ.get("BENCH_OUT", os.path.join(ROOT, ".build/bench"))
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="swift-etcd-bench.")
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    results = {w.name: {"ours": [], "etcd": []} for w in workloads}
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "commit": commit, "rounds": rounds,
            "cores": os.cpu_count(), "load_start": loadavg()}
    try:
        for r in range(rounds):
            for w in workloads:
                if w.rounds is not None and r >= w.rounds:
                    continue
                for side in (("ours", "etcd") if r % 2 == 0 else ("etcd", "ours")):
                    m = run_one(w, side, binaries[side], programs[w.program], os.path.join(tmp, f"{w.name}-{side}"), ctl)
                    results[w.name][side].append(m)
                    shown = " ".join(f"{k}={m.get(k)}" for k in [f.metric for f in w.figures] + CPU_SHOWN if k in m)
                    print(f"round {r + 1} {w.name:<13} {side:<4} {m.get('error') and 'FAILED: ' + m['error'] or shown}"
                          f" (load {m['load']}, {m['wall']} s)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    meta["load_end"] = loadavg()
    loads = [m["load"] for w in results.values() for side in w.values() for m in side]
    meta["load_min"], meta["load_max"] = min(loads, default=0), max(loads, default=0)
    rows = []
    for w in workloads:
        for f in w.figures:
            med = {side: median([m.get(f.metric) for m in results[w.name][side]]) for side in ("ours", "etcd")}
            rows.append({"label": f.label, "unit": f.unit, "ours": med["ours"], "etcd": med["etcd"],
                         "ratio": f.ratio(med["ours"], med["etcd"]), "goal": f.goal,
                         "higher_is_better": f.higher_is_better,
                         "failed": any("error" in m for s in results[w.name].values() for m in s)})
    text = report.text_table(rows, meta)
    cpu = report.cpu_rows(workloads, results)
    if cpu:
        text += "\n\n" + report.cpu_table(cpu)
    print()
    print(text)
    with open(os.path.join(out_dir, "table.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(report.markdown_table(rows, meta) + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows, "cpu": cpu, "runs": results}, f, indent=1)
    with open(os.path.join(out_dir, "chart.svg"), "w") as f:
        f.write(report.svg_chart(rows, meta))
    print(f"\nwritten: {out_dir}/table.txt, table.md, results.json, chart.svg")
    if any(r["failed"] for r in rows):
        sys.exit(1)


def median(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


if __name__ == "__main__":
    main()
