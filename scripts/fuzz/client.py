"""Raw-bytes gRPC calls with grpcio: the request is sent exactly as the fuzzer
encoded it (no client-side validation or re-encoding), and the answer comes back
as (status code name, details, [response message bytes])."""
import threading

import grpc

from message import encode

OPTIONS = [("grpc.max_send_message_length", 8 << 20), ("grpc.max_receive_message_length", 256 << 20),
           ("grpc.enable_retries", 0)]
# Calls that block by design (a held lock, a campaign that waits, a watch): a short
# deadline on both servers; both must then say DEADLINE_EXCEEDED, or both answer.
SHORT_SECONDS = {"Lock": 0.4, "Campaign": 0.4, "Observe": 0.3, "Watch": 3, "MemberPromote": 3}
LONG_SECONDS = {"Snapshot": 60, "Defragment": 60}
DEFAULT_SECONDS = 10


class Outcome:
    __slots__ = ("code", "details", "responses")

    def __init__(self, code, details="", responses=()):
        self.code, self.details, self.responses = code, details, list(responses)

    @property
    def ok(self):
        return self.code in ("OK", "HTTP 200")

    def __repr__(self):
        return f"{self.code} {self.details!r}" if self.details else self.code


def deadline(method):
    return SHORT_SECONDS.get(method.name, LONG_SECONDS.get(method.name, DEFAULT_SECONDS))


class Client:
    def __init__(self, endpoint):
        self.channel = grpc.insecure_channel(endpoint, options=OPTIONS)
        self.callables = {}

    def close(self):
        self.channel.close()

    @staticmethod
    def encode(node, resolve):
        return encode(node, resolve)

    def _callable(self, method):
        c = self.callables.get(method.path)
        if c is None:
            if method.client_stream:
                c = self.channel.stream_stream(method.path)
            elif method.server_stream:
                c = self.channel.unary_stream(method.path)
            else:
                c = self.channel.unary_unary(method.path)
            self.callables[method.path] = c
        return c

    def start(self, method, bodies, metadata=None, timeout=None, complete=None):
        """Starts a call; returns a function that waits for its Outcome. A client stream
        sends every body; a unary call sends the first. `complete(responses)` says when a
        stream that never ends by itself (Watch) has answered everything: the call is then
        cancelled and its Outcome is "OK"."""
        timeout = timeout or deadline(method)
        call = self._callable(method)
        if not method.client_stream and not method.server_stream:
            future = call.future(bodies[0], timeout=timeout, metadata=metadata)

            def wait_unary():
                try:
                    return Outcome("OK", "", [future.result()])
                except grpc.RpcError as e:
                    return Outcome(e.code().name, e.details() or "")
            return wait_unary
        done = threading.Event()
        if method.client_stream:
            # Keep a Watch open (etcd only ends it on the deadline); half-close others.
            keep_open = method.name == "Watch"
            stream = call(_requests(bodies, done if keep_open else None), timeout=timeout, metadata=metadata)
        else:
            stream = call(bodies[0], timeout=timeout, metadata=metadata)

        def wait_stream():
            got = []
            try:
                for response in stream:
                    got.append(response)
                    if complete and complete(got):
                        stream.cancel()
                        return Outcome("OK", "complete", got)
                return Outcome("OK", "", got)
            except grpc.RpcError as e:
                return Outcome(e.code().name, e.details() or "", got)
            finally:
                done.set()
        return wait_stream

    def call(self, method, bodies, metadata=None, timeout=None):
        return self.start(method, bodies, metadata, timeout)()


def _requests(bodies, done):
    """Sends `bodies`, then holds the stream half-open until `done` (the call ended)."""
    yield from bodies
    if done is not None:
        done.wait(30)
