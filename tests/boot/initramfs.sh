#!/usr/bin/env bash
# Builds mote boot's test initramfs: busybox-static and tests/boot/init,
# nothing downloaded. Usage: tests/boot/initramfs.sh OUT.cpio.gz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: tests/boot/initramfs.sh OUT.cpio.gz}
bb=$(command -v busybox) || { echo "busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,proc,dev}
cp "$bb" "$work/bin/busybox"
install -m 0755 "$here/init" "$work/init"
(cd "$work" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
