#!/usr/bin/env bash
# mote boot's refusals, which start no VM: kernel files that are not a
# bzImage, are truncated or too old for the 64-bit entry, an option not
# supported yet (--snapshot), a bad --name, --disk values that name no
# usable disk and --net values that name no usable tap (checked before
# the kernel, so a text file stands in for it); and on a kvm_pvm host,
# the one line saying it cannot boot a stock kernel. Each: status 125 and one
# "mote: " line.
# needs-kvm: no
set -u
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel=$O/vm/vmlinuz
[ -f "$kernel" ] || tests/vm/image.sh "$O/vm" >/dev/null 2>&1

# expect NAME TEXT MOTE-ARGS...: status 125 and one stderr line with TEXT.
expect() {
	local name=boot-cli/$1
	shift
	refused "$name" 125 "$@"
}

plan 21
echo "hello, not a kernel" >"$tmp/text"
expect text-file "not a bzImage" boot --kernel "$tmp/text"
expect missing "No such file" boot --kernel "$tmp/none"
expect snapshot "--snapshot is not supported yet" boot --kernel "$tmp/text" --snapshot f
expect name "--name a/b: may hold only letters, digits, '.', '_' and '-'" boot --kernel "$tmp/text" --name a/b
expect net-missing "--net nosuchtap: no such network interface (make the tap first: ip tuntap add dev nosuchtap mode tap" \
	boot --kernel "$tmp/text" --net nosuchtap
expect net-long "--net abcdefghijklmnop: an interface name has at most 15 characters" \
	boot --kernel "$tmp/text" --net abcdefghijklmnop
expect net-twice "--net b: one --net only" boot --kernel "$tmp/text" --net a --net b
truncate -s 1M "$tmp/disk.img"
expect disk-missing "--disk $tmp/none.img: No such file" boot --kernel "$tmp/text" --disk "$tmp/none.img"
expect disk-dir "--disk $tmp: a directory" boot --kernel "$tmp/text" --disk "$tmp"
expect disk-suffix "':xx' is not a mode: use FILE, FILE:ro or FILE:rw" \
	boot --kernel "$tmp/text" --disk "$tmp/disk.img:xx"
mkfifo "$tmp/fifo"
expect disk-fifo "--disk $tmp/fifo:ro: not a regular file or block device" \
	boot --kernel "$tmp/text" --disk "$tmp/fifo:ro"
nine=()
for _ in 1 2 3 4 5 6 7 8 9; do nine+=(--disk "$tmp/disk.img"); done
expect disk-too-many "at most 8 disks" boot --kernel "$tmp/text" "${nine[@]}"
# No write bit: read-only without :ro, even for root, and with :rw.
cp "$tmp/disk.img" "$tmp/ro.img"
chmod 0444 "$tmp/ro.img"
expect disk-readonly "--disk $tmp/ro.img: the file is read-only (a read-only disk needs $tmp/ro.img:ro)" \
	boot --kernel "$tmp/text" --disk "$tmp/disk.img" --disk "$tmp/ro.img"
expect disk-rw-readonly "--disk $tmp/ro.img:rw: the file is read-only" \
	boot --kernel "$tmp/text" --disk "$tmp/ro.img:rw"
# A writable disk is locked: given twice, the second is in use.
expect disk-twice "--disk $tmp/disk.img: in use" \
	boot --kernel "$tmp/text" --disk "$tmp/disk.img" --disk "$tmp/disk.img"
# Good disks: refused for the kernel, not for them.
expect disk-good "not a bzImage" boot --kernel "$tmp/text" --disk "$tmp/disk.img" --disk "$tmp/ro.img:ro"
expect cpus "--cpus 65: expected a number of vCPUs from 1 to 64" boot --kernel "$tmp/text" --cpus 65
if [ ! -f "$kernel" ]; then
	for t in truncated old-protocol; do skip "boot-cli/$t" "no kernel at $kernel (tests/vm/image.sh builds it)"; done
else
	head -c 300000 "$kernel" >"$tmp/trunc"
	expect truncated "truncated" boot --kernel "$tmp/trunc"
	# Protocol 2.11 (Linux 3.7): no 64-bit entry.
	cp "$kernel" "$tmp/old"
	printf '\x0b\x02' | dd of="$tmp/old" bs=1 seek=$((0x206)) conv=notrunc 2>/dev/null
	expect old-protocol "too old for the 64-bit entry" boot --kernel "$tmp/old"
fi
expect small-memory "--memory 16M: must be at least 64M" boot --kernel "$tmp/text" --memory 16M
if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; then
	if [ -f "$kernel" ]; then
		expect kvm-pvm "cannot boot a stock kernel" boot --kernel "$kernel"
	else
		skip boot-cli/kvm-pvm "no kernel at $kernel"
	fi
else
	skip boot-cli/kvm-pvm "this host's KVM is not kvm_pvm"
fi
