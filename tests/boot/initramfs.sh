#!/usr/bin/env bash
# Builds mote boot's test initramfs: busybox-static, tests/boot/init and
# the kernel modules given (loaded in that order), nothing downloaded.
# Usage: tests/boot/initramfs.sh OUT.cpio.gz [MODULE.ko...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: tests/boot/initramfs.sh OUT.cpio.gz [MODULE.ko...]}
shift
bb=$(command -v busybox) || { echo "busybox is missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,proc,dev,lib/modules}
cp "$bb" "$work/bin/busybox"
install -m 0755 "$here/init" "$work/init"
for ko in "$@"; do
	cp "$ko" "$work/lib/modules/"
	basename "$ko" .ko >>"$work/modules.order"
done
(cd "$work" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
