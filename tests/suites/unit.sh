#!/usr/bin/env bash
# needs-kvm: no
# Host-only unit tests (no KVM needed): every $O/tests/unit/* binary prints
# its own PLAN and PASS/FAIL lines (tests/unit/unit.h), passed on here. A
# binary that dies part-way leaves its count short of its plan.
set -u
. tests/lib.sh
units=(tests/unit/*.c)
# This script's own lines: one for each binary not built (planned here)
# and one for each that exits non-zero without a FAIL line (planned where
# that is known, with the line).
missing=0
for src in "${units[@]}"; do
	[ -x "$O/tests/unit/$(basename "$src" .c)" ] || missing=$((missing + 1))
done
plan $missing
for src in "${units[@]}"; do
	name=$(basename "$src" .c)
	bin=$O/tests/unit/$name
	if [ ! -x "$bin" ]; then fail "unit/$name" "not built"; continue; fi
	out=$(timeout 120 "$bin" 2>&1)
	st=$?
	echo "$out" | grep -E '^(PLAN|PASS|FAIL|SKIP) '
	echo "$out" | grep -vE '^(PLAN|PASS|FAIL|SKIP) ' | sed 's/^/    /'
	if [ $st -ne 0 ] && ! echo "$out" | grep -q '^FAIL '; then
		plan 1
		fail "unit/$name" "exit status $st"
	fi
done
