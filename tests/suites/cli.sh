#!/usr/bin/env bash
# The command line: options, the environment a guest gets, --trace, and the
# one-line errors for a missing or forbidden /dev/kvm.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BB=/bin/busybox
hello=$O/tests/guest/hello.gcc

# check NAME WANT_STATUS GREP_STDOUT GREP_STDERR -- mote args...
check() {
	local name=$1 want=$2 wout=$3 werr=$4
	shift 5
	run_mote "$tmp/out" "$tmp/err" "$@"
	local st=$?
	if [ "$st" != "$want" ]; then
		fail "cli/$name" "status $st, want $want: $(cat "$tmp/out" "$tmp/err" | tail -n 3 | tr '\n' ' ')"
	elif [ -n "$wout" ] && ! grep -qE -- "$wout" "$tmp/out"; then
		fail "cli/$name" "stdout lacks /$wout/: $(tail -n 3 "$tmp/out" | tr '\n' ' ')"
	elif [ -n "$werr" ] && ! grep -qE -- "$werr" "$tmp/err"; then
		fail "cli/$name" "stderr lacks /$werr/: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
	else
		pass "cli/$name"
	fi
}

# The checks that need no VM, one result each: counted for the plan, then
# run.
host_checks() {
	check help 0 "usage: mote run" "" -- --help
	check run-help 0 "--volume HOST:GUEST" "" -- run --help
	check version 0 "^mote [0-9]" "" -- --version
	check no-command 125 "" "usage" --
	check bad-memory 125 "" "--memory 12Q" -- run --memory 12Q "$hello"
	check small-memory 125 "" "between 16M" -- run --memory 1M "$hello"
	check bad-volume 125 "" "HOST:GUEST" -- run --volume nocolon "$hello"
	check bad-volume-mode 125 "" "ro or rw" -- run --volume /tmp:/x:rx "$hello"
	check relative-cwd 125 "" "absolute" -- run --cwd usr "$hello"
	check bad-env 125 "" "K=V" -- run --env NOEQUALS "$hello"
	check bad-net-port 125 "" "--net=0: expected ports" -- run --net=0 "$hello"
	check bad-net-list 125 "" "--net=80,,1: expected" -- run --net=80,,1 "$hello"
	check bad-net-big 125 "" "--net=65536: expected" -- run --net=65536 "$hello"
	check net-help 0 "--net\\[=PORT" "" -- --help
	check bad-timeout 125 "" "--timeout 1x: expected seconds" -- run --timeout 1x "$hello"
	check bad-timeout-neg 125 "" "--timeout -1: expected seconds" -- run --timeout -1 "$hello"
	check bad-timeout-hex 125 "" "--timeout 0x10: expected seconds" -- run --timeout 0x10 "$hello"
	check bad-timeout-inf 125 "" "--timeout inf: expected seconds" -- run --timeout inf "$hello"
	check bad-timeout-empty 125 "" "--timeout : expected seconds" -- run --timeout "" "$hello"
	check bad-timeout-dot 125 "" "--timeout \\.: expected seconds" -- run --timeout . "$hello"
	check zero-timeout 125 "" "--timeout 0: must be from 0.001" -- run --timeout 0 "$hello"
	check huge-timeout 125 "" "--timeout 99999999999: must be from" -- run --timeout 99999999999 "$hello"
	check bad-cpus 125 "" "--cpus 0: expected a number of CPUs" -- run --cpus 0 "$hello"
	check bad-cpus-junk 125 "" "--cpus two: expected a number of CPUs" -- run --cpus two "$hello"
	check bad-cpus-neg 125 "" "--cpus -1: expected a number of CPUs" -- run --cpus -1 "$hello"
	check too-many-cpus 125 "" "--cpus 100000: expected|--cpus 100000: only [0-9]+ CPU" -- run --cpus 100000 "$hello"
	check more-cpus-than-host 125 "" "--cpus $(($(nproc) + 1)): only $(nproc) CPU" -- run --cpus $(($(nproc) + 1)) "$hello"
	check bad-fsize 125 "" "--max-file-size 10Q: expected a size" -- run --max-file-size 10Q "$hello"
	check bad-fsize-neg 125 "" "--max-file-size -1: expected a size" -- run --max-file-size -1 "$hello"
	check bad-fsize-big 125 "" "--max-file-size 99999999T: expected a size" -- run --max-file-size 99999999T "$hello"
	check bad-max-fds 125 "" "--max-fds 3: expected a number from 4" -- run --max-fds 3 "$hello"
	check big-max-fds 125 "" "--max-fds 65537: expected a number from 4" -- run --max-fds 65537 "$hello"
	check limits-help 0 "--timeout SECONDS" "" -- --help
}
# The tests that need KVM (SKIP without it), in the order they run.
KVM_TESTS=(root-missing cwd env-default env-no-leak env-inherit env-add trace
	trace-enosys-summary trace-file timing limits-ok ulimit-fsize
	ulimit-nofile)
# host_checks, KVM_TESTS, and cli/no-kvm and cli/kvm-eacces at the end.
plan $(($(check() { echo; }; host_checks | wc -l) + ${#KVM_TESTS[@]} + 2))
host_checks

if [ -n "$why" ]; then
	for t in "${KVM_TESTS[@]}"; do skip "cli/$t" "$why"; done
else
	check root-missing 125 "" "existing directory" -- run --root /nonexistent/dir "$hello" one two
	check cwd 0 "^/usr$" "" -- run --cwd /usr $BB pwd
	FOO=leak check env-default 0 "^PATH=/usr/local/bin" "" -- run $BB env
	if grep -q '^FOO=' "$tmp/out"; then fail "cli/env-no-leak" "FOO leaked"; else pass "cli/env-no-leak"; fi
	FOO=inherited check env-inherit 0 "^FOO=inherited$" "" -- run --env-inherit --env BAR=1 $BB env
	grep -q '^BAR=1$' "$tmp/out" && pass "cli/env-add" || fail "cli/env-add" "BAR=1 missing"
	check trace 0 "SUCCESS" "write\(1, 0x[0-9a-f]+, [0-9]+\) = [0-9]+" -- run --trace "$hello" one two
	grep -qE '^--- [0-9]+ syscall\(s\) returned ENOSYS ---' "$tmp/err" &&
		grep -qE '^ +1  rseq$' "$tmp/err" && pass "cli/trace-enosys-summary" ||
		fail "cli/trace-enosys-summary" "$(tail -n 4 "$tmp/err" | tr '\n' ' ')"
	run_mote "$tmp/out" "$tmp/err" run --trace="$tmp/trace.txt" $BB cat /etc/hostname
	if grep -qE '^\[[0-9]+\] openat\(AT_FDCWD, "/etc/hostname", 0x[0-9a-f]+, 0[0-7]*\) = [0-9]+$' "$tmp/trace.txt" &&
		[ ! -s "$tmp/err" ]; then
		pass "cli/trace-file"
	else
		fail "cli/trace-file" "$(grep hostname "$tmp/trace.txt" | head -2 | tr '\n' ' ')"
	fi
	check timing 0 "" "timing: start to first guest instruction [0-9.]+ us" -- run --timing "$hello" one two
	check limits-ok 0 "SUCCESS" "" -- run --timeout 0.5 --timeout 20 --cpus 1 --max-file-size 1G --max-fds 100 "$hello" one two
	check ulimit-fsize 0 "^2048 2048$" "" -- run --max-file-size 1M $BB sh -c 'echo $(ulimit -f) $(ulimit -Hf)'
	check ulimit-nofile 0 "^100 100$" "" -- run --max-fds 100 $BB sh -c 'echo $(ulimit -n) $(ulimit -Hn)'
fi

# /dev/kvm missing or forbidden: one line naming the fix, status 125. Both
# need root to stage (a private mount namespace, another user).
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	skip "cli/no-kvm" "needs root and unshare to hide /dev/kvm"
	skip "cli/kvm-eacces" "needs root and setpriv to run as another user"
else
	timeout 20 unshare -m sh -c "mount -t tmpfs none /dev && exec $MOTE run $hello" \
		>"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ $st = 125 ] && grep -q "^mote: /dev/kvm: no such device" "$tmp/err" &&
		[ "$(wc -l <"$tmp/err")" = 1 ]; then
		pass "cli/no-kvm"
	else
		fail "cli/no-kvm" "status $st: $(cat "$tmp/err")"
	fi
	# A /dev/kvm of mode 0600 (a node of its own, so that this needs no
	# KVM), and mote run as nobody.
	cp "$MOTE" "$tmp/mote" && cp "$hello" "$tmp/hello" && chmod 755 "$tmp" "$tmp/mote" "$tmp/hello"
	timeout 20 unshare -m sh -c "mount -t tmpfs none /dev && mknod -m 600 /dev/kvm c 10 232 &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups $tmp/mote run $tmp/hello" \
		>"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ $st = 125 ] && grep -q "^mote: /dev/kvm: permission denied (add your user to the kvm group" "$tmp/err"; then
		pass "cli/kvm-eacces"
	else
		fail "cli/kvm-eacces" "status $st: $(cat "$tmp/err")"
	fi
fi
