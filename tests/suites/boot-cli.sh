#!/usr/bin/env bash
# mote boot's refusals, which start no VM: kernel files that are not a
# bzImage, are truncated or too old for the 64-bit entry, options not
# supported yet; and on a kvm_pvm host, the one line saying it cannot boot
# a stock kernel. Each: status 125 and one "mote: " line.
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

plan 8
echo "hello, not a kernel" >"$tmp/text"
expect text-file "not a bzImage" boot --kernel "$tmp/text"
expect missing "No such file" boot --kernel "$tmp/none"
expect disk "--disk is not supported yet" boot --kernel "$tmp/text" --disk "$tmp/text"
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
