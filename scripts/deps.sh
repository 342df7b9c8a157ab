#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages that mote's
# build, tests and demo need. Silent when everything is there.
# Usage: scripts/deps.sh [vm]
#   vm: also what the test VM needs (QEMU), when this host has no usable
#       /dev/kvm or MOTE_KVM=vm asks for the VM (tests/vm)
set -e
need=""
for pkg in gcc make binutils musl-tools busybox-static python3 sqlite3 iproute2 \
	clang libclang-rt-14-dev libseccomp-dev pkg-config libcjson-dev libsodium-dev \
	podman conmon runc containerd; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
# QEMU without its recommendations (a GUI, firmware the VM does not boot).
qemu=""
if [ "${1:-}" = vm ] && ! dpkg -s qemu-system-x86 >/dev/null 2>&1 &&
	{ [ "${MOTE_KVM:-auto}" = vm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; }; then
	qemu=qemu-system-x86
fi
[ -z "$need$qemu" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "mote: installing Debian packages:$need $qemu"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || true
	# shellcheck disable=SC2086
	[ -z "$need" ] || apt-get install -y -qq $need >/dev/null
	[ -z "$qemu" ] || apt-get install -y -qq --no-install-recommends $qemu >/dev/null
else
	echo "mote: missing Debian packages; run: sudo apt-get install -y$need${qemu:+ $qemu}" >&2
	exit 1
fi
