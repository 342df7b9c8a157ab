#!/usr/bin/env bash
# The hostile guests under tests/hostile/: each attempts one kind of escape
# (monitor memory, the host's files and fds, privileged syscalls, CPL-0
# instructions, the shim and its trampoline, forged signal frames) and
# must fail the way docs/security.md promises. Run by guest.sh's runner,
# with the same header comments (// mote-args:, // expect-status: ...).
# On kvm_pvm they run again with the shim's syscall entry (see entry.sh),
# whose paths back to user mode differ.
set -u
GUEST_DIR=tests/hostile GUEST_PREFIX=${GUEST_PREFIX:-hostile} \
	bash tests/suites/guest.sh
if [ -e /sys/module/kvm_pvm ] && [ ! -e /sys/module/kvm_intel ] &&
	[ ! -e /sys/module/kvm_amd ]; then
	MOTE_SYSCALL_ENTRY=shim GUEST_DIR=tests/hostile \
		GUEST_PREFIX=hostile-shim bash tests/suites/guest.sh
fi
