"""Drives an auth-enabled swift-etcd through Python's etcd3 package with a
user and password (python-etcd3 authenticates and sends the token in the
`token` metadata, as Patroni and tooz do). Expects user "app" (password
"apppw") with read-write on prefix "app/". Usage: etcd3_auth_check.py PORT."""
import etcd3, sys
from etcd3 import exceptions

port = int(sys.argv[1])

def client(**kw):
    c = etcd3.client(host='127.0.0.1', port=port, **kw)
    # grpcio refuses call credentials on a plaintext channel; python-etcd3
    # also sends the token as `token` metadata, which is what etcd reads.
    c.call_credentials = None
    return c

c = client(user='app', password='apppw')
c.put('app/py', 'v')
v, _ = c.get('app/py')
assert v == b'v', v
assert sorted(m.key for _, m in c.get_prefix('app/')) == [b'app/py'], 'prefix read'
try:
    c.get('outside')
    raise AssertionError('read outside the prefix was allowed')
except Exception as e:  # grpc PERMISSION_DENIED surfaces as a grpc error
    assert 'permission denied' in str(e), e
try:
    client(user='app', password='wrong').get('app/py')
    raise AssertionError('a wrong password was accepted')
except Exception as e:
    assert 'authentication failed' in str(e), e
anonymous = client()
try:
    anonymous.get('app/py')
    raise AssertionError('a request without a token was served')
except Exception as e:
    assert 'user name is empty' in str(e), e
print('python etcd3 auth ok')
