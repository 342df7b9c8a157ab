#!/usr/bin/env bash
# Guest memory seen from the host.
# - rss: tests/guest/mm_rss touches 64 MiB, drops half with MADV_DONTNEED,
#   unmaps the rest, stopping after each step ("hold ..."); the monitor's
#   VmRSS (/proc/PID/status) must fall by most of 32 MiB at each of the
#   last two steps: memory the guest gives back goes back to the host.
# - sigbus-copy: tests/guest/mm_sigbus with "copy": a file shrinks (in a
#   child process) under a mapping whose page the guest then passes to
#   stat(). Linux fails that stat with EFAULT; mote cannot undo a
#   half-copied argument, so the guest dies of SIGBUS with a one-line
#   report (status 135), and mote itself never crashes.
set -u
. tests/lib.sh
KINDS=(gcc musl)
# The tests, each for every kind (a loop of its own below).
TESTS=(rss sigbus-copy)
STAGE=${MM_TIMEOUT:-60}
# KiB VmRSS must fall by at each step: 32 MiB less some slack.
DROP=$((28 * 1024))

why=$(kvm_missing)
plan $((${#TESTS[@]} * ${#KINDS[@]}))
if [ -n "$why" ]; then
	for k in "${KINDS[@]}"; do
		for t in "${TESTS[@]}"; do skip "mm/$t.$k" "$why"; done
	done
	exit 0
fi

tmp=$(mktemp -d)
job=
trap 'stop_run; rm -rf "$tmp"' EXIT

stop_run() {
	exec 3>&- 2>/dev/null
	[ -n "$job" ] && kill -KILL "$job" 2>/dev/null
	[ -n "$job" ] && wait "$job" 2>/dev/null
	job=
}

rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# rss BIN: sets res to why it failed, or blind to why it could not look.
rss() {
	local bin=$1 step r prev=
	res= blind=
	rm -f "$tmp/in" "$tmp/out" "$tmp/err"
	mkfifo "$tmp/in"
	"$MOTE" run "$bin" hold <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
	job=$!
	exec 3>"$tmp/in"
	for step in touched advised unmapped; do
		if ! await_line "$tmp/out" "hold $step"; then
			res="no 'hold $step' within ${STAGE}s: $(tail -n 2 \
				"$tmp/out" "$tmp/err" | tr '\n' ' ')"
			stop_run
			return
		fi
		r=$(rss_of "$job")
		if [ -z "$r" ]; then
			blind="cannot read /proc/$job/status (a pid namespace \
without its own /proc?)"
		elif [ -n "$prev" ] && [ $((prev - r)) -lt $DROP ]; then
			res="VmRSS went from $prev to $r KiB at '$step'"
		fi
		prev=$r
		echo >&3
	done
	exec 3>&-
	wait "$job"
	local st=$?
	job=
	if [ -z "$res" ] && { [ "$st" != 0 ] || ! grep -qxF SUCCESS "$tmp/out"; }; then
		res="status $st: $(tail -n 2 "$tmp/out" "$tmp/err" | tr '\n' ' ')"
	fi
}

for k in "${KINDS[@]}"; do
	bin=$O/tests/guest/mm_rss.$k
	if [ ! -x "$bin" ]; then
		fail "mm/rss.$k" "not built ($bin)"
		continue
	fi
	rss "$bin"
	if [ -n "$res" ]; then
		fail "mm/rss.$k" "$res"
	elif [ -n "$blind" ]; then
		skip "mm/rss.$k" "it ran, but $blind"
	else
		pass "mm/rss.$k"
	fi
done

for k in "${KINDS[@]}"; do
	bin=$O/tests/guest/mm_sigbus.$k
	t=mm/sigbus-copy.$k
	if [ ! -x "$bin" ]; then
		fail "$t" "not built ($bin)"
		continue
	fi
	mkdir -p "$tmp/w"
	# A subshell, so that the shell's own "Bus error" goes nowhere.
	(run_mote "$tmp/out" "$tmp/err" run --volume "$tmp/w:/w:rw" "$bin" \
		/w copy) 2>/dev/null
	st=$?
	if [ "$st" != 135 ]; then
		fail "$t" "status $st, want 135: $(tail -n 2 "$tmp/out" "$tmp/err" | tr '\n' ' ')"
	elif ! grep -q "^mote: guest killed by SIGBUS" "$tmp/err"; then
		fail "$t" "no report on stderr: $(tail -n 2 "$tmp/err" | tr '\n' ' ')"
	elif [ "$(wc -l <"$tmp/err")" != 1 ]; then
		fail "$t" "more than one line on stderr: $(tr '\n' ' ' <"$tmp/err")"
	else
		pass "$t"
	fi
done
