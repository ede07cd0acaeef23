"""Runs generated requests against both servers and judges the answers.

Per request: both servers get the same request (references resolved to each
server's own IDs) at the same time; the codes are compared, revisions after KV
calls too, and ours must still be running. What each server hands out (lease and
member IDs, lock and leader keys) is remembered per server; the reference's
revision steers the generator. Housekeeping undoes what would make the rest of
the run meaningless (short leases, alarms, auth, downgrade) on both servers.
"""
import time
from collections import Counter

import known
import wire
from client import Outcome
from housekeeping import Housekeeping
from message import Node, encode

BLOCKING = {"Lock", "Campaign"}
WRITES = {"Put", "DeleteRange", "Txn", "Compact", "LeaseGrant", "LeaseRevoke", "Lock", "Unlock", "Campaign",
          "Proclaim", "Resign", "Alarm", "Defragment"}
KV_METHODS = {"Range", "Put", "DeleteRange", "Txn", "Compact"}
SENTINEL_PREFIX = b"\xfe-ack/"
SENTINEL_END = b"\xfe-ack0"
SENTINEL_EVERY = 25
MAX_SIGNATURES = 40


class Side:
    """One server as the driver sees it: its client and the IDs it gave out, in order."""

    def __init__(self, label, server, client, grpc_client):
        self.label, self.server = label, server
        self.client = client  # the transport under test (gRPC or the JSON gateway)
        self.grpc = grpc_client  # set-up, housekeeping and the final checks
        self.refs = {"lease": [], "member": [], "lockkey": [], "leader": []}

    def resolve(self, kind, index):
        values = self.refs[kind]
        return values[index] if 0 <= index < len(values) else None


class Driver(Housekeeping):
    def __init__(self, schema, gen, pair, clients, grpc_clients, seed, verbose=False):
        self.schema, self.gen, self.seed, self.verbose = schema, gen, seed, verbose
        self.ours = Side("ours", pair.ours, clients[0], grpc_clients[0])
        self.ref = Side("reference", pair.ref, clients[1], grpc_clients[1])
        self.sides = (self.ours, self.ref)
        self.methods = {m.name: m for m in schema.fuzzed_methods()}
        self.stats = Counter(sent=0, housekeeping=0, skipped=0, sentinels=0, ours_only=0)
        self.tolerated, self.skipped_by, self.seconds = Counter(), Counter(), Counter()
        self.reference_hangs = Counter()  # etcd timed out where ours answered: listed, not failed
        self.differences = {}
        self.failures = []
        self.sentinels = []
        self.stopped = False
        self.incomparable = False
        self.generated = 0
        self.gateway = not hasattr(clients[0], "channel")

    # MARK: the loop

    def run(self, n):
        for i in range(n):
            if self.stopped:
                break
            self.step(i)
            if i % SENTINEL_EVERY == SENTINEL_EVERY - 1 and not self.stopped:
                self.sentinel(i)

    def step(self, i):
        self.generated = i + 1  # requests drawn so far (a replay needs exactly this many)
        method = self.gen.method()
        count = self.gen.rng.randint(1, 4) if method.client_stream else 1
        nodes = [self.gen.request(method) for _ in range(count)]
        self.sanitize(method, nodes)
        skipped = known.match(method, nodes, "skip")
        if skipped:
            self.skipped_by[skipped] += 1
            self.stats["skipped"] += 1
            return
        ours_only = known.match(method, nodes, "ours-only")
        if ours_only:
            self.skipped_by[ours_only] += 1
            self.stats["ours_only"] += 1
            out = self.send(method, nodes, sides=(self.ours,))[0]
            if not self.ours.server.alive():
                self.fail(f"CRASH: ours exited ({self.ours.server.exit_status()}) after #{i} {method.name} "
                          + " | ".join(n.describe() for n in nodes) + f" (sent to ours only); ours={out}")
            return
        if method.service == "Cluster" and method.name != "MemberList" and not self.members_agree():
            self.resync_members()
        if self.verbose:
            print(f"{i}: {method.name} " + " | ".join(n.describe() for n in nodes), flush=True)
        started = time.monotonic()
        outs = self.send(method, nodes)
        self.seconds[method.name] += time.monotonic() - started
        self.stats["sent"] += 1
        if method.name in BLOCKING and any(o.code == "DEADLINE_EXCEEDED" for o in outs):
            # A server cleans up a lock or campaign its client gave up on after the call
            # ends (etcd deletes the waiter key through its own client, sometimes well
            # after a second on a loaded machine): let that land before the next request,
            # or the next writes (sentinels too) get revisions one apart on the two servers.
            self.settle()
        self.judge(i, method, nodes, outs)
        if not self.stopped:
            self.learn(method, outs)
            self.housekeep(method, nodes, outs)

    def send(self, method, nodes, sides=None):
        complete = None
        if method.name == "Watch" and not self.gateway:
            nodes, complete = self.watch_marker(nodes)
        # Every side encodes (the gateway's JSON writers draw damage from one seeded stream each).
        bodies = {s.label: [s.client.encode(n, s.resolve) for n in nodes] for s in self.sides}
        if self.verbose and self.gateway:
            print(f"  body: {bodies['ours']!r:.600}", flush=True)
        waits = [s.client.start(method, bodies[s.label], complete=complete) for s in (sides or self.sides)]
        return [wait() for wait in waits]

    def watch_marker(self, nodes):
        """Appends a create request for a key nobody writes: etcd answers every create with
        exactly one `created` response, in order, so when the marker's arrives the stream has
        answered everything sent before it."""
        oneof = {f.number for f in nodes[0].message.fields if f.oneof}
        create_number = next(f.number for f in nodes[0].message.fields if f.name == "create_request")
        creates = sum(1 for n in nodes if [e[0] for e in n.entries if e[0] in oneof][-1:] == [create_number])
        create_field = next(f for f in nodes[0].message.fields if f.name == "create_request")
        marker_create = Node(create_field.resolved)
        marker_create.add(1, "bytes", None, b"\xfe-watch-marker")
        marker = Node(nodes[0].message)
        marker.add(create_field.number, "msg", None, marker_create)
        response = self.methods["Watch"].response

        def complete(responses):
            created = 0
            for raw in responses:
                try:
                    created += bool(self.schema.decode(response, raw).get("created"))
                except wire.WireError:
                    pass
            return created > creates
        return nodes + [marker], complete

    def call_each(self, method_name, node_for_side, metadata_for_side=None):
        """A housekeeping call, each server with its own request; returns both Outcomes."""
        method = self.methods[method_name]
        waits = []
        for s in self.sides:
            node = node_for_side(s)
            md = metadata_for_side(s) if metadata_for_side else None
            waits.append(s.grpc.start(method, [encode(node, s.resolve)], md))
        self.stats["housekeeping"] += 1
        return [wait() for wait in waits]

    # MARK: judging

    def judge(self, i, method, nodes, outs):
        ours, ref = (deadline_neutral(o) for o in outs)
        if self.verbose:
            print(f"  -> ours={ours} reference={ref}", flush=True)
        what = Lazy(lambda: f"#{i} {method.name} " + " | ".join(n.describe() for n in nodes))
        if not self.ours.server.alive():
            self.fail(f"CRASH: ours exited ({self.ours.server.exit_status()}) after {what}; ours={ours} reference={ref}")
            return
        if not self.ref.server.alive():
            print(f"fuzz-api: the reference exited after {what}; stopping the comparison there")
            self.stopped = True
            return
        if ours.code != ref.code:
            tolerated = known.match(method, nodes, "tolerate")
            if not tolerated and self.gateway:
                tolerated = known.gateway_accepted(method, self.ours.client.last_damage, ours.code, ref.code)
            if tolerated:
                self.tolerated[tolerated] += 1
                if method.name == "MemberUpdate":
                    self.resync_member_urls()  # etcd stored URLs ours refused
                return
            kind = "code"
            if ref.code in ("DEADLINE_EXCEEDED", "TIMEOUT") or ref.details.startswith("etcdserver: request timed out"):
                self.reference_hangs[(method.name, ours.code)] += 1
                if method.service == "Cluster":
                    self.resync_members()  # etcd may still apply it later; ours did or did not
                elif method.name in WRITES and ours.code not in ("DEADLINE_EXCEEDED", "TIMEOUT"):
                    # etcd may apply it later or never, ours answered: the stores can no longer be
                    # compared revision for revision, so the run ends here (not a finding).
                    print(f"fuzz-api: etcd timed out on {what} where ours answered {ours}; "
                          "the stores may differ from here, so the run ends", flush=True)
                    self.stopped = True
                    self.incomparable = True
                return
            if ours.code in ("DEADLINE_EXCEEDED", "TIMEOUT"):
                kind = "hang"
                if not self.responsive(self.ours):
                    self.fail(f"WEDGED: ours no longer answers Status after {what}")
            self.difference((kind, method.name, ours.code, ref.code), f"{what}\n      ours={ours} reference={ref}")
        elif ours.ok and method.name in KV_METHODS:
            ro, rr = (self.header_revision(method, o) for o in outs)
            if ro != rr:
                self.difference(("revision", method.name), f"{what}\n      ours rev={ro} reference rev={rr}")

    def difference(self, signature, example):
        entry = self.differences.get(signature)
        if entry:
            entry[0] += 1
            return
        self.differences[signature] = [1, example]
        if self.verbose:
            print(f"  DIFFERENCE {signature}: {example}", flush=True)
        if len(self.differences) >= MAX_SIGNATURES:
            self.fail(f"{MAX_SIGNATURES} kinds of difference; stopping")

    def fail(self, text):
        self.failures.append(text)
        print(f"  {text}", flush=True)
        if not text.startswith("DIFF"):
            self.stopped = True

    def responsive(self, side):
        out = side.grpc.call(self.methods["Status"], [b""], timeout=5)
        return out.ok

    def header_revision(self, method, outcome):
        try:
            return self.schema.decode(method.response, outcome.responses[0]).get("header", {}).get("revision", 0)
        except (wire.WireError, IndexError):
            return None

    # MARK: what the servers gave out

    def learn(self, method, outs):
        for side, out in zip(self.sides, outs):
            if not out.ok or not out.responses:
                continue
            try:
                decoded = self.schema.decode(method.response, out.responses[0])
            except wire.WireError:
                continue
            if side is self.ref and "header" in decoded:
                self.gen.state.revision = decoded["header"].get("revision", self.gen.state.revision)
            if method.name == "LeaseGrant" and decoded.get("ID"):
                side.refs["lease"].append(decoded["ID"])
            elif method.name == "MemberAdd" and decoded.get("member", {}).get("ID"):
                side.refs["member"].append(decoded["member"]["ID"])
            elif method.name == "Lock" and decoded.get("key"):
                side.refs["lockkey"].append(decoded["key"])
            elif method.name == "Campaign":
                raw = [v for number, _, v in wire.fields(out.responses[0]) if number == 2]
                if raw:
                    side.refs["leader"].append(raw[-1])
        for kind, values in self.ref.refs.items():
            self.gen.state.refs[kind] = len(values)

    # MARK: keeping the run meaningful

    def sanitize(self, method, nodes):
        """Member remove never names the member itself and member add adds learners (either
        ends the run: see finish), and no
        delete reaches the sentinel keys whose survival proves acknowledged writes stay."""
        for root in nodes:
            for node in root.walk():
                name = node.message.name
                if name == "MemberRemoveRequest":
                    node.entries = [e if not (e[1] == "ref" and e[3][0] == 0) else (e[0], "ref", "member", (10 ** 6, e[3][1]))
                                    for e in node.entries]
                elif name in ("LockRequest", "CampaignRequest"):
                    # Lease 0 makes each server grant its own 60 s session lease that expires (and
                    # deletes the key) at a moment the request sequence does not fix: use a lease
                    # of the run (long, or revoked, or unknown) instead.
                    leases = [e for e in node.entries if e[0] == 2]
                    rest = [e for e in node.entries if e[0] != 2]
                    if not leases or leases[-1][1] == "raw":
                        leases.append((2, "ref", "lease", self.gen.ref("lease", 7)))
                    number, kind, proto_type, payload = leases[-1]
                    if kind == "int" and payload == 0:
                        leases[-1] = (2, "int", "int64", 7)
                    elif kind == "ref" and payload[1] == 0:
                        leases[-1] = (2, "ref", "lease", (payload[0], 7))
                    node.entries = rest + leases
                elif name == "MemberUpdateRequest":
                    # etcd 3.5.1's MemberUpdate turns a learner into a voter in its member list
                    # (not in Raft), after which its reconfiguration checks see a voter that never
                    # started: updates name the member itself or nobody, never a learner.
                    node.entries = [e if not (e[1] == "ref" and e[3][0] != 0) else (e[0], "ref", "member", (10 ** 6, e[3][1]))
                                    for e in node.entries]
                elif name == "MemberAddRequest" and not self.int_field(node, "isLearner"):
                    # A second voter in a one-member cluster that never starts takes quorum away
                    # for good (etcd allows it): voters are added once, in finish().
                    node.entries = [e for e in node.entries if e[0] != 2] + [(2, "int", "bool", 1)]
                elif name == "DeleteRangeRequest" and covers_sentinels(node):
                    node.entries = [e for e in node.entries if e[0] not in (1, 2)]
                    node.add(1, "bytes", None, b"a")

    def settle(self, seconds=10.0):
        """Waits a second, then until both servers are at the same revision (at most
        `seconds`): a cleanup still in flight on one side shows as a revision gap."""
        time.sleep(1.0)
        node = Node(self.schema.message("etcdserverpb.RangeRequest"))
        node.add(1, "bytes", None, SENTINEL_PREFIX + b"settle")
        method = self.methods["Range"]
        deadline = time.monotonic() + seconds
        while True:
            outs = [s.grpc.call(method, [encode(node, s.resolve)]) for s in self.sides]
            revisions = [self.header_revision(method, o) for o in outs]
            if len(set(revisions)) == 1 or time.monotonic() > deadline:
                return
            time.sleep(0.1)

    def sentinel(self, i):
        key, value = SENTINEL_PREFIX + b"%08d" % i, b"v%d" % i
        node = Node(self.schema.message("etcdserverpb.PutRequest"))
        node.add(1, "bytes", None, key)
        node.add(2, "bytes", None, value)
        put = self.methods["Put"]
        ours, ref = (s.grpc.call(put, [encode(node, s.resolve)]) for s in self.sides)
        self.stats["housekeeping"] += 1
        if ours.ok:
            self.sentinels.append((key, value))
            self.stats["sentinels"] += 1
        if ours.code != ref.code:
            self.difference(("sentinel put", ours.code, ref.code), f"sentinel #{i}: ours={ours} reference={ref}")


class Lazy:
    """A description built only when a finding prints it (most requests never need one)."""
    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make

    def __str__(self):
        return self.make()

    def __format__(self, spec):
        return format(self.make(), spec)


def deadline_neutral(outcome):
    """etcd's own handler deadline can beat the client's: its UNKNOWN "context deadline
    exceeded" is the same event as the client's DEADLINE_EXCEEDED."""
    if outcome.code == "UNKNOWN" and outcome.details == "context deadline exceeded":
        return Outcome("DEADLINE_EXCEEDED", outcome.details, outcome.responses)
    return outcome


def covers_sentinels(node):
    keys = [e[3] for e in node.entries if e[0] == 1 and e[1] == "bytes"]
    ends = [e[3] for e in node.entries if e[0] == 2 and e[1] == "bytes"]
    if any(e[1] != "bytes" and e[0] in (1, 2) for e in node.entries):
        return True  # references or damage: be safe
    key = keys[-1] if keys else b""
    end = ends[-1] if ends else b""
    if end == b"":
        return key.startswith(SENTINEL_PREFIX)
    if end == b"\x00":
        return key < SENTINEL_END
    return key < SENTINEL_END and end > SENTINEL_PREFIX


__all__ = ["Driver", "Outcome", "covers_sentinels"]
