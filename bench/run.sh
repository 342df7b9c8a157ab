#!/usr/bin/env bash
# make bench: runs the bench program on the build's mote and guests (the
# Makefile builds them). BENCH_RUNS sets the start-to-exit sample count.
# Usage: bench/run.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
O=${1:-build}
"$O/bench/bench" -n "${BENCH_RUNS:-100}" "$O/mote" "$O/bench/floor" \
	"$O/demo/hello" "$O/bench/getppid" "$O/bench/idle" \
	"$O/bench/forkwait" "$O/bench/threads"
echo
bash bench/real.sh "$O"
echo
bash bench/snap.sh "$O"
