#!/usr/bin/env bash
# Provides a real Asterisk 22 for the integration tests: a Debian sid chroot made with debootstrap.
# Bookworm has no asterisk package; sid does. The chroot is cached outside the work tree
# (ASTERISK_CHROOT, default /var/cache/asterisk-gateway/sid) so later runs reuse it.
# The mirror is read from this machine's apt sources, so no host name is written into the repo.
set -euo pipefail
ROOT="${ASTERISK_CHROOT:-/var/cache/asterisk-gateway/sid}"

if [ -x "$ROOT/usr/sbin/asterisk" ] && [ -f "$ROOT/.provisioned" ]; then
  echo "asterisk chroot ready at $ROOT"; exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "provision.sh: root is needed for debootstrap/chroot" >&2; exit 3; fi

if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq || true
  apt-get install -y -qq debootstrap >/dev/null
fi

mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk '/^URIs:/ {print $2}' "$f" | grep -v -- '-security' | grep '/debian/*$' | head -n1 || true)
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "provision.sh: no Debian mirror found in /etc/apt sources" >&2; exit 4; }

rm -rf "$ROOT"; mkdir -p "$(dirname "$ROOT")"
echo "debootstrap sid into $ROOT (takes a few minutes)"
debootstrap --variant=minbase --include=asterisk,asterisk-modules,asterisk-config sid "$ROOT" "$mirror" >"$ROOT.log" 2>&1 \
  || { tail -n 30 "$ROOT.log" >&2; exit 5; }
# A pristine copy of the packaged configs: the test bed restores from it, and the config-store corpus test reads it.
cp -a "$ROOT/etc/asterisk" "$ROOT/etc/asterisk.dist"
touch "$ROOT/.provisioned"
echo "asterisk chroot ready at $ROOT"
