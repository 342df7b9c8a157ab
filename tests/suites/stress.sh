#!/usr/bin/env bash
# Fork stress under mote, then a check that nothing leaked on the host:
# proc_stress_seq (1,000 sequential fork + exit + wait) and proc_stress_par
# (50 concurrent children), each built with gcc and musl.
#
# Method: mote runs as the leader of a session of its own (setsid; the sh
# that records its pid execs mote, so mote's pid is the session id), with
# the guest's stdin on a fifo and the argument "hold": the guest stops
# before and after its work (see tests/guest/stress.h) and each time this
# script records, from the host, the processes of the session (pgrep -s),
# and mote's threads (/proc/PID/task) and fds (/proc/PID/fd). After the
# work they must be as before (every child monitor gone, no host thread or
# fd left behind), and once mote has exited the session must be empty (no
# orphaned child monitor survives the run). The guest itself checks that
# its own fd table is unchanged.
set -u
. tests/lib.sh
TESTS=(proc_stress_seq proc_stress_par)
KINDS=(gcc musl)
# Seconds for each stage: the start, the work and the end. In the test VM
# 1,000 forks take about 100 s alone, and more beside another busy VM: 300.
STAGE=${STRESS_TIMEOUT:-120}
[ -z "${STRESS_TIMEOUT:-}" ] && [ -n "${MOTE_TESTVM:-}" ] && STAGE=300

why=$(kvm_missing)
plan $((${#TESTS[@]} * ${#KINDS[@]}))
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do
		for k in "${KINDS[@]}"; do skip "stress/$t.$k" "$why"; done
	done
	exit 0
fi

tmp=$(mktemp -d)
sid=
job=
trap 'stop_run; rm -rf "$tmp"' EXIT

# picture PID: the session's processes, and PID's thread and fd counts.
picture() {
	echo "procs $(pgrep -s "$1" | wc -l) threads $(ls "/proc/$1/task" |
		wc -l) fds $(ls "/proc/$1/fd" | wc -l)"
}

# stop_run: ends what is left of a failed run: this script's own session,
# by pid.
stop_run() {
	exec 3>&- 2>/dev/null
	[ -n "$sid" ] && pgrep -s "$sid" | xargs -r kill -KILL 2>/dev/null
	wait "$job" 2>/dev/null
	sid=
}

# stress BIN: one run; sets res to why it failed (empty on success).
stress() {
	local bin=$1 before after end st
	res= blind=
	rm -f "$tmp/in" "$tmp/pid" "$tmp/out" "$tmp/err"
	mkfifo "$tmp/in"
	# shellcheck disable=SC2016 # for the inner sh
	setsid sh -c 'echo $$ >"$1"; exec "$2" run "$3" hold' sh \
		"$tmp/pid" "$MOTE" "$bin" <"$tmp/in" >"$tmp/out" \
		2>"$tmp/err" &
	job=$!
	exec 3>"$tmp/in"
	if ! await_line "$tmp/out" "hold before"; then
		sid=$(cat "$tmp/pid" 2>/dev/null)
		res="no 'hold before' within ${STAGE}s: $(tail -n 2 \
			"$tmp/out" "$tmp/err" | tr '\n' ' ')"
		stop_run
		return
	fi
	sid=$(cat "$tmp/pid")
	# In a pid namespace without its own /proc the leak check is blind.
	[ -d "/proc/$sid" ] || blind="the leak check cannot see /proc/$sid \
(a pid namespace without its own /proc)"
	before=$(picture "$sid" 2>/dev/null)
	echo >&3
	if ! await_line "$tmp/out" "hold after"; then
		res="no 'hold after' within ${STAGE}s: $(tail -n 2 \
			"$tmp/out" "$tmp/err" | tr '\n' ' ')"
		stop_run
		return
	fi
	after=$(picture "$sid" 2>/dev/null)
	echo >&3
	exec 3>&-
	wait "$job"
	st=$?
	if [ "$st" != 0 ] || ! grep -qxF SUCCESS "$tmp/out"; then
		res="status $st: $(tail -n 2 "$tmp/out" "$tmp/err" |
			tr '\n' ' ')"
	elif [ "$before" != "$after" ]; then
		res="leak: before the work $before, after it $after"
	fi
	end=$((SECONDS + 5))
	while [ -n "$(pgrep -s "$sid")" ] && [ $SECONDS -lt $end ]; do
		sleep 0.05
	done
	if [ -z "$res" ] && [ -n "$(pgrep -s "$sid")" ]; then
		res="processes left after mote exited: $(pgrep -s "$sid" |
			xargs -r ps -o pid=,stat=,args= -p | tr '\n' ';')"
	fi
	stop_run
}

for t in "${TESTS[@]}"; do
	for k in "${KINDS[@]}"; do
		bin=$O/tests/guest/$t.$k
		if [ ! -x "$bin" ]; then
			fail "stress/$t.$k" "not built ($bin)"
			continue
		fi
		stress "$bin"
		if [ -n "$res" ]; then
			fail "stress/$t.$k" "$res"
		elif [ -n "$blind" ]; then
			skip "stress/$t.$k" "it ran, but $blind"
		else
			pass "stress/$t.$k"
		fi
	done
done
