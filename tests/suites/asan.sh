#!/usr/bin/env bash
# Every guest program of the normal build (tests/guest; the guests
# themselves are not instrumented) under the mote of the sanitizer build
# ($O-asan, made by `make check` with SAN=asan: ASan and UBSan). A
# sanitizer report fails the test, whatever the exit status.
# asan-hostile.sh does the same for tests/hostile, asan-unit.sh runs that
# build's unit tests.
#
# Leak detection is off for mote: a forked monitor (a guest fork) exits
# with the process state it inherited still allocated, and a process's
# thread and VM structures are freed by exit on purpose (host threads may
# still be unwinding, see lx_run), so LeakSanitizer would report by design.
set -u
. tests/lib.sh
dir=${O}-asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ ! -x "$dir/mote" ]; then
	plan 1
	fail asan/mote "not built ($dir/mote)"
	exit 0
fi
ASAN_OPTIONS=detect_leaks=0 MOTE=$dir/mote GUEST_PREFIX=asan/${ASAN_GUESTS:-guest} \
	GUEST_DIR=tests/${ASAN_GUESTS:-guest} bash tests/suites/guest.sh
