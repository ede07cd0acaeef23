"""Servers for the benchmark: one member, or a cluster of three, of either
binary on fresh data dirs under one temporary directory, on free ports in
20000-32767 (fuzz/servers.py's free_port). Stopped with kill -9: a benchmark
wants no shutdown work timed and nothing of a run left for the next."""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz"))
from servers import die_with_parent, free_port  # noqa: E402


class Member:
    def __init__(self, binary, name, datadir, client_port, peer_port, initial_cluster, token, log):
        client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
        self.endpoint = f"127.0.0.1:{client_port}"
        self.client_port = client_port
        self.datadir = datadir
        self.log = log
        self.logfile = open(log, "ab")
        self.proc = subprocess.Popen(
            [binary, "--name", name, "--data-dir", datadir,
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", initial_cluster, "--initial-cluster-token", token],
            stdout=self.logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)

    def peak_rss_mb(self):
        """VmHWM: the most resident memory the process ever had."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024)
        return None

    def cpu_seconds(self):
        """User + system CPU the process used so far (0 once it is gone)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def context_switches(self):
        """Voluntary + involuntary context switches of the live threads so far
        (threads that already exited are not counted)."""
        total = 0
        try:
            tasks = os.listdir(f"/proc/{self.proc.pid}/task")
        except OSError:
            return 0
        for t in tasks:
            try:
                with open(f"/proc/{self.proc.pid}/task/{t}/status") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                            total += int(line.split()[1])
            except (OSError, ValueError):
                continue
        return total

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.logfile.close()


class Servers:
    """`size` members of `binary` (1 or 3) named after `label`; `endpoints` is
    what the Go clients take (comma-separated)."""

    def __init__(self, binary, label, workdir, size=1, ctl=None):
        self.label = label
        os.makedirs(workdir, exist_ok=True)
        ports = [(free_port(), free_port()) for _ in range(size)]
        names = [label if size == 1 else f"{label}-m{i + 1}" for i in range(size)]
        cluster = ",".join(f"{n}=http://127.0.0.1:{p}" for n, (_, p) in zip(names, ports))
        self.members = [Member(binary, n, os.path.join(workdir, n), c, p, cluster, f"bench-{label}",
                               os.path.join(workdir, f"{n}.log"))
                        for n, (c, p) in zip(names, ports)]
        self.endpoints = ",".join(m.endpoint for m in self.members)
        try:
            self._wait(ctl)
        except Exception:
            self.stop()
            raise

    def _wait(self, ctl, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.members:
                if m.proc.poll() is not None:
                    raise RuntimeError(f"{self.label} exited with {m.proc.returncode}; see {m.log}")
            if len(self.members) == 1:
                try:
                    with socket.create_connection(("127.0.0.1", self.members[0].client_port), timeout=0.5):
                        return
                except OSError:
                    pass
            elif subprocess.run([ctl, "--endpoints", self.endpoints, "put", "bench-warmup", "1"],
                                capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not come up in {timeout}s; see {self.members[0].log}")

    def cpu_seconds(self):
        """CPU every member used so far, summed."""
        return sum(m.cpu_seconds() for m in self.members)

    def context_switches(self):
        """Context switches of every member's threads so far, summed."""
        return sum(m.context_switches() for m in self.members)

    def stop(self):
        for m in self.members:
            m.stop()

    def log_tail(self, lines=5):
        tails = []
        for m in self.members:
            with open(m.log, errors="replace") as f:
                tails.append(f"{m.log}: " + " | ".join(f.read().splitlines()[-lines:]))
        return "\n".join(tails)
