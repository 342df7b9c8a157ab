#!/usr/bin/env bash
# mote boot of Debian's stock kernel (the test VM's) with a busybox
# initramfs whose init prints a marker, nproc, MemTotal and the date,
# writes a marker on a virtio disk, tries a write on a :ro one, reads the
# virtio rng, then reboots: one boot with 2 vCPUs, its lines, the disks'
# files afterwards and how it ended; a boot cut short by --timeout; one
# with 1 vCPU and the same disks, ended by Ctrl-A x on a terminal once its
# init has tried them; and a hostile "kernel" (tests/boot/hostile.S) that
# ends in a triple fault. Boots are slow under emulation (20-80 s in the
# test VM): the checks ride on these boots, none has a boot of its own.
# needs-kvm: hardware
set -u
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel=$O/vm/vmlinuz
mem=256
cpus=2

plan 13
names="marker nproc memtotal rtc-date disk-marker disk-ro hwrng reboot-status reboot-line timeout ctrl-a-x one-cpu-devices hostile"
t=boot/stock-kernel
why=$(kvm_missing)
if [ -z "$why" ] && [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; then
	# Not a skip: this suite is for hardware KVM (tests/run.sh sends it
	# to the test VM from a kvm_pvm host).
	for s in $names; do
		fail "$t/$s" "this host's KVM is kvm_pvm, which cannot boot a stock kernel (run it with MOTE_KVM=auto or vm)"
	done
	exit 0
fi
if [ -z "$why" ] && [ ! -f "$kernel" ]; then
	why="no kernel at $kernel (tests/vm/image.sh builds it)"
fi
if [ -z "$why" ] && ! tests/boot/initramfs.sh "$tmp/initrd.gz" "$O/vm/guest-modules" 2>"$tmp/err"; then
	why="cannot build the initramfs: $(head -1 "$tmp/err")"
fi
if [ -n "$why" ]; then
	for s in $names; do skip "$t/$s" "$why"; done
	exit 0
fi

# The disks: rw.img zeroed, ro.img a pattern that must stay as it is.
truncate -s 1M "$tmp/rw.img"
yes MOTE-RO-PATTERN | head -c 1M >"$tmp/ro.img"
cp "$tmp/ro.img" "$tmp/ro.orig"
t0=$(date +%s.%N)
TEST_TIMEOUT=600 run_mote "$tmp/out" "$tmp/err" boot --kernel "$kernel" \
	--initrd "$tmp/initrd.gz" --memory ${mem}M --cpus $cpus --timeout 500 \
	--disk "$tmp/rw.img" --disk "$tmp/ro.img:ro" \
	--append "console=ttyS0 reboot=k panic=-1 quiet"
st=$?
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "   (mote boot to reboot: %.1f s under this KVM)\n", b - a }'
tr -d '\r' <"$tmp/out" >"$tmp/lines"
tail_out=$(tail -c 300 "$tmp/lines" | tr '\n' ' ')

if grep -qx 'MOTE-BOOT-INIT' "$tmp/lines"; then pass "$t/marker"; else
	fail "$t/marker" "no MOTE-BOOT-INIT line (status $st): $tail_out $(head -c 200 "$tmp/err")"
fi
if grep -qx "nproc: $cpus" "$tmp/lines"; then pass "$t/nproc"; else
	fail "$t/nproc" "want 'nproc: $cpus' (--cpus $cpus): $(grep '^nproc' "$tmp/lines")"
fi
# MemTotal is RAM less the kernel's own reservations: between 70% and
# 100% of --memory.
kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$tmp/lines")
if [ -n "$kb" ] && [ "$kb" -le $((mem * 1024)) ] && [ "$kb" -ge $((mem * 1024 * 7 / 10)) ]; then
	pass "$t/memtotal"
else
	fail "$t/memtotal" "MemTotal '${kb:-none}' kB for --memory ${mem}M"
fi
# The guest's clock comes from the CMOS RTC: the host's date (UTC).
today=$(date -u +%Y-%m-%d)
if grep -qx "date: $today" "$tmp/lines"; then pass "$t/rtc-date"; else
	fail "$t/rtc-date" "want 'date: $today': $(grep '^date' "$tmp/lines")"
fi
# What the guest wrote and synced on its disk is in the host's file after
# it ended; the :ro disk is read-only to the guest's kernel (virtio-blk's
# RO feature) and its write fails; the file is unchanged.
if [ "$(head -c 16 "$tmp/rw.img")" = MOTE-DISK-MARKER ] && grep -qx 'disk-write: ok' "$tmp/lines"; then
	pass "$t/disk-marker"
else
	fail "$t/disk-marker" "rw.img starts with '$(head -c 16 "$tmp/rw.img" | tr -cd '[:print:]')': $(grep -E '^(disks|disk-write|insmod)' "$tmp/lines" | tr '\n' ' ')"
fi
if grep -qx 'ro-write: refused' "$tmp/lines" && grep -qx 'ro-flag: 1' "$tmp/lines" &&
	cmp -s "$tmp/ro.img" "$tmp/ro.orig"; then
	pass "$t/disk-ro"
else
	fail "$t/disk-ro" "$(grep -E '^(disks|ro-)' "$tmp/lines" | tr '\n' ' '); ro.img $(cmp -s "$tmp/ro.img" "$tmp/ro.orig" && echo unchanged || echo changed)"
fi
# The kernel's hw_random core uses the virtio rng; 16 bytes from
# /dev/hwrng, not all zero.
if grep -Eqx 'hwrng: virtio_rng\.0 [0-9a-f]{32}' "$tmp/lines" &&
	! grep -qx 'hwrng: virtio_rng\.0 0\{32\}' "$tmp/lines"; then
	pass "$t/hwrng"
else
	fail "$t/hwrng" "want 'hwrng: virtio_rng.0' and 32 hex digits: $(grep '^hwrng' "$tmp/lines")"
fi
if [ "$st" = 0 ]; then pass "$t/reboot-status"; else
	fail "$t/reboot-status" "status $st, want 0: $(head -c 200 "$tmp/err")"
fi
if grep -qx 'mote: the guest rebooted' "$tmp/err"; then pass "$t/reboot-line"; else
	fail "$t/reboot-line" "stderr lacks 'mote: the guest rebooted': $(head -c 200 "$tmp/err")"
fi

# --timeout stops a guest that is still booting: 124 and its line.
run_mote "$tmp/out" "$tmp/err" boot --kernel "$kernel" --initrd "$tmp/initrd.gz" \
	--memory ${mem}M --timeout 3
st=$?
if [ "$st" = 124 ] && grep -qx 'mote: the guest ran past --timeout 3; stopped' "$tmp/err"; then
	pass "$t/timeout"
else
	fail "$t/timeout" "status $st (want 124): $(head -c 200 "$tmp/err")"
fi

# On a terminal, Ctrl-A x quits at once: status 0 and its line. This boot
# has one vCPU (the first has two) and the same disks: init waits
# (mote.wait) after trying them, for the Ctrl-A x typed then, so the
# devices and their interrupts are checked with --cpus 1 too.
truncate -s 0 "$tmp/rw.img"
truncate -s 1M "$tmp/rw.img"
timeout -k 5 400 python3 tests/boot/onpty.py MOTE-WAITING 350 '\x01x' "$MOTE" boot \
	--kernel "$kernel" --initrd "$tmp/initrd.gz" --memory ${mem}M --cpus 1 \
	--timeout 300 --disk "$tmp/rw.img" --disk "$tmp/ro.img:ro" \
	--append "console=ttyS0 reboot=k panic=-1 quiet mote.wait" >"$tmp/pty" 2>&1
st=$?
tr -d '\r' <"$tmp/pty" >"$tmp/lines1"
if [ "$st" = 0 ] && grep -q 'mote: quit (Ctrl-A x)' "$tmp/lines1"; then
	pass "$t/ctrl-a-x"
else
	fail "$t/ctrl-a-x" "status $st (want 0): $(tail -c 200 "$tmp/lines1" | tr '\n' ' ')"
fi
if grep -qx 'nproc: 1' "$tmp/lines1" && grep -qx 'disk-write: ok' "$tmp/lines1" &&
	[ "$(head -c 16 "$tmp/rw.img")" = MOTE-DISK-MARKER ] &&
	grep -qx 'ro-write: refused' "$tmp/lines1" && cmp -s "$tmp/ro.img" "$tmp/ro.orig" &&
	grep -Eqx 'hwrng: virtio_rng\.0 [0-9a-f]{32}' "$tmp/lines1"; then
	pass "$t/one-cpu-devices"
else
	fail "$t/one-cpu-devices" "$(grep -E '^(nproc|disks|disk-write|ro-|hwrng|insmod)' "$tmp/lines1" | tr '\n' ' ')"
fi

# A hostile guest: huge string I/O to and from a port no device has, wide
# accesses, MMIO outside RAM, a virtio driver that breaks the rng three
# ways (a looping chain, a buffer outside RAM, a bad queue size), then a
# triple fault. The monitor answers as documented (the guest prints
# HOSTILE-OK if so: the device said DEVICE_NEEDS_RESET each time), logs
# each fault in one line and ends with status 1.
if gcc -c -o "$tmp/hostile.o" tests/boot/hostile.S 2>"$tmp/err" &&
	objcopy -O binary -j .text "$tmp/hostile.o" "$tmp/hostile.bin" &&
	python3 tests/boot/mkbzimage.py "$tmp/hostile.bin" "$tmp/hostile.bz"; then
	run_mote "$tmp/out" "$tmp/err" boot --kernel "$tmp/hostile.bz" --memory 64M --timeout 120
	st=$?
	if [ "$st" = 1 ] && grep -qx 'HOSTILE-OK' "$tmp/out" &&
		grep -qx "mote: the guest's kernel reset the CPU (a triple fault)" "$tmp/err" &&
		grep -qx 'mote: virtio-rng: queue 0: descriptor chain loops; the device needs a reset' "$tmp/err" &&
		grep -qx 'mote: virtio-rng: queue 0: buffer outside guest RAM; the device needs a reset' "$tmp/err" &&
		grep -qx 'mote: virtio-rng: queue 0: queue size 0, not a power of two, or too large; the device needs a reset' "$tmp/err"; then
		pass "$t/hostile"
	else
		fail "$t/hostile" "status $st (want 1): $(head -c 100 "$tmp/out" | tr '\n' ' ') $(head -c 200 "$tmp/err")"
	fi
else
	fail "$t/hostile" "cannot build tests/boot/hostile.S: $(head -c 200 "$tmp/err")"
fi
