#!/usr/bin/env bash
# Installs swift-etcd under PREFIX (`make install PREFIX=…` runs this after
# building the release binary, which carries the Swift runtime statically):
#   PREFIX/bin/swift-etcd
#   PREFIX/share/man/man1/swift-etcd.1          (its --help as a man page)
#   PREFIX/lib/systemd/system/swift-etcd.service (ExecStart = the binary above)
# Usage: scripts/install.sh PREFIX [BINARY]   (BINARY: .build/release/swift-etcd)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: scripts/install.sh PREFIX [BINARY]}
binary=${2:-.build/release/swift-etcd}
[ -x "$binary" ] || { echo "install.sh: $binary is not built (run make release)" >&2; exit 1; }
install -D -m 0755 "$binary" "$prefix/bin/swift-etcd"
mkdir -p "$prefix/share/man/man1" "$prefix/lib/systemd/system"
{
  echo '.TH SWIFT-ETCD 1 "" "swift-etcd" "User Commands"'
  echo '.nf'
  "$prefix/bin/swift-etcd" --help | sed -e 's/\\/\\\\/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
  echo '.fi'
} > "$prefix/share/man/man1/swift-etcd.1"
sed "s|@BINDIR@|$prefix/bin|" contrib/systemd/swift-etcd.service > "$prefix/lib/systemd/system/swift-etcd.service"
echo "installed $prefix/bin/swift-etcd ($("$prefix/bin/swift-etcd" --version | head -1))"
