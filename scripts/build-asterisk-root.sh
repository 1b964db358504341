#!/usr/bin/env bash
# Build (once) a Debian sid root holding Asterisk 22, used through chroot.
# Debian 12 ships no Asterisk; installing sid's straight onto it would upgrade libc.
# Usage: build-asterisk-root.sh [ROOT]   (default: $PBX_ASTERISK_ROOT or /var/lib/pbx-control/asterisk-root)
set -euo pipefail

ROOT="${1:-${PBX_ASTERISK_ROOT:-/var/lib/pbx-control/asterisk-root}}"
MARKER="$ROOT/.pbx-control-root-ready"
PACKAGES="asterisk,asterisk-modules,asterisk-core-sounds-en-gsm"

if [[ -f "$MARKER" ]]; then
    echo "asterisk root: reusing $ROOT"
    exit 0
fi

# The Debian mirror is the one this machine's apt already uses, unless given.
mirror="${PBX_DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
    mirror="$(grep -hoE '^URIs:[[:space:]]*\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null \
              | awk '{print $2}' | grep -v security | head -n1 || true)"
fi
if [[ -z "$mirror" ]]; then
    mirror="$(grep -hoE '^deb[[:space:]]+\S+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n1 || true)"
fi
if [[ -z "$mirror" ]]; then
    echo "asterisk root: no Debian mirror found; set PBX_DEBIAN_MIRROR" >&2
    exit 1
fi

command -v debootstrap >/dev/null || { echo "debootstrap missing: run make setup" >&2; exit 1; }

tmp="$ROOT.partial"
rm -rf "$tmp"
mkdir -p "$(dirname "$ROOT")"
echo "asterisk root: debootstrap sid into $tmp from $mirror (about a minute)"
debootstrap --variant=minbase --include="$PACKAGES" sid "$tmp" "$mirror"

# Asterisk runs as root inside the root (see DESIGN.md: root cannot read 0640 files of other users here).
chroot "$tmp" /usr/sbin/asterisk -V
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
touch "$MARKER"
echo "asterisk root: ready at $ROOT"
