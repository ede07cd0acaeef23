"""Many large requests in flight against swift-etcd and etcd 3.5.1, side by side.

CONNS gRPC connections each keep INFLIGHT Put calls of VALUE bytes (default
1.5 MB, just under --max-request-bytes) running for --seconds: the running-call
cap counts calls, so this is the most request memory one connection can make a
member hold. Prints each server's peak RSS, RSS 3 s after, puts answered and
failed (by status), and whether it is still alive.

Loopback only, ports 20000-32767, bounded by --seconds; servers are killed
with the script (PR_SET_PDEATHSIG).
"""
import argparse
import collections
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fuzz"))
from servers import Server, rss_mib  # noqa: E402
from slow_readers import put_request, side_by_side  # noqa: E402

import grpc  # noqa: E402


def run(label, binary, args, workdir):
    server = Server(label, binary, workdir, extra=("--quota-backend-bytes", str(8 << 30)))
    try:
        server.wait_listening()
        base = rss_mib(server.proc.pid)
        value = b"v" * args.value
        outcomes = collections.Counter()
        lock = threading.Lock()
        stop = time.time() + args.seconds
        peak = [base]
        anon = [rss_mib(server.proc.pid, "RssAnon")]

        def worker(conn, slot):
            channel = conns[conn]
            put = channel.unary_unary("/etcdserverpb.KV/Put")
            request = put_request(b"k%d-%d" % (conn, slot), value)
            while time.time() < stop:
                try:
                    put(request, timeout=30)
                    code = "OK"
                except grpc.RpcError as e:
                    code = f"{e.code().name}: {e.details()[:60]}"
                with lock:
                    outcomes[code] += 1

        opts = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20),
                ("grpc.use_local_subchannel_pool", 1)]
        conns = [grpc.insecure_channel(server.endpoint, options=opts + [("grpc.channel_id", i)])
                 for i in range(args.conns)]
        threads = [threading.Thread(target=worker, args=(c, s), daemon=True)
                   for c in range(args.conns) for s in range(args.inflight)]
        for t in threads:
            t.start()
        while time.time() < stop:
            peak[0] = max(peak[0], rss_mib(server.proc.pid))
            anon[0] = max(anon[0], rss_mib(server.proc.pid, "RssAnon"))
            time.sleep(0.2)
        for t in threads:
            t.join(40)
        peak[0] = max(peak[0], rss_mib(server.proc.pid))
        for c in conns:
            c.close()
        time.sleep(3)
        return dict(base=base, peak=peak[0], anon=anon[0], after=rss_mib(server.proc.pid), outcomes=dict(outcomes),
                    alive=server.alive())
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--inflight", type=int, default=256)
    p.add_argument("--value", type=int, default=1_500_000)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--only", choices=["ours", "reference"], default=None)
    args = p.parse_args()
    side_by_side(args, "big-requests-", run, lambda r: (
        f"{args.conns} conns x {args.inflight} puts x {args.value} B in flight: "
        f"RSS before {r['base']:.0f} MiB, peak {r['peak']:.0f} MiB (anonymous {r['anon']:.0f}), "
        f"3 s after {r['after']:.0f} MiB; alive {r['alive']}; {r['outcomes']}"))


if __name__ == "__main__":
    main()
