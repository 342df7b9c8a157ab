#!/usr/bin/env bash
# Builds the test VM's kernel and initramfs from Debian packages alone:
# Debian's stock kernel (linux-image-amd64's versioned package, fetched
# with apt-get download and unpacked, not installed) and an initramfs of
# busybox-static, tests/vm/init and the modules the VM needs (virtio, 9p,
# KVM) with their dependencies. Also DIR/guest-modules: the modules of the
# same package that mote boot's test guest loads (tests/boot/initramfs.sh
# packs them). Cached in DIR; rebuilt when the kernel package or the init
# script changes.
# Usage: tests/vm/image.sh DIR   (prints nothing when the cache is good)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: tests/vm/image.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Modules /init loads (their dependencies are added): virtio-pci and 9p for
# the shares, kvm-amd for /dev/kvm; tun, veth, bridge and overlay for
# tests that make network namespaces and container roots.
WANT="virtio_pci 9pnet_virtio 9p kvm_amd tun veth bridge overlay"
# Modules of mote boot's test guest: the virtio-pci transport, the disk,
# rng and network drivers (virtio_net brings net_failover and failover),
# and pvpanic (its ACPI device, QEMU0001) for panics.
GUEST_WANT="virtio_pci virtio_blk virtio_rng virtio_net pvpanic_mmio"

die() {
	echo "test VM: $*" >&2
	exit 1
}

# The versioned kernel package linux-image-amd64 points at.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1
}

pkg=$(kernel_package)
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(kernel_package)
fi
[ -n "$pkg" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update, or add Debian's main archive to /etc/apt/sources.list)"
stamp="$pkg $(cksum <"$here/init" | cut -d' ' -f1) $(cksum <"$0" | cut -d' ' -f1)"
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] &&
	[ -f "$dir/vmlinuz" ] && [ -f "$dir/initrd.gz" ] &&
	[ -f "$dir/guest-modules/order" ]; then
	exit 0
fi
command -v busybox >/dev/null || die "busybox is missing (apt-get install busybox-static)"
command -v objcopy >/dev/null || die "objcopy is missing (apt-get install binutils)"

echo "test VM: building its image from $pkg (once; cached in $dir)" >&2
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
deb=$(ls "$dir/$pkg"_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	# apt-get download writes to the current dir; _apt cannot write ours.
	(cd "$work" && apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1) ||
		(apt-get update -qq >/dev/null 2>&1 &&
			cd "$work" && apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		die "apt-get download $pkg failed (is Debian's archive reachable?)"
	rm -f "$dir"/linux-image-*.deb
	mv "$work/$pkg"_*.deb "$dir/"
	deb=$(ls "$dir/$pkg"_*.deb | head -1)
fi
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -C "$work" --wildcards './boot/vmlinuz-*' './lib/modules/*.ko'
kver=$(ls "$work/lib/modules" | head -1)
mods=$work/lib/modules/$kver/kernel

# name -> path of every module, with - and _ alike, as modprobe treats them.
declare -A path
while read -r f; do
	n=$(basename "$f" .ko)
	path[${n//-/_}]=$f
done < <(find "$mods" -name '*.ko')

# Depth-first over each module's "depends=" (its .modinfo section), so a
# module comes after everything it needs.
declare -A seen
order=()
visit() {
	local n=${1//-/_} d
	[ -n "${seen[$n]:-}" ] && return
	seen[$n]=1
	[ -n "${path[$n]:-}" ] || die "$pkg has no module $n"
	for d in $(objcopy -O binary --only-section=.modinfo "${path[$n]}" /dev/stdout |
		tr '\0' '\n' | sed -n 's/^depends=//p' | tr , ' '); do
		visit "$d"
	done
	order+=("$n")
}
for m in $WANT; do visit "$m"; done

root=$work/initrd
mkdir -p "$root"/{bin,lib/modules,proc,sys,dev,mnt}
cp "$(command -v busybox)" "$root/bin/busybox"
cp "$here/init" "$root/init"
chmod 0755 "$root/init"
for n in "${order[@]}"; do
	cp "${path[$n]}" "$root/lib/modules/$n.ko"
	echo "$n" >>"$root/modules.order"
done
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/initrd.gz"

# The guest's modules, each after what it needs, the order in "order".
seen=()
order=()
for m in $GUEST_WANT; do visit "$m"; done
mkdir "$work/guest-modules"
for n in "${order[@]}"; do
	cp "${path[$n]}" "$work/guest-modules/$n.ko"
	echo "$n" >>"$work/guest-modules/order"
done
rm -rf "$dir/guest-modules"
mv "$work/guest-modules" "$dir/guest-modules"
mv "$work/initrd.gz" "$dir/initrd.gz"
mv "$work/boot/vmlinuz-$kver" "$dir/vmlinuz"
echo "$kver" >"$dir/kernel-release"
echo "$stamp" >"$dir/stamp"
