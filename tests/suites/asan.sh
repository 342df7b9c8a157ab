#!/usr/bin/env bash
# The sanitizer build ($O-asan, made by `make check` with SAN=asan: mote and
# the unit tests with AddressSanitizer and UndefinedBehaviorSanitizer): the
# unit tests, then every guest program of the normal build (tests/guest
# and tests/hostile; the guests themselves are not instrumented) under
# that mote. A sanitizer report fails the test, whatever the exit status.
#
# Leak detection is off for mote: a forked monitor (a guest fork) exits
# with the process state it inherited still allocated, and a process's
# thread and VM structures are freed by exit on purpose (host threads may
# still be unwinding, see lx_run), so LeakSanitizer would report by design.
# The unit tests keep it on.
set -u
. tests/lib.sh
dir=${O}-asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
lsan_why=$(lsan_broken "$dir/tests/unit/util")
if [ -n "$lsan_why" ]; then
	skip asan/unit-leaks "$lsan_why"
	export ASAN_OPTIONS=detect_leaks=0
fi
for src in tests/unit/*.c; do
	name=$(basename "$src" .c)
	bin=$dir/tests/unit/$name
	if [ ! -x "$bin" ]; then fail "asan/unit/$name" "not built ($bin)"; continue; fi
	out=$(timeout 120 "$bin" 2>&1)
	st=$?
	if echo "$out" | grep -qE 'Sanitizer|runtime error:'; then
		fail "asan/unit/$name" "sanitizer report: $(echo "$out" | grep -m1 -E 'Sanitizer|runtime error:')"
	elif [ $st -ne 0 ]; then
		fail "asan/unit/$name" "exit status $st: $(echo "$out" | grep -m1 '^FAIL')"
	else
		pass "asan/unit/$name"
	fi
done
if [ ! -x "$dir/mote" ]; then
	fail asan/mote "not built ($dir/mote)"
	exit 0
fi
ASAN_OPTIONS=detect_leaks=0 MOTE=$dir/mote GUEST_PREFIX=asan/guest \
	bash tests/suites/guest.sh
ASAN_OPTIONS=detect_leaks=0 MOTE=$dir/mote GUEST_PREFIX=asan/hostile \
	GUEST_DIR=tests/hostile bash tests/suites/guest.sh
