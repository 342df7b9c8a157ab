#!/usr/bin/env bash
# Runs the libFuzzer harnesses for a bounded time and prints one line each.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS NAME...
# The corpus grows in BUILD_DIR/corpus/NAME (seeded from
# tests/fuzz/corpus/NAME); a crash's input is kept in BUILD_DIR/crashes/
# and its report in BUILD_DIR/NAME.log. Status 1 if any harness failed.
set -u
cd "$(dirname "$0")/../.."
dir=$1 secs=$2
shift 2
status=0
for name in "$@"; do
	bin=$dir/tests/fuzz/$name
	corpus=$dir/corpus/$name
	log=$dir/$name.log
	mkdir -p "$corpus" "$dir/crashes"
	# -timeout: one input may take at most 10 s (a blocking call is cut
	# after 10 ms); -rss_limit_mb: the fake guest's memory is 64 MiB at
	# most, so 2 GiB means a leak.
	# shellcheck disable=SC2086 # FUZZ_FLAGS: extra libFuzzer flags
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		${FUZZ_FLAGS:-} \
		-print_final_stats=1 -artifact_prefix="$dir/crashes/$name-" \
		"$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1
	st=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	if [ "$st" -eq 0 ] && [ -n "$runs" ]; then
		echo "fuzz/$name: ${runs} executions in ${secs} s (${rate}/s), coverage ${cov:-?} edges, $(ls "$corpus" | wc -l) corpus inputs, no crash"
	else
		status=1
		echo "fuzz/$name: FAILED (status $st); report in $log:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" |
			head -5 | sed 's/^/    /'
		# A silent end (no report at all): its last lines say where.
		grep -qE 'ERROR|SUMMARY' "$log" ||
			tail -n 2 "$log" | cut -c1-160 | sed 's/^/    last: /'
	fi
done
exit $status
