#!/usr/bin/env bash
# make bench: runs the bench program on the build's mote and guests (the
# Makefile builds them). BENCH_RUNS sets the start-to-exit sample count.
# Without a usable /dev/kvm it runs in the test VM (tests/vm), with fewer
# samples: there only the ratios mean anything. Last, mote boot against
# QEMU's microvm (bench/boot.py; BOOT_RUNS boots each), in the test VM
# where this host's KVM cannot boot a stock kernel (kvm_pvm).
# Usage: bench/run.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
O=${1:-build}
if [ -z "${MOTE_TESTVM:-}" ] && { [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; }; then
	if why=$(tests/vm/run.sh --check 2>&1); then
		echo "bench: no usable /dev/kvm here: measuring in the test VM (QEMU's emulator with kvm-amd)"
		exec tests/vm/run.sh -- bench/run.sh "$O"
	fi
	echo "bench: no usable /dev/kvm here, and ${why#test VM: }" >&2
	exit 1
fi
if [ -n "${MOTE_TESTVM:-}" ]; then
	echo "bench: in the test VM ($MOTE_TESTVM)."
	echo "Everything there runs 10x slower or more under emulation: absolute"
	echo "times mean nothing, the ratios (mote against the floor and native,"
	echo "measured here in this one run) are what to read."
	echo
	: "${BENCH_RUNS:=21}" "${BENCH_REAL_RUNS:=5}" "${SNAP_RUNS:=7}" "${SNAP_CLONES:=100}"
	: "${MIGRATE_MIB:=64}"
	export BENCH_RUNS BENCH_REAL_RUNS SNAP_RUNS SNAP_CLONES MIGRATE_MIB
fi
"$O/bench/bench" -n "${BENCH_RUNS:-100}" "$O/mote" "$O/bench/floor" \
	"$O/demo/hello" "$O/bench/getppid" "$O/bench/idle" \
	"$O/bench/forkwait" "$O/bench/threads"
echo
bash bench/real.sh "$O"
echo
bash bench/snap.sh "$O"
echo
bash bench/migrate.sh "$O"
echo
# mote boot against QEMU's microvm: a hardware KVM boots a stock kernel,
# kvm_pvm cannot, so on such a host this part runs in the test VM.
tests/vm/image.sh "$O/vm" >/dev/null
if [ -d /sys/module/kvm_amd ] || [ -d /sys/module/kvm_intel ]; then
	python3 bench/boot.py "$O" "$O/vm/vmlinuz" "${BOOT_RUNS:-3}"
elif why=$(tests/vm/run.sh --check 2>&1); then
	echo "(in the test VM: this host's kvm_pvm cannot boot a stock kernel)"
	tests/vm/run.sh -- python3 bench/boot.py "$O" "$O/vm/vmlinuz" "${BOOT_RUNS:-3}"
else
	echo "mote boot: not measured: this host's KVM cannot boot a stock kernel, and ${why#test VM: }"
fi
