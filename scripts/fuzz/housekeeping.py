"""The driver's set-up, its clean-ups after dangerous requests, and the end-of-run checks.

Dangerous RPCs are fuzzed like any other, then undone on both servers so the rest
of the run still compares something: a short lease is revoked at once (its expiry
would race the request sequence differently on each server), raised alarms are
disarmed, auth is switched off again with root's token, a downgrade is cancelled.
Removing the member itself ends a single-member cluster, so it happens once, last.
"""
import re
import time

from message import Node

SHORT_LEASE_SECONDS = 3600


class Housekeeping:
    def node(self, message_name, *entries):
        node = Node(self.schema.message(message_name))
        for entry in entries:
            node.add(*entry)
        return node

    def setup(self):
        """Waits for both to elect themselves, then learns each member's own ID (member ref 0)."""
        range_node = self.node("etcdserverpb.RangeRequest", (1, "bytes", None, b"setup"))
        deadline = time.time() + 30
        for side in self.sides:
            while True:
                out = side.grpc.call(self.methods["Range"], [bytes_of(range_node)], timeout=2)
                if out.ok:
                    break
                if time.time() > deadline:
                    raise RuntimeError(f"{side.label} never answered a Range: {out}")
                time.sleep(0.2)
            out = side.grpc.call(self.methods["MemberList"], [b""])
            decoded = self.schema.decode(self.methods["MemberList"].response, out.responses[0])
            side.refs["member"].append(decoded["header"]["member_id"])

    def housekeep(self, method, nodes, outs):
        name = method.name
        if name == "AuthEnable":
            self.disable_auth()  # whatever it answered: a timed-out enable may still apply
            return
        if not any(o.ok for o in outs):
            return
        if name in ("UserAdd", "UserChangePassword") and outs[1].ok:
            self.note_root_password(nodes[0])
        if name == "LeaseGrant":
            self.revoke_short_lease(outs)
        elif name == "Alarm" and self.int_field(nodes[0], "action") == 1:
            self.disarm_alarms()
        elif name == "Downgrade" and self.int_field(nodes[0], "action") == 1:
            self.cancel_downgrade()

    @staticmethod
    def int_field(node, name):
        entry = node.field(name)
        return entry[3] if entry and entry[1] == "int" else None

    def compare_housekeeping(self, what, outs):
        from driver import deadline_neutral
        ours, ref = (deadline_neutral(o) for o in outs)
        if ours.code != ref.code:
            self.difference(("housekeeping " + what, ours.code, ref.code), f"{what}: ours={ours} reference={ref}")

    def revoke_short_lease(self, outs):
        if self.gateway:
            self.revoke_short_leases_by_listing()
            return
        response = self.methods["LeaseGrant"].response
        ttls = [self.schema.decode(response, o.responses[0]).get("TTL", 0) if o.ok else 0 for o in outs]
        if not any(o.ok for o in outs) or max(ttls) >= SHORT_LEASE_SECONDS:
            return
        index = len(self.ref.refs["lease"]) - 1
        outs = self.call_each("LeaseRevoke", lambda s: self.node(
            "etcdserverpb.LeaseRevokeRequest", (1, "ref", "lease", (index if s.refs["lease"] else 10 ** 6, 0))))
        self.compare_housekeeping("revoke short lease", outs)

    def revoke_short_leases_by_listing(self):
        """Gateway runs learn no IDs: list each server's leases and revoke the short ones."""
        leases, ttl, revoke = (self.methods[n] for n in ("LeaseLeases", "LeaseTimeToLive", "LeaseRevoke"))
        for side in self.sides:
            out = side.grpc.call(leases, [b""])
            self.stats["housekeeping"] += 1
            for lease in self.schema.decode(leases.response, out.responses[0]).get("leases", []) if out.ok else []:
                node = self.node("etcdserverpb.LeaseTimeToLiveRequest", (1, "int", "int64", lease.get("ID", 0)))
                got = side.grpc.call(ttl, [bytes_of(node)])
                granted = self.schema.decode(ttl.response, got.responses[0]).get("grantedTTL", 0) if got.ok else 0
                if got.ok and granted < SHORT_LEASE_SECONDS:
                    node = self.node("etcdserverpb.LeaseRevokeRequest", (1, "int", "int64", lease.get("ID", 0)))
                    side.grpc.call(revoke, [bytes_of(node)])
                self.stats["housekeeping"] += 2

    def members_agree(self):
        """Both servers list the same number of learners (etcd can apply a membership change it
        timed out on much later, so this is checked before every membership request)."""
        counts = [sum(1 for m in self.members(side) if m.get("isLearner")) for side in self.sides]
        return counts[0] == counts[1]

    def resync_members(self):
        """After etcd timed out on a membership change (it may apply it later, ours answered at
        once), the member lists can differ: remove every learner on both servers, after
        waiting out etcd's pending change, and start the member references again from self."""
        time.sleep(2)
        remove = self.methods["MemberRemove"]
        for side in self.sides:
            for m in self.members(side):
                if m.get("isLearner"):
                    node = self.node("etcdserverpb.MemberRemoveRequest", (1, "int", "uint64", m.get("ID", 0)))
                    side.grpc.call(remove, [bytes_of(node)])
                    self.stats["housekeeping"] += 1
            side.refs["member"] = side.refs["member"][:1]
        self.gen.state.refs["member"] = 1

    def members(self, side):
        """The members `side` lists (none when MemberList fails)."""
        member_list = self.methods["MemberList"]
        out = side.grpc.call(member_list, [b""])
        self.stats["housekeeping"] += 1
        return self.schema.decode(member_list.response, out.responses[0]).get("members", []) if out.ok else []

    def member_urls(self, side):
        """{member ID: peer URLs} as `side` lists them."""
        return {m.get("ID", 0): m.get("peerURLs", []) for m in self.members(side)}

    def resync_member_urls(self):
        """After a MemberUpdate etcd took and ours refused (ours validates the URLs), gives each
        of etcd's referenced members back the peer URLs its counterpart has on ours, so a later
        MemberAdd of a URL is a conflict on both or on neither."""
        ours, ref = self.member_urls(self.ours), self.member_urls(self.ref)
        update = self.methods["MemberUpdate"]
        for ours_id, ref_id in zip(self.ours.refs["member"], self.ref.refs["member"]):
            urls = ours.get(ours_id)
            if urls is None or ref_id not in ref or sorted(ref[ref_id]) == sorted(urls):
                continue
            entries = [(1, "int", "uint64", ref_id)] + [(2, "bytes", None, u.encode()) for u in urls]
            self.ref.grpc.call(update, [bytes_of(self.node("etcdserverpb.MemberUpdateRequest", *entries))])
            self.stats["housekeeping"] += 1

    def disarm_alarms(self):
        alarm = self.methods["Alarm"]
        for side in self.sides:
            out = side.grpc.call(alarm, [b""])
            self.stats["housekeeping"] += 1
            alarms = self.schema.decode(alarm.response, out.responses[0]).get("alarms", []) if out.ok else []
            for a in alarms:
                node = self.node("etcdserverpb.AlarmRequest", (1, "int", "int32", 2),
                                 (2, "int", "uint64", a.get("memberID", 0)), (3, "int", "int32", a.get("alarm", 0)))
                out = side.grpc.call(alarm, [bytes_of(node)])
                self.stats["housekeeping"] += 1
                if not out.ok:
                    self.difference(("housekeeping alarm deactivate", side.label, out.code), repr(out))

    def note_root_password(self, node):
        """Remembers the password root was last given (etcd kept it), for disable_auth."""
        names = [e[3] for e in node.entries if e[0] == 1 and e[1] == "bytes"]
        passwords = [e[3] for e in node.entries if e[0] == 2 and e[1] == "bytes"]
        if names and names[-1] == b"root":
            self.root_passwords = [passwords[-1] if passwords else b""] + getattr(self, "root_passwords", [])[:3]

    def disable_auth(self):
        """Authenticates as root with the passwords root was given (or the generator's pool),
        then disables auth. A run whose root password is unknown stops there."""
        from gen import PASSWORDS
        time.sleep(0.5)
        if not any(self.auth_enabled(s) for s in self.sides):
            return
        for side in self.sides:
            for password in getattr(self, "root_passwords", []) + PASSWORDS:
                auth = self.node("etcdserverpb.AuthenticateRequest", (1, "bytes", None, b"root"),
                                 (2, "bytes", None, password))
                out = side.grpc.call(self.methods["Authenticate"], [bytes_of(auth)])
                self.stats["housekeeping"] += 1
                if not out.ok:
                    continue
                token = self.schema.decode(self.methods["Authenticate"].response, out.responses[0]).get("token", "")
                out = side.grpc.call(self.methods["AuthDisable"], [b""], metadata=(("token", token),))
                self.stats["housekeeping"] += 1
                if out.ok:
                    break
        states = [self.auth_enabled(s) for s in self.sides]
        if any(states):
            # Not a finding: root's password was set to something the run did not keep (a hashed
            # password, say). Nothing after this compares, so the run ends (sentinels still checked).
            print(f"fuzz-api: auth stays enabled (ours={states[0]} reference={states[1]}): root's password is "
                  "not one the generator knows; the run ends here")
            self.stopped = True
            self.incomparable = True

    def auth_enabled(self, side):
        """A plain Range without a token fails with "user name is empty" when auth is on."""
        out = side.grpc.call(self.methods["Range"], [bytes_of(self.node("etcdserverpb.RangeRequest",
                                                                          (1, "bytes", None, b"a")))])
        return "user name is empty" in out.details

    def cancel_downgrade(self):
        outs = self.call_each("Downgrade", lambda s: self.node("etcdserverpb.DowngradeRequest", (1, "int", "int32", 2)))
        # etcd 3.5.1 applies a CANCEL but never answers it (known.py: downgrade_enable_cancel).
        if not (outs[0].ok and outs[1].code in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED")):
            self.compare_housekeeping("downgrade cancel", outs)

    # MARK: the end of a run

    def finish(self):
        if self.failures and self.stopped:
            return
        if not self.responsive(self.ours):
            self.fail("WEDGED: ours does not answer Status at the end of the run")
            return
        self.check_sentinels()
        if self.incomparable:
            return
        self.compare_key_space()
        outs = self.call_each("MemberRemove", lambda s: self.node(
            "etcdserverpb.MemberRemoveRequest", (1, "ref", "member", (0, 0))))
        self.compare_housekeeping("remove the member itself", outs)
        time.sleep(0.5)
        alive = [s.server.alive() for s in self.sides]
        if alive[0] != alive[1]:
            self.difference(("alive after removing itself", str(alive[0]), str(alive[1])), repr(outs))
        if not all(alive):
            return
        # A voter that never starts: both lose quorum; then a write must fail the same way on both.
        outs = self.call_each("MemberAdd", lambda s: self.node(
            "etcdserverpb.MemberAddRequest", (1, "bytes", None, b"http://127.0.0.1:9")))
        self.compare_housekeeping("add a voter that never starts", outs)
        put = self.node("etcdserverpb.PutRequest", (1, "bytes", None, b"after-quorum-loss"))
        outs = [s.grpc.call(self.methods["Put"], [bytes_of(put)], timeout=3) for s in self.sides]
        self.compare_housekeeping("put without quorum", outs)

    def all_keys(self, side, prefix=None):
        node = self.node("etcdserverpb.RangeRequest", (1, "bytes", None, prefix or b"\x00"),
                         (2, "bytes", None, prefix_end_of(prefix) if prefix else b"\x00"))
        out = side.grpc.call(self.methods["Range"], [bytes_of(node)], timeout=30)
        if not out.ok:
            return None, out
        return self.schema.decode(self.methods["Range"].response, out.responses[0]).get("kvs", []), out

    def check_sentinels(self):
        from driver import SENTINEL_PREFIX
        kvs, out = self.all_keys(self.ours, SENTINEL_PREFIX)
        if kvs is None:
            self.fail(f"cannot read the sentinel keys back from ours: {out}")
            return
        stored = {kv["key"]: kv.get("value", b"") for kv in kvs}
        lost = [(k, v) for k, v in self.sentinels if stored.get(k) != v]
        if lost:
            self.fail(f"LOST WRITES: {len(lost)} of {len(self.sentinels)} acknowledged sentinel puts are gone "
                      f"or changed, first {lost[0]!r}")

    def compare_key_space(self):
        spaces = []
        for side in self.sides:
            kvs, out = self.all_keys(side)
            if kvs is None:
                self.fail(f"cannot read the key space of {side.label}: {out}")
                return
            leases = {lease: i for i, lease in enumerate(side.refs["lease"])}
            spaces.append([(lease_neutral(kv["key"], leases), kv.get("value", b""), kv.get("create_revision", 0), kv.get("mod_revision", 0),
                            kv.get("version", 0), leases.get(kv.get("lease", 0), "other" if kv.get("lease") else 0))
                           for kv in kvs])
        ours, ref = spaces
        if ours != ref:
            only_ours = [kv for kv in ours if kv not in ref][:3]
            only_ref = [kv for kv in ref if kv not in ours][:3]
            self.fail(f"KEY SPACE DIFFERS at the end ({len(ours)} keys vs {len(ref)}): only ours {only_ours!r}, "
                      f"only reference {only_ref!r}")


def lease_neutral(key, leases):
    """Lock and election keys end in the owner's lease ID in hex, which each server picks
    itself: the suffix becomes the lease's index in the run (or "other")."""
    m = re.fullmatch(rb"(.*/)([0-9a-f]{1,16})", key, re.S)
    if not m or key.startswith(b"\xfe-ack/"):
        return key
    index = leases.get(int(m.group(2), 16))
    return m.group(1) + (b"<lease %d>" % index if index is not None else b"<lease>")


def bytes_of(node):
    from message import encode
    return encode(node)


def prefix_end_of(prefix):
    from gen import prefix_end
    return prefix_end(prefix)
