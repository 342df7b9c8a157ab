#!/usr/bin/env bash
# Limits that hold (see mote --help): a fork bomb under --pids, a memory
# bomb under --memory, CPU spins under --timeout, --cpus as the guest sees
# it. Each run is the leader of a session of its own (setsid; the sh that
# records its pid execs mote), so that once mote has exited, pgrep -s
# shows whether any process of the run (a child monitor) was left behind.
set -u
. tests/lib.sh
BB=/bin/busybox
G=$O/tests/guest
SPINS="main thread child read all"
# Every test, in the order they run.
TESTS=(forkbomb membomb)
for m in $SPINS; do TESTS+=("timeout-$m"); done
TESTS+=(timeout-decimal timeout-not-reached cpus-nproc cpus-cpuinfo
	cpus-python cpus-default)

why=$(kvm_missing)
plan ${#TESTS[@]}
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do skip "limits/$t" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
sid=
trap '[ -n "$sid" ] && pkill -KILL -s "$sid"; rm -rf "$tmp"' EXIT

# session ARGS...: runs mote ARGS in a session of its own under a 60 s
# timeout; sets st (status), secs (wall time), left (processes of the
# session still there a second after mote exited).
session() {
	local t0 t1
	rm -f "$tmp/pid"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2016 # for the inner sh
	timeout -k 5 60 setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh \
		"$tmp/pid" "$MOTE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	t1=$(date +%s.%N)
	secs=$(awk "BEGIN { print $t1 - $t0 }")
	sid=$(cat "$tmp/pid" 2>/dev/null)
	left=
	local end=$((SECONDS + 2))
	while [ -n "$sid" ] && [ -n "$(pgrep -s "$sid")" ] && [ $SECONDS -lt $end ]; do
		sleep 0.05
	done
	[ -n "$sid" ] && left=$(pgrep -s "$sid" | xargs -r ps -o pid=,stat=,args= -p | tr '\n' ';')
	[ -n "$left" ] && pkill -KILL -s "$sid"
	sid=
}

# The fork bomb: 16 processes at most, then all of them exit.
session run --pids 16 "$G/lim_forkbomb.gcc" 16
if [ "$st" != 0 ] || ! grep -qxF SUCCESS "$tmp/out"; then
	fail limits/forkbomb "status $st: $(tail -n 2 "$tmp/out" "$tmp/err" | tr '\n' ' ')"
elif [ -n "$left" ]; then
	fail limits/forkbomb "processes left: $left"
else
	pass limits/forkbomb
fi

# The memory bomb: mote's peak RSS stays near --memory (64 MiB of guest
# memory and the monitor's own few MiB).
python3 - "$MOTE" "$G/lim_membomb.gcc" >"$tmp/rss" 2>"$tmp/err" <<'PY'
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "run", "--memory", "64M", sys.argv[2]],
                   stdout=subprocess.PIPE, timeout=60)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(r.returncode, peak, r.stdout.decode().strip().replace("\n", " "))
PY
read -r st peak out <"$tmp/rss"
if [ "$st" != 0 ] || [[ "$out" != *SUCCESS* ]]; then
	fail limits/membomb "status $st: $out $(tail -n 2 "$tmp/err")"
elif [ "$peak" -gt 96 ]; then
	fail limits/membomb "mote's peak RSS $peak MiB under --memory 64M"
else
	pass limits/membomb
fi

# CPU spins: status 124 after a second (well within two), the message,
# nothing left.
for m in $SPINS; do
	session run --timeout 1 "$G/lim_spin.musl" "$m"
	msg="mote: --timeout 1s elapsed: the guest was stopped"
	if [ "$st" != 124 ]; then
		fail "limits/timeout-$m" "status $st: $(tail -n 2 "$tmp/out" "$tmp/err" | tr '\n' ' ')"
	elif ! grep -qxF "$msg" "$tmp/err" || [ "$(wc -l <"$tmp/err")" != 1 ]; then
		fail "limits/timeout-$m" "stderr is not the one line: $(head -c 300 "$tmp/err" | tr '\n' ' ')"
	elif awk "BEGIN { exit !($secs > 2.5 || $secs < 0.95) }"; then
		fail "limits/timeout-$m" "took ${secs}s"
	elif [ -n "$left" ]; then
		fail "limits/timeout-$m" "processes left: $left"
	else
		pass "limits/timeout-$m"
	fi
done
session run --timeout 0.3 "$BB" sleep 5
if [ "$st" = 124 ] && awk "BEGIN { exit !($secs < 1.5) }" &&
	grep -qF -- "--timeout 0.3s elapsed" "$tmp/err"; then
	pass limits/timeout-decimal
else
	fail limits/timeout-decimal "status $st after ${secs}s: $(head -c 200 "$tmp/err")"
fi
session run --timeout 30 "$BB" true
if [ "$st" = 0 ] && awk "BEGIN { exit !($secs < 5) }" && [ ! -s "$tmp/err" ]; then
	pass limits/timeout-not-reached
else
	fail limits/timeout-not-reached "status $st after ${secs}s: $(head -c 200 "$tmp/err")"
fi

# --cpus: the guest sees one CPU however it asks (musl's and busybox's
# sched_getaffinity, glibc's /proc/stat behind os.cpu_count, /proc/cpuinfo).
check_out() {
	local name=$1 want=$2
	shift 2
	run_mote "$tmp/out" "$tmp/err" "$@"
	local st=$? got
	got=$(tr '\n' ' ' <"$tmp/out")
	if [ "$st" = 0 ] && [ "$got" = "$want" ]; then
		pass "limits/$name"
	else
		fail "limits/$name" "status $st, stdout '$got', want '$want': $(head -c 200 "$tmp/err")"
	fi
}
check_out cpus-nproc "1 " run --cpus 1 $BB nproc
check_out cpus-cpuinfo "1 " run --cpus 1 $BB grep -c ^processor /proc/cpuinfo
if command -v python3 >/dev/null && [ -x /usr/bin/python3 ]; then
	check_out cpus-python "1 1 " run --cpus 1 /usr/bin/python3 -c \
		'import os; print(os.cpu_count(), len(os.sched_getaffinity(0)))'
else
	skip limits/cpus-python "no /usr/bin/python3"
fi
n=$(nproc)
check_out cpus-default "$n " run $BB nproc
