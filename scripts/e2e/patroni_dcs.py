"""Patroni's etcd3 DCS (patroni.dcs.etcd3.Etcd3, the /v3 JSON gateway) driven
directly, without PostgreSQL: two Patroni nodes of one cluster do what their
HA loops do (initialize race, touch_member, leader race, update_leader,
watch, delete_leader, config/failover/sync/history/status keys, a leader
lease that expires) and every outcome is printed as one line "step: value".
Run it against swift-etcd and etcd 3.5.1 and compare the lines
(scripts/e2e/patroni.sh does both and fails on any difference).

    python patroni_dcs.py --hosts 127.0.0.1:2379,... [--user root --password x]
                          [--cacert ca.pem --cert c.pem --key k.pem] [--scope s]
"""
import argparse
import json
import logging
import sys
import time
import threading

from patroni.dcs import get_dcs


def make_node(args, name):
    etcd3 = {'hosts': args.hosts.split(','), 'protocol': 'https' if args.cacert else 'http'}
    if args.user:
        etcd3.update(username=args.user, password=args.password)
    if args.cacert:
        etcd3['cacert'] = args.cacert
    if args.cert:
        etcd3.update(cert=args.cert, key=args.key)
    return get_dcs({'scope': args.scope, 'namespace': '/service/', 'name': name, 'ttl': args.ttl,
                    'loop_wait': 1, 'retry_timeout': 10, 'etcd3': etcd3})


def wait_for(what, predicate, seconds=60.0):
    """Polls predicate until it holds; None on success, else the failure text."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return None
        time.sleep(0.1)
    return 'timed out waiting for ' + what


def summary(cluster):
    return {
        'initialize': cluster.initialize,
        'leader': cluster.leader and cluster.leader.name,
        'members': sorted(m.name for m in cluster.members),
        'config': cluster.config and cluster.config.data,
        'failover': cluster.failover and [cluster.failover.leader, cluster.failover.candidate],
        'sync': cluster.sync and [cluster.sync.leader, sorted(cluster.sync.members)],
        'history': cluster.history and cluster.history.lines,
        'last_lsn': cluster.status.last_lsn,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hosts', required=True)
    ap.add_argument('--user')
    ap.add_argument('--password')
    ap.add_argument('--cacert')
    ap.add_argument('--cert')
    ap.add_argument('--key')
    ap.add_argument('--scope', default='demo')
    ap.add_argument('--ttl', type=int, default=4)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format='%(asctime)s %(threadName)s %(levelname)s %(message)s')

    def out(step, value):
        # Identities and terms differ between servers and cluster sizes; revisions must not.
        def scrub(v):
            if isinstance(v, dict):
                return {k: scrub(x) for k, x in v.items() if k not in ('cluster_id', 'member_id', 'raft_term')}
            if isinstance(v, list):
                return [scrub(x) for x in v]
            return v
        print('%s: %s' % (step, json.dumps(scrub(value), sort_keys=True)), flush=True)

    a = make_node(args, 'a')
    b = make_node(args, 'b')
    out('leases', [a._lease is not None, b._lease is not None])
    out('initialize a', a.initialize(create_new=True, sysid='7000000000000000001'))
    out('initialize b', b.initialize(create_new=True, sysid='7000000000000000002'))
    out('touch a', a.touch_member({'conn_url': 'postgres://a:5432/postgres', 'api_url': 'http://a:8008/patroni',
                                   'state': 'running', 'role': 'replica'}))
    out('touch b', b.touch_member({'conn_url': 'postgres://b:5432/postgres', 'api_url': 'http://b:8008/patroni',
                                   'state': 'running', 'role': 'replica'}))
    out('members seen by b', wait_for('b to see both members',
                                      lambda: len(b.get_cluster().members) == 2))
    # Both race for the leader key at once, as two HA loops do.
    results = {}
    threads = [threading.Thread(target=lambda n, d: results.__setitem__(n, d.attempt_to_acquire_leader()),
                                args=(n, d)) for n, d in (('a', a), ('b', b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out('race winners', sum(1 for won in results.values() if won))
    leader, follower = (a, b) if results.get('a') else (b, a)
    leader_name = 'a' if leader is a else 'b'
    out('leader seen by follower', wait_for('the follower to see the leader',
                                            lambda: follower.get_cluster().leader is not None
                                            and follower.get_cluster().leader.name == leader_name) is None)
    out('follower attempt while held', follower.attempt_to_acquire_leader())
    cluster = leader.get_cluster()
    out('update_leader', leader.update_leader(cluster, 50331648, slots={'s1': 1}, failsafe={'a': 'x'}))
    out('set_config', leader.set_config_value(json.dumps({'ttl': args.ttl, 'loop_wait': 1}),
                                              leader.get_cluster().config and
                                              leader.get_cluster().config.version))
    out('follower sees config', wait_for('the follower to see the config',
                                         lambda: follower.get_cluster().config is not None))
    out('stale config version', follower.set_config_value('{"ttl": 99}', '1'))
    out('set_failover', leader.set_failover_value(json.dumps({'leader': leader_name, 'member': 'x'})))
    out('set_history', leader.set_history_value(json.dumps([[1, 25165984, 'no recovery target specified']])))
    out('set_sync', bool(leader.set_sync_state_value(json.dumps({'leader': leader_name,
                                                                  'sync_standby': 'x'}))))
    out('write_leader_optime', leader.write_leader_optime(67108864) is None)
    out('follower sees optime', wait_for('the follower to see the leader optime',
                                         lambda: follower.get_cluster().status.last_lsn == 67108864))
    view = summary(follower.get_cluster())
    view['leader'] = view['leader'] == leader_name
    view['failover'] = view['failover'] and view['failover'][0] == leader_name
    view['sync'] = view['sync'] and view['sync'][0] == leader_name
    out('cluster as follower sees it', view)
    # The follower's HA loop sleeps in watch(); the leader's key changing must wake it early.
    woke = {}
    watcher = threading.Thread(target=lambda: woke.__setitem__('v', follower.watch(None, 30)))
    watcher.start()
    time.sleep(0.5)
    out('delete_leader', leader.delete_leader(leader.get_cluster().leader, 83886080))
    watcher.join(40)
    out('watch woke on leader delete', woke.get('v'))
    out('follower takes over', follower.attempt_to_acquire_leader())
    out('leader seen by old leader', wait_for('the old leader to see the new one',
                                              lambda: leader.get_cluster().leader is not None
                                              and leader.get_cluster().leader.name != leader_name) is None)
    # The new leader stops refreshing its lease (a dead node): its key must go when the lease
    # expires and the other node's watch must see it.
    new_leader, new_follower = follower, leader
    out('new leader update_leader', new_leader.update_leader(new_leader.get_cluster(), 100663296))
    new_leader._client._kv_cache.kill_stream()
    out('leader key expires', wait_for('the leader key to expire with its lease',
                                       lambda: (new_follower.touch_member({'state': 'running'}) and
                                                new_follower.get_cluster().leader is None),
                                       seconds=args.ttl * 10))
    out('old leader takes back', new_follower.attempt_to_acquire_leader())
    out('delete_sync_state', new_follower.delete_sync_state())
    out('cancel_initialization', new_follower.cancel_initialization())
    out('delete_cluster', new_follower.delete_cluster())
    out('empty after delete', wait_for('an empty cluster', lambda: (
        lambda c: c.leader is None and not c.members and c.initialize is None)(new_follower.get_cluster())))


if __name__ == '__main__':
    main()
