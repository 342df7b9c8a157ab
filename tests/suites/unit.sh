#!/usr/bin/env bash
# needs-kvm: no
# Host-only unit tests (no KVM needed): every $O/tests/unit/* binary prints
# its own PASS/FAIL lines.
set -u
. tests/lib.sh
for src in tests/unit/*.c; do
	name=$(basename "$src" .c)
	bin=$O/tests/unit/$name
	if [ ! -x "$bin" ]; then fail "unit/$name" "not built"; continue; fi
	out=$(timeout 120 "$bin" 2>&1)
	st=$?
	echo "$out" | grep -E '^(PASS|FAIL|SKIP) '
	echo "$out" | grep -vE '^(PASS|FAIL|SKIP) ' | sed 's/^/    /'
	[ $st -eq 0 ] || echo "$out" | grep -q '^FAIL ' || fail "unit/$name" "exit status $st"
done
