#!/usr/bin/env bash
# Address-space layout randomisation: a PIE program (dynamic, and
# static-PIE) run twice lands at different addresses (program, stack, brk,
# mmap, C library); with --no-aslr twice at the same ones.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# layout KIND RUN MOTE-OPTS...: prints the probe's lines, or FAILED.
layout() {
	local bin=$tmp/probe.$1
	shift
	run_mote "$tmp/out" "$tmp/err" run "$@" "$bin" || {
		echo "FAILED: $(tr '\n' ' ' <"$tmp/err")"
		return
	}
	cat "$tmp/out"
}

kinds=(dynamic static-pie)
# Two tests for each kind: aslr/KIND and aslr/KIND-off.
plan $((2 * ${#kinds[@]}))
for kind in "${kinds[@]}"; do
	t=aslr/$kind
	if [ -n "$why" ]; then
		skip "$t" "$why"
		skip "$t-off" "$why"
		continue
	fi
	flags=-pie
	[ "$kind" = static-pie ] && flags="-static-pie -fPIE"
	# shellcheck disable=SC2086 # flags are words
	if ! gcc -O2 $flags -o "$tmp/probe.$kind" tests/aslr/probe.c; then
		fail "$t" "gcc $flags could not build the probe"
		skip "$t-off" "no probe (see $t)"
		continue
	fi
	a=$(layout "$kind")
	b=$(layout "$kind")
	same=$(comm -12 <(echo "$a" | sort) <(echo "$b" | sort) |
		grep -v '^libc' | tr '\n' ' ')
	[ "$kind" = dynamic ] &&
		same=$(comm -12 <(echo "$a" | sort) <(echo "$b" | sort) |
			tr '\n' ' ')
	if [[ "$a" == FAILED* ]]; then
		fail "$t" "$a"
	elif [ "$(echo "$a" | wc -l)" != 5 ]; then
		fail "$t" "probe printed: $(echo "$a" | tr '\n' ' ')"
	elif [ -n "$same" ]; then
		fail "$t" "the same in two runs: $same"
	else
		pass "$t"
	fi
	a=$(layout "$kind" --no-aslr)
	b=$(layout "$kind" --no-aslr)
	if [[ "$a" == FAILED* ]]; then
		fail "$t-off" "$a"
	elif [ "$a" != "$b" ]; then
		fail "$t-off" "--no-aslr runs differ: $(diff <(echo "$a") \
			<(echo "$b") | tr '\n' ' ')"
	else
		pass "$t-off"
	fi
done
