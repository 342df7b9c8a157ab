#!/usr/bin/env bash
# Runs every test suite and prints the summary line make check ends with.
# Usage: tests/run.sh [BUILD_DIR] [SUITE...]
set -u
cd "$(dirname "$0")/.."
export O=${1:-build}
shift || true
export MOTE=$O/mote
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(tests/suites/*.sh)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for s in "${suites[@]}"; do
	echo "== $(basename "$s" .sh)"
	bash "$s" 2>&1 | tee -a "$log" | grep -v '^PASS ' || true
	n=$(grep -c '^PASS ' "$log" || true)
	echo "   ($n passed so far)"
done
p=$(grep -c '^PASS ' "$log" || true)
f=$(grep -c '^FAIL ' "$log" || true)
k=$(grep -c '^SKIP ' "$log" || true)
if [ "$f" -gt 0 ]; then
	echo "failed tests:"
	grep '^FAIL ' "$log" | sed 's/^/  /'
fi
if [ "$k" -gt 0 ]; then
	echo "$p passed, $f failed, $k skipped"
else
	echo "$p passed, $f failed"
fi
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
