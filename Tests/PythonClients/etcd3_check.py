"""Drives swift-etcd through Python's etcd3 package, i.e. through grpcio's
C-core HTTP/2 stack (stricter than Go's): KV, prefix reads, txn, watch, lease,
status. Usage: etcd3_check.py PORT; exits non-zero on the first difference."""
import etcd3, threading, time, sys
c = etcd3.client(host='127.0.0.1', port=int(sys.argv[1]))
c.put('py/a', '1')
v, meta = c.get('py/a')
assert v == b'1', v
c.put('py/b', '2')
got = sorted(k.key for _, k in c.get_prefix('py/'))
assert got == [b'py/a', b'py/b'], got
ok, _ = c.transaction(compare=[c.transactions.value('py/a') == '1'], success=[c.transactions.put('py/c', '3')], failure=[])
assert ok
events = []
it, cancel = c.watch_prefix('py/')
def w():
    for e in it:
        events.append(e); 
        if len(events) >= 2: break
t = threading.Thread(target=w); t.start()
time.sleep(0.5)
c.put('py/x', 'y'); c.delete('py/x')
t.join(5); cancel()
assert len(events) == 2, events
lease = c.lease(5)
c.put('py/l', 'v', lease=lease)
assert lease.remaining_ttl > 0
lease.refresh(); lease.revoke()
assert c.get('py/l')[0] is None
st = c.status()
print("python etcd3 (grpcio C-core) ok; leader", st.leader.id, "version", st.version)
