"""Defects the fuzzer already knows about (issue 18's list), so a run finds the
next one instead of the same one again. Each entry is removed once its fix lands.

mode "skip": the request is not sent (it would crash ours, wedge the cluster or
make the two stores diverge); "tolerate": sent, and a code difference is counted
but does not fail the run.
"""
import re


def _ranges(node):
    return [n for n in node.walk() if n.message.name == "RangeRequest"]


def _int(node, name):
    entry = node.field(name)
    return entry[3] if entry and entry[1] == "int" else None


def reference_sort_crash(method, nodes):
    """etcd 3.5.1 itself panics (sort.Sort of nil) on a Range whose sort target is unknown while
    the order is ASCEND/DESCEND or NONE (NONE sorts ascending for a target other than KEY)."""
    for n in nodes:
        for r in _ranges(n):
            if any(e[1] == "raw" for e in r.entries):
                return True  # damage may set either field
            order, target = _int(r, "sort_order") or 0, _int(r, "sort_target") or 0
            if not 0 <= target <= 4 and 0 <= order <= 2:
                return True
    return False


def reference_alarm_crash(method, nodes):
    """etcd 3.5.1 panics (nil response) on an Alarm whose action is not GET, ACTIVATE or DEACTIVATE."""
    if method.name != "Alarm":
        return False
    if any(e[1] == "raw" for e in nodes[0].entries):
        return True  # damage may set the action
    action = _int(nodes[0], "action")
    return action is not None and not 0 <= action <= 2


def downgrade_enable_cancel(method, nodes):
    """Downgrade ENABLE (1) or CANCEL (2): etcd 3.5.1 applies the change but never answers it (its
    proposer waits until "request timed out"); ours answers once it is applied. Invalid targets, a job
    in progress, nothing to cancel and VALIDATE are compared."""
    if method.name != "Downgrade":
        return False
    return any(e[0] == 1 and e[1] == "int" and e[3] in (1, 2) for n in nodes for e in n.entries)


def reference_alarm_type_crash(method, nodes):
    """etcd 3.5.1 panics while applying an ACTIVATE of an alarm type it does not know
    ("unimplemented alarm activation"): the entry is committed, so the whole cluster dies."""
    if method.name != "Alarm":
        return False
    if any(e[1] == "raw" for e in nodes[0].entries):
        return True
    if _int(nodes[0], "action") != 1:
        return False
    alarm = _int(nodes[0], "alarm")
    return alarm is not None and not 0 <= alarm <= 2


def invalid_utf8_string(method, nodes):
    """A proto3 string field holding invalid UTF-8: ours refuses the request (INTERNAL "error
    unmarshalling", as grpc-go's own decoder would); etcd 3.5.1's gogo decoder takes the bytes."""
    for n in nodes:
        for m in n.walk():
            strings = {f.number for f in m.message.fields if f.type_name == "string"}
            for number, kind, _, payload in m.entries:
                if number in strings and kind == "bytes":
                    try:
                        payload.decode("utf-8")
                    except UnicodeDecodeError:
                        return True
    return False


def password_with_nul(method, nodes):
    """UserAdd/UserChangePassword whose password holds a NUL byte: ours refuses it (the bcrypt
    package we use ends a password at a NUL and would hash it short); etcd 3.5.1 takes it.
    Skipped: the user stores would then differ."""
    if method.name not in ("UserAdd", "UserChangePassword"):
        return False
    for n in nodes:
        number = next((f.number for f in n.message.fields if f.name == "password"), None)
        if any(e[0] == number and e[1] == "bytes" and b"\x00" in e[3] for e in n.entries):
            return True
    return False


def member_update_urls(method, nodes):
    """MemberUpdate peer URLs: ours checks them as MemberAdd's ("given member URLs are invalid",
    issue 18); etcd 3.5.1 stores whatever MemberUpdate gives it."""
    if method.name != "MemberUpdate":
        return False
    for n in nodes:
        number = next(f.number for f in n.message.fields if f.name == "peerURLs")
        urls = [e for e in n.entries if e[0] == number]
        if not urls or any(e[1] != "bytes" or not re.fullmatch(rb"http://127\.0\.0\.1:\d{5}", e[3]) for e in urls):
            return True
    return False


def gateway_negative_filter(method, nodes):
    """A Watch filter (repeated enum) below 0 through the gateway: etcd 3.5.1's grpc-gateway
    re-encodes it as bytes its own server cannot decode (INTERNAL "illegal tag 0", HTTP 500);
    over gRPC both take it, and so does our gateway."""
    if method.name != "Watch":
        return False
    for n in nodes:
        for m in n.walk():
            if m.message.name == "WatchCreateRequest":
                number = next(f.number for f in m.message.fields if f.name == "filters")
                if any(e[0] == number and e[1] == "int" and e[3] < 0 for e in m.entries):
                    return True
    return False


def reference_auth_key_crash(method, nodes):
    """etcd 3.5.1 exits (fatal "key too large" from bbolt, in apply) on a user or role name
    over bbolt's 32 KiB key limit: the entry is committed, so the whole cluster dies."""
    return method.service == "Auth" and any(e[1] == "bytes" and len(e[3]) > 32000
                                            for n in nodes for m in n.walk() for e in m.entries)


AUTH_READS = {"AuthStatus", "Authenticate", "UserGet", "UserList", "RoleGet", "RoleList"}


KNOWN = [
    ("etcd 3.5.1 exits in apply: a user or role name over 32 KiB", "skip", reference_auth_key_crash),
    ("etcd 3.5.1 panics in apply: activating an unknown alarm type", "skip", reference_alarm_type_crash),
    ("etcd 3.5.1 never answers a Downgrade ENABLE/CANCEL it applied", "tolerate", downgrade_enable_cancel),
    ("etcd 3.5.1 panics: unknown sort target", "ours-only", lambda m, n: m.name == "Range" and reference_sort_crash(m, n)),
    ("etcd 3.5.1 panics: unknown sort target (in a Txn)", "skip", lambda m, n: m.name != "Range" and reference_sort_crash(m, n)),
    ("etcd 3.5.1 panics: unknown alarm action", "ours-only", reference_alarm_crash),
    ("proto3 string with invalid UTF-8 in an Auth change: refused by ours, taken by etcd 3.5.1 (the user and "
     "role stores would then differ)", "skip", lambda m, n: m.service == "Auth" and m.name not in AUTH_READS and invalid_utf8_string(m, n)),
    ("proto3 string with invalid UTF-8: refused by ours, taken by etcd 3.5.1", "tolerate", invalid_utf8_string),
    ("a NUL byte in a password: refused by ours (our bcrypt package would cut it), taken by etcd 3.5.1",
     "skip", password_with_nul),
    ("MemberUpdate peer URLs validated by ours, not by etcd 3.5.1", "tolerate", member_update_urls),
    ("etcd 3.5.1's gateway cannot pass a negative Watch filter to its server", "tolerate", gateway_negative_filter),
]


# Names of entries to ignore (api_fuzz.py --include-known ignores issue 18's, to show the
# harness finds them or to check their fixes).
IGNORED = set()


def match(method, nodes, mode):
    return next((name for name, m, predicate in KNOWN
                 if m == mode and name not in IGNORED and predicate(method, nodes)), None)


# Gateway differences accepted with a reason: (name, predicate(method, damage, ours, reference)).
GATEWAY_ACCEPTED = [
    ("JSON nested deeper than 392 levels (room for a txn nested 128 deep): ours refuses it (400); "
     "etcd's Go decoder skips unknown fields up to 10000 levels", lambda m, d, o, r: "not a message" in d and o.startswith("HTTP 400")),
    ("a JSON array for a bytes field: etcd's Go decoder takes [] or [n, ...] as bytes; ours wants base64",
     lambda m, d, o, r: "wrong value" in d and o.startswith("HTTP 400")),
    ("streaming calls (Watch, LeaseKeepAlive) with an object that does not decode: etcd answers HTTP 200 and "
     "puts the error in the stream; ours refuses the whole call (HTTP 400/500)",
     lambda m, d, o, r: m.name in ("LeaseKeepAlive", "Watch") and r == "HTTP 200" and o in ("HTTP 400", "HTTP 500")),
]


def gateway_accepted(method, damage, ours, ref):
    for name in damage:
        if name.startswith("known: "):
            return name[len("known: "):]
    return next((name for name, p in GATEWAY_ACCEPTED if p(method, damage, ours, ref)), None)
