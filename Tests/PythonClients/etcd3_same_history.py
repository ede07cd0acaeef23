"""Writes one fixed history through python etcd3 (grpcio) and streams a
snapshot of it: puts, overwrites, a delete, a range delete, a transaction,
a key of 600 bytes, a lease with a fixed ID and a key on it, a physical
compaction, and changes after it. Run against etcd 3.5.1 and swift-etcd,
the two snapshots are compared entry by entry.
Usage: etcd3_same_history.py PORT SNAPSHOT_FILE; prints "history ok REVISION"."""
import etcd3, sys
c = etcd3.client(host='127.0.0.1', port=int(sys.argv[1]))
for i in range(50):
    c.put('h/%02d' % i, 'v%d' % i)
for i in range(0, 50, 3):
    c.put('h/%02d' % i, 'again%d' % i)
c.delete('h/07')
c.delete_prefix('h/4')
c.transaction(compare=[c.transactions.value('h/00') == 'again0'],
              success=[c.transactions.put('t/ok', 'yes'), c.transactions.delete('h/01')], failure=[])
c.put('L' * 600, 'long key')
lease = c.lease(3600, lease_id=0x1234)
c.put('leased', 'x', lease=lease)
revision = c.get('leased')[1].mod_revision
c.compact(revision - 5, physical=True)
c.put('after', 'compaction')
c.delete('h/02')
with open(sys.argv[2], 'wb') as f:
    c.snapshot(f)
print('history ok', c.get('after')[1].mod_revision)
