"""python-etcd3's own snapshot test, against swift-etcd: stream a snapshot
through grpcio into a file, then `etcdctl snapshot status` on it (it must
be an etcd backend file). Usage: etcd3_snapshot.py PORT ETCDCTL...; prints
each etcdctl's status and "python etcd3 snapshot ok"."""
import etcd3, json, subprocess, sys, tempfile
c = etcd3.client(host='127.0.0.1', port=int(sys.argv[1]))
for i in range(100):
    c.put('snap/%03d' % i, 'v' * i)
revision = c.get('snap/099')[1].mod_revision  # the last write's
with tempfile.NamedTemporaryFile() as f:
    c.snapshot(f)
    f.flush()
    for ctl in sys.argv[2:]:
        out = subprocess.run([ctl, 'snapshot', 'status', f.name, '-w', 'json'], env={'ETCDCTL_API': '3'},
                             capture_output=True, text=True, check=True).stdout
        status = json.loads(out.strip().splitlines()[0])
        assert status['revision'] == revision, (ctl, status, revision)
        assert status['totalKey'] >= 100, status
        print(ctl, out.strip())
print("python etcd3 snapshot ok")
