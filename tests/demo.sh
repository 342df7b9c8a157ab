#!/usr/bin/env bash
# make demo: runs the demo guest in its microVM and says how fast it started.
# Usage: tests/demo.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
O=${1:-build}

# Without a usable /dev/kvm, in the test VM (tests/vm), if it can start.
if [ -z "${MOTE_TESTVM:-}" ] && { [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; } &&
	tests/vm/run.sh --check 2>/dev/null; then
	echo "demo: no usable /dev/kvm here: running in the test VM (QEMU's emulator with kvm-amd: everything in it is 10x slower or more)"
	exec tests/vm/run.sh -- tests/demo.sh "$O"
fi
err=$(mktemp)
trap 'rm -f "$err"' EXIT

"$O/mote" run --timing "$O/demo/hello" 2>"$err"
status=$?
# mote's own messages (why it could not start, say) pass through as they
# are; only the --timing line is turned into the summary below.
grep -v '^mote: timing: ' "$err" >&2
if [ "$status" -ne 0 ]; then
	echo "demo: mote run failed (exit status $status)" >&2
	exit "$status"
fi
timing='s/^mote: timing: start to first guest instruction \([0-9.]*\) us, '
timing+='run \([0-9.]*\) us, \([0-9]*\) exits$/\1 \2 \3/p'
read -r start run exits < <(sed -n "$timing" "$err")
if [ -z "${exits:-}" ]; then
	echo "demo: mote printed no --timing line" >&2
	exit 1
fi
echo
printf 'VM started in %.0f us (mote process start to first guest instruction)\n' \
	"$start"
printf 'The guest then ran for %.0f us, with %d exits to the monitor.\n' \
	"$run" "$exits"
