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


def range_limit_overflow(method, nodes):
    """Issue 18 item 1/2: `limit + 1` traps for limit = Int64.max (also inside a Txn)."""
    return any(_int(r, "limit") == (1 << 63) - 1 for n in nodes for r in _ranges(n))


def txn_nesting(method, nodes):
    """Issue 18 item 4: deep Txn nesting is committed, then skipped by the applier."""
    return method.name == "Txn" and any(n.depth() >= 40 for n in nodes)


def member_urls(method, nodes):
    """Issue 18 item 5: malformed or missing peer URLs are accepted (and can wedge the cluster)."""
    if method.name not in ("MemberAdd", "MemberUpdate"):
        return False
    for n in nodes:
        number = next(f.number for f in n.message.fields if f.name == "peerURLs")
        urls = [e for e in n.entries if e[0] == number]
        if not urls or any(e[1] != "bytes" or not re.fullmatch(rb"http://127\.0\.0\.1:\d{5}", e[3]) for e in urls):
            return True
    return False


def compare_unknown_enum(method, nodes):
    """Issue 18 item 8: a Txn compare with an unknown target or result (etcd: succeeded)."""
    for n in nodes:
        for c in n.walk():
            if c.message.name == "Compare":
                result, target = _int(c, "result"), _int(c, "target")
                if (result is not None and not 0 <= result <= 3) or (target is not None and not 0 <= target <= 4):
                    return True
    return False


def progress_without_watchers(method, nodes):
    """Issue 18 item 8: a progress request with no watchers (etcd answers watch_id -1)."""
    return method.name == "Watch"


def auth_unimplemented(method, nodes):
    """Users and roles are not built yet (auth's own issue): UNIMPLEMENTED where etcd answers."""
    return method.service == "Auth"


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


def downgrade_unimplemented(method, nodes):
    """swift-etcd has no Downgrade RPC (UNIMPLEMENTED); etcd 3.5 validates, enables, cancels."""
    return method.name == "Downgrade"


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


def reference_auth_key_crash(method, nodes):
    """etcd 3.5.1 exits (fatal "key too large" from bbolt, in apply) on a user or role name
    over bbolt's 32 KiB key limit: the entry is committed, so the whole cluster dies."""
    return method.service == "Auth" and any(e[1] == "bytes" and len(e[3]) > 32000
                                            for n in nodes for m in n.walk() for e in m.entries)


KNOWN = [
    ("etcd 3.5.1 exits in apply: a user or role name over 32 KiB", "skip", reference_auth_key_crash),
    ("etcd 3.5.1 panics in apply: activating an unknown alarm type", "skip", reference_alarm_type_crash),
    ("Downgrade not implemented", "tolerate", downgrade_unimplemented),
    ("etcd 3.5.1 panics: unknown sort target", "ours-only", lambda m, n: m.name == "Range" and reference_sort_crash(m, n)),
    ("etcd 3.5.1 panics: unknown sort target (in a Txn)", "skip", lambda m, n: m.name != "Range" and reference_sort_crash(m, n)),
    ("etcd 3.5.1 panics: unknown alarm action", "ours-only", reference_alarm_crash),
    ("users and roles not built yet", "tolerate", auth_unimplemented),
    ("18.1 range limit overflow", "skip", range_limit_overflow),
    ("18.4 deep txn nesting", "skip", txn_nesting),
    ("18.5 member URL validation", "skip", member_urls),
    ("18.8 compare unknown enum", "skip", compare_unknown_enum),
    ("18.8 watch progress without watchers", "tolerate", progress_without_watchers),
]


# Names of entries to ignore (api_fuzz.py --include-known ignores issue 18's, to show the
# harness finds them or to check their fixes).
IGNORED = set()


def match(method, nodes, mode):
    return next((name for name, m, predicate in KNOWN
                 if m == mode and name not in IGNORED and predicate(method, nodes)), None)


# Gateway differences accepted with a reason: (name, predicate(method, damage, ours, reference)).
GATEWAY_ACCEPTED = [
    ("JSON nested deeper than 200 levels: ours refuses it (400); etcd's Go decoder skips unknown "
     "fields up to 10000 levels", lambda m, d, o, r: "not a message" in d and o.startswith("HTTP 400")),
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
