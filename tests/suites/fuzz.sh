#!/usr/bin/env bash
# The libFuzzer harnesses of tests/fuzz ($O-fuzz, made by `make check` with
# clang and SAN=fuzz), each for FUZZ_CHECK_TIME seconds (default 30): every
# input kept in tests/fuzz/corpus (seeds and the regressions of crashes
# found so far) first, then new ones. Any crash, sanitizer report or leak
# fails. `make fuzz` runs them longer.
# needs-kvm: no
set -u
. tests/lib.sh
dir=${O}-fuzz
why=$(tests/fuzz/available.sh)
lsan_why=$(lsan_broken "${O}-asan/tests/unit/util")
fuzzers=(syscall elf snapstate virtq virtio_pci bzimage)
if [ -z "$why" ] && [ -n "$lsan_why" ]; then
	plan $((${#fuzzers[@]} + 1))
	skip fuzz/leaks "$lsan_why"
	export FUZZ_FLAGS=-detect_leaks=0 ASAN_OPTIONS=detect_leaks=0
else
	plan ${#fuzzers[@]}
fi
for name in "${fuzzers[@]}"; do
	if [ -n "$why" ]; then
		skip "fuzz/$name" "$why"
		continue
	fi
	if [ ! -x "$dir/tests/fuzz/$name" ]; then
		fail "fuzz/$name" "not built ($dir/tests/fuzz/$name)"
		continue
	fi
	out=$(tests/fuzz/run.sh "$dir" "${FUZZ_CHECK_TIME:-30}" "$name")
	if [ $? -eq 0 ]; then
		pass "fuzz/$name"
		echo "    $out"
	else
		fail "fuzz/$name" "$(echo "$out" | tr '\n' ' ')"
	fi
done
