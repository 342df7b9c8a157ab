#!/usr/bin/env bash
# needs-kvm: no
# The unit tests again, from the sanitizer build ($O-asan, made by `make
# check` with SAN=asan: AddressSanitizer and UndefinedBehaviorSanitizer,
# LeakSanitizer where it can run). A sanitizer report fails the test,
# whatever the exit status. tests/suites/asan.sh runs the guests under
# that build's mote.
set -u
. tests/lib.sh
dir=${O}-asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
units=(tests/unit/*.c)
lsan_why=$(lsan_broken "$dir/tests/unit/util")
if [ -n "$lsan_why" ]; then
	plan $((${#units[@]} + 1))
	skip asan/unit-leaks "$lsan_why"
	export ASAN_OPTIONS=detect_leaks=0
else
	plan ${#units[@]}
fi
for src in "${units[@]}"; do
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
