#!/usr/bin/env bash
# The monitor's own sandbox (src/sandbox.c, src/landlock.c,
# src/seccomp/policy.c): the seccomp filter is in force and reports a
# refused syscall; Landlock keeps the monitor out of host files beyond the
# root; --no-sandbox says so; what guests do through the sandbox still works.
# Every other suite runs with the sandbox on too.
#
# The MOTE_TEST_SANDBOX_* hooks are read from mote's own environment right
# after the sandbox is entered: _VIOLATION makes the monitor call ptrace
# (an invalid request), _OPEN=PATH makes it open PATH on the host.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BB=/bin/busybox
hello=$O/tests/guest/hello.gcc
names=(violation violation-no-sandbox guest-env-no-hook guest-sigsys
	landlock-open landlock-open-no-sandbox trace-line rw-volume
	stdio-reopen)
plan ${#names[@]}
if [ -n "$why" ]; then
	for n in "${names[@]}"; do skip "sandbox/$n" "$why"; done
	exit 0
fi

# expect NAME WANT_STATUS STDERR_LINE (exact, or "" for none wanted) OUT_RE
expect() {
	local name=$1 want=$2 line=$3 out=$4 st
	st=$(cat "$tmp/st")
	if [ "$st" != "$want" ]; then
		fail "sandbox/$name" "status $st, want $want: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
	elif [ -n "$line" ] && ! grep -qxF -- "$line" "$tmp/err"; then
		fail "sandbox/$name" "stderr lacks the line '$line': $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
	elif [ -n "$out" ] && ! grep -qE -- "$out" "$tmp/out"; then
		fail "sandbox/$name" "stdout lacks /$out/: $(tail -n 3 "$tmp/out" | tr '\n' ' ')"
	else
		pass "sandbox/$name"
	fi
}

# run [ENV=V...] -- mote args...: status to $tmp/st.
run() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" timeout -k 5 60 "$MOTE" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	echo $? >"$tmp/st"
}

warn="mote: warning: --no-sandbox: the monitor runs without its seccomp/Landlock sandbox"

run MOTE_TEST_SANDBOX_VIOLATION=1 -- run "$hello" one two
expect violation 125 "mote: sandbox violation: syscall ptrace (101)" ""
run MOTE_TEST_SANDBOX_VIOLATION=1 -- run --no-sandbox "$hello" one two
expect violation-no-sandbox 0 "$warn" SUCCESS

# The hook is the monitor's environment, never the guest's.
run -- run --env MOTE_TEST_SANDBOX_VIOLATION=1 "$hello" one two
if grep -q "sandbox violation" "$tmp/err"; then
	fail sandbox/guest-env-no-hook "the guest's environment reached the hook"
else
	expect guest-env-no-hook 0 "" SUCCESS
fi

# A SIGSYS the guest sends itself is the guest's signal, not a violation.
run -- run "$BB" sh -c 'kill -SYS $$'
if grep -q "sandbox violation" "$tmp/err"; then
	fail sandbox/guest-sigsys "reported as a violation: $(cat "$tmp/err")"
else
	expect guest-sigsys 159 "" ""
fi

# Landlock: with --root, a host file outside it is closed to the monitor.
mkdir -p "$tmp/root"
run -- run --trace "$hello" one two
if grep -q "no Landlock" "$tmp/err"; then
	skip sandbox/landlock-open "this kernel has no Landlock"
else
	run MOTE_TEST_SANDBOX_OPEN=/etc/hostname -- run --root "$tmp/root" \
		"$hello" one two
	expect landlock-open 0 \
		"mote: sandbox test: open /etc/hostname: Permission denied" SUCCESS
fi
run MOTE_TEST_SANDBOX_OPEN=/etc/hostname -- run --no-sandbox \
	--root "$tmp/root" "$hello" one two
expect landlock-open-no-sandbox 0 "mote: sandbox test: open /etc/hostname: opened" SUCCESS

# --trace says what the sandbox holds, once.
run -- run --trace "$hello" one two
n=$(grep -cE "^mote: sandbox: [0-9]+ syscalls allowed \([0-9]+ with argument filters\), (Landlock ABI [0-9]+|no Landlock in this kernel)$" "$tmp/err")
if [ "$n" = 1 ]; then
	expect trace-line 0 "" SUCCESS
else
	fail sandbox/trace-line "want one sandbox line in --trace, got $n"
fi

# What a :rw volume allows passes Landlock: files, directories, links,
# renames, removal (sockets there: the net suite).
mkdir -p "$tmp/vol"
run -- run --volume "$tmp/vol:/v:rw" "$BB" sh -c '
	cd /v && echo data > f && mkdir d && mv f d/g && ln -s d/g s &&
	ln d/g h && cat s && rm h && : > t && rm t'
if [ "$(cat "$tmp/vol/d/g" 2>/dev/null)" != data ]; then
	fail sandbox/rw-volume "the host does not see d/g: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
else
	expect rw-volume 0 "" "^data$"
fi

# The guest's stdio files (mote's own) reopen through /dev/stderr.
run -- run "$BB" sh -c 'echo reopened > /dev/stderr'
expect stdio-reopen 0 "reopened" ""
