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
    try:
        p = subprocess.run([program, "-endpoint", servers.endpoints, *w.args], capture_output=True, text=True,
                           timeout=w.timeout)
        lines = p.stdout.strip().splitlines()
        metrics = parse(lines[-1]) if lines else {}
        if p.returncode != 0 or not lines:
            metrics = {"error": ((p.stderr.strip() or p.stdout.strip())[-400:] or f"exit {p.returncode}")
                       + "\n" + servers.log_tail()}
        elif w.rss:
            metrics["rss"] = servers.members[0].peak_rss_mb()
        cpu = [m.cpu_seconds() for m in servers.members]
        if None not in cpu:
            metrics["server_cpu"] = round(sum(cpu), 2)
    except subprocess.TimeoutExpired:
        metrics = {"error": f"timed out after {w.timeout}s"}
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    metrics["load"] = round((load + loadavg()) / 2, 2)
    metrics["wall"] = round(time.time() - started, 1)
    return metrics


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
                    shown = " ".join(f"{f.metric}={m.get(f.metric)}" for f in w.figures)
                    print(f"round {r + 1} {w.name:<13} {side:<4} {m.get('error') and 'FAILED: ' + m['error'] or shown}"
                          f" (load {m['load']}, {m['wall']} s, server CPU {m.get('server_cpu')} s)", flush=True)
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
    print()
    print(text)
    with open(os.path.join(out_dir, "table.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(report.markdown_table(rows, meta) + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows, "runs": results}, f, indent=1)
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
