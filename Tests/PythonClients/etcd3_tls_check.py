"""Python's etcd3 package (grpcio C-core) over mutual TLS: put, get, a watch
event. Usage: etcd3_tls_check.py PORT CA CERT KEY (CERT and KEY "-": no
client certificate); exits non-zero on failure."""
import etcd3, sys, threading, time
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if cert == '-':
    cert = key = None
c = etcd3.client(host='127.0.0.1', port=port, ca_cert=ca, cert_cert=cert, cert_key=key, timeout=10)
c.put('pytls/a', '1')
v, _ = c.get('pytls/a')
assert v == b'1', v
events = []
it, cancel = c.watch_prefix('pytls/')
def w():
    for e in it:
        events.append(e)
        break
t = threading.Thread(target=w); t.start()
time.sleep(0.5)
c.put('pytls/b', '2')
t.join(5); cancel()
assert len(events) == 1 and events[0].value == b'2', events
print('ok')
