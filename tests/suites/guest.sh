#!/usr/bin/env bash
# Guest programs under tests/guest/ (or GUEST_DIR), each built with gcc -static and with
# musl-gcc -static (some also with gcc -static-pie), run under mote. Header comments in the source steer the
# run:
#   // mote-args: OPTIONS      mote options before the program
#   // args: ARGS              arguments for the program
#   // expect-status: N        exit status (default 0)
#   // expect-stdout: TEXT     a line of stdout that must appear (default
#                              SUCCESS when the status is 0)
#   // expect-stderr: TEXT     text mote's stderr must contain
#   // check-file: PATH TEXT   after the run, the host file PATH must have
#                              a line TEXT (read natively, not by mote)
# @TMP@ in options or args is replaced by a fresh scratch directory.
# GUEST_DIR is the directory of sources (default tests/guest; hostile.sh
# sets tests/hostile). GUEST_PREFIX names the tests (default the
# directory's name; asan.sh runs them again under the ASan/UBSan build of
# mote). A sanitizer report on stderr fails a test whatever its status.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

header() { sed -n "s|^// $1: ||p" "$2" | head -1; }

dir=${GUEST_DIR:-tests/guest}
srcs=("$dir"/*.c)
# The builds each program runs as, one result line each: the plan.
declare -A kinds=()
n=0
for src in "${srcs[@]}"; do
	k="gcc musl"
	[ -e "$O/$dir/$(basename "$src" .c).pie" ] && k="$k pie"
	kinds[$src]=$k
	for cc in $k; do n=$((n + 1)); done
done
plan $n
for src in "${srcs[@]}"; do
	name=$(basename "$src" .c)
	for cc in ${kinds[$src]}; do
		bin=$O/$dir/$name.$cc
		t="${GUEST_PREFIX:-$(basename "$dir")}/$name.$cc"
		if [ -n "$why" ]; then skip "$t" "$why"; continue; fi
		if [ ! -x "$bin" ]; then fail "$t" "not built ($bin)"; continue; fi
		scratch=$(mktemp -d "$tmp/XXXX")
		margs=$(header mote-args "$src" | sed "s|@TMP@|$scratch|g")
		pargs=$(header args "$src" | sed "s|@TMP@|$scratch|g")
		want=$(header expect-status "$src"); want=${want:-0}
		wout=$(header expect-stdout "$src")
		[ -z "$wout" ] && [ "$want" = 0 ] && wout=SUCCESS
		werr=$(header expect-stderr "$src")
		cfile=$(header check-file "$src" | sed "s|@TMP@|$scratch|g")
		cpath=${cfile%% *}
		ctext=${cfile#* }
		# shellcheck disable=SC2086
		run_mote "$tmp/out" "$tmp/err" run $margs "$bin" $pargs
		st=$?
		if grep -qE 'Sanitizer|runtime error:' "$tmp/err"; then
			fail "$t" "sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$tmp/err")"
		elif [ "$st" != "$want" ]; then
			fail "$t" "status $st, want $want: $(cat "$tmp/out" "$tmp/err" | tail -n 3 | tr '\n' ' ')"
		elif [ -n "$wout" ] && ! grep -qxF -- "$wout" "$tmp/out"; then
			fail "$t" "stdout lacks '$wout': $(tail -n 3 "$tmp/out" | tr '\n' ' ')"
		elif [ -n "$werr" ] && ! grep -qF -- "$werr" "$tmp/err"; then
			fail "$t" "stderr lacks '$werr': $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
		elif [ -n "$cfile" ] && ! grep -qxF -- "$ctext" "$cpath" 2>/dev/null; then
			fail "$t" "$cpath lacks the line '$ctext': $(head -c 200 "$cpath" 2>&1 | tr '\n' ' ')"
		else
			pass "$t"
		fi
	done
done
