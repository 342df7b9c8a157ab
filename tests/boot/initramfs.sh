#!/usr/bin/env bash
# Builds mote boot's test initramfs: busybox-static and tests/boot/init,
# nothing downloaded; with MODULES (a dir of NAME.ko files and their load
# order in MODULES/order, as tests/vm/image.sh leaves in $O/vm/guest-modules),
# those modules too, for init to load.
# Usage: tests/boot/initramfs.sh OUT.cpio.gz [MODULES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: tests/boot/initramfs.sh OUT.cpio.gz [MODULES]}
mods=${2:-}
bb=$(command -v busybox) || { echo "busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,proc,dev,lib/modules}
cp "$bb" "$work/bin/busybox"
install -m 0755 "$here/init" "$work/init"
if [ -n "$mods" ]; then
	[ -f "$mods/order" ] || { echo "$mods/order is missing (tests/vm/image.sh makes it)" >&2; exit 1; }
	mkdir -p "$work/lib/modules" "$work/sys"
	while read -r m; do cp "$mods/$m.ko" "$work/lib/modules/"; done <"$mods/order"
	cp "$mods/order" "$work/modules.order"
fi
(cd "$work" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
