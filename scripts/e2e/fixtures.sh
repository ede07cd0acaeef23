#!/usr/bin/env bash
# Makes the certificates etcd 3.4's e2e suite expects in
# tests/integration/fixtures (Debian's golang-etcd-server-dev leaves them
# out): a CA, server{,2,3} (CN example.com, example2.com and none; SANs
# localhost and 127.0.0.1), a revoked server certificate with its CRL, and
# the self-signed CommonName-root pair (CN root, its own CA).
# Usage: fixtures.sh DIR   (does nothing when DIR/ca.crt exists)
set -euo pipefail
dir=$1
[ -f "$dir/ca.crt" ] && exit 0
mkdir -p "$dir/db"
cd "$dir"
: > db/index.txt
echo 1000 > db/serial
echo 1000 > db/crlnumber
cat > openssl.cnf <<CNF
[ca]
default_ca = ca_default
[ca_default]
dir = $dir
database = \$dir/db/index.txt
serial = \$dir/db/serial
crlnumber = \$dir/db/crlnumber
new_certs_dir = \$dir/db
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
default_md = sha256
default_crl_days = 3650
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[root_cn]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
ssl() { openssl "$@" 2>/dev/null; }
ssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
    -subj "/O=etcd/CN=ca" -config openssl.cnf -extensions ca_ext
serial=4096
leaf() { # name subject
    ssl req -newkey rsa:2048 -nodes -keyout "$1.key.insecure" -out "$1.csr" -subj "$2" -config openssl.cnf
    serial=$((serial + 1))
    ssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "$serial" -days 3650 -sha256 \
        -extfile openssl.cnf -extensions leaf -out "$1.crt"
}
leaf server "/O=etcd/CN=example.com"
leaf server2 "/O=etcd/CN=example2.com"
leaf server3 "/O=etcd"
leaf server-revoked "/O=etcd/CN=example.com"
ssl ca -config openssl.cnf -revoke server-revoked.crt
ssl ca -config openssl.cnf -gencrl -out revoke.crl.pem
openssl crl -in revoke.crl.pem -outform DER -out revoke.crl 2>/dev/null
cp revoke.crl.pem revoke.crl
ssl req -x509 -newkey rsa:2048 -nodes -keyout CommonName-root.key -out CommonName-root.crt -days 3650 \
    -subj "/O=etcd/CN=root" -config openssl.cnf -extensions root_cn
rm -f ./*.csr
