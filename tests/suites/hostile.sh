#!/usr/bin/env bash
# The hostile guests under tests/hostile/: each attempts one kind of escape
# (monitor memory, the host's files and fds, privileged syscalls, CPL-0
# instructions, the shim and its trampoline, forged signal frames) and
# must fail the way docs/security.md promises. Run by guest.sh's runner,
# with the same header comments (// mote-args:, // expect-status: ...).
set -u
GUEST_DIR=tests/hostile GUEST_PREFIX=${GUEST_PREFIX:-hostile} \
	exec bash tests/suites/guest.sh
