"""Starts swift-etcd and etcd 3.5.1 as single members on fresh data dirs, on free
ports in 20000-32767 (never the kernel's ephemeral range), and stops them."""
import collections
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from schema import ROOT


def reference_binary():
    venv = os.path.join(ROOT, ".venv/bin/etcd")
    return venv if os.access(venv, os.X_OK) else "/usr/bin/etcd"


def ours_binary():
    return os.environ.get("SWIFT_ETCD_BINARY") or os.path.join(ROOT, ".build/release/swift-etcd")


def die_with_parent():
    """Linux: the server gets SIGKILL when the fuzzer dies (a killed test must not leave servers)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def port_range():
    """20000-32767, or SWIFT_ETCD_TEST_PORTS=lo-hi (as the Swift tests read it) for runs sharing a machine."""
    try:
        lo, hi = (int(x) for x in os.environ.get("SWIFT_ETCD_TEST_PORTS", "").split("-"))
        if 1024 <= lo < hi <= 32767:
            return lo, hi
    except ValueError:
        pass
    return 20000, 32767


# The ports free_port returned last: a server started a moment ago may not
# listen yet, so a bind test alone could hand its port out twice (it did, with
# three test shards sharing a machine); older ones belong to servers listening by now.
_handed_out = collections.deque(maxlen=64)


def free_port(rng=random):
    for _ in range(1000):
        port = rng.randint(*port_range())
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                _handed_out.append(port)
                return port
            except OSError:
                continue
    raise RuntimeError("no free port in %d-%d" % port_range())


def rss_mib(pid, field="VmRSS"):
    """Resident MiB of `pid`; field "RssAnon" leaves out file pages (a member's mmapped database)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Server:
    """One member: `proc` is None once stopped; `log` is its combined output."""

    def __init__(self, label, binary, workdir, extra=(), ports=None, initial_cluster=None):
        """`ports` (client, peer) and `initial_cluster` for a member of a cluster; else a single member."""
        self.label, self.binary = label, binary
        self.dir = os.path.join(workdir, label)
        os.makedirs(self.dir)
        if ports:
            self.client_port, self.peer_port = ports
        else:
            self.client_port, self.peer_port = free_port(), free_port()
        while self.peer_port == self.client_port:
            self.peer_port = free_port()
        self.endpoint = f"127.0.0.1:{self.client_port}"
        self.log = os.path.join(workdir, f"{label}.log")
        peer = f"http://127.0.0.1:{self.peer_port}"
        client = f"http://{self.endpoint}"
        args = [binary, "--name", label, "--data-dir", os.path.join(self.dir, "data"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", initial_cluster or f"{label}={peer}", *extra]
        self.logfile = open(self.log, "wb")
        self.proc = subprocess.Popen(args, stdout=self.logfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=die_with_parent)

    def wait_listening(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode}; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.client_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.label} not listening after {timeout}s; see {self.log}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_status(self):
        return None if self.proc is None else self.proc.poll()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


class Pair:
    """Ours and the reference side by side in one temporary directory, kept on failure."""

    def __init__(self, extra_ours=(), extra_ref=()):
        self.workdir = tempfile.mkdtemp(prefix="fuzz-api-")
        self.ours = Server("ours", ours_binary(), self.workdir, extra_ours)
        self.ref = Server("reference", reference_binary(), self.workdir, extra_ref)
        try:
            self.ours.wait_listening()
            self.ref.wait_listening()
        except Exception:
            self.stop(keep=True)
            raise

    def stop(self, keep=False):
        self.ours.stop()
        self.ref.stop()
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
