#!/usr/bin/env bash
# Debian's busybox-static reading the guest's /proc and /dev under mote:
# ps finds the guest itself, nproc and free agree with the VM, ls -l and
# readlink show /proc/self/fd and exe, and a script reads its own status.
set -u
. tests/lib.sh
BB=/bin/busybox
why=$(kvm_missing)
[ -z "$why" ] && [ ! -x "$BB" ] && why="no $BB (install busybox-static)"
TESTS=(ps nproc free fd exe status)
plan ${#TESTS[@]}
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do skip "procfs/$t" "$why"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME EXPECTED-REGEX MOTE-ARGS...: stdout must match the regex.
check() {
	local name=$1 want=$2
	shift 2
	run_mote "$tmp/out" "$tmp/err" run "$@"
	local st=$?
	if [ "$st" != 0 ]; then
		fail "procfs/$name" "status $st: $(tail -3 "$tmp/err" | tr '\n' ' ')"
	elif ! grep -qE -- "$want" "$tmp/out"; then
		fail "procfs/$name" "no '$want' in: $(head -5 "$tmp/out" | tr '\n' ' ')"
	else
		pass "procfs/$name"
	fi
}

ncpu=$(nproc)
check ps '^ *[0-9]+ +[^ ]+ +/bin/busybox ps$' $BB ps
check nproc "^$ncpu\$" $BB nproc
check free '^Mem: +131072 ' --memory 128M $BB free -k
check fd '^lr.* 2 -> /dev/null$' $BB sh -c "exec 2>/dev/null; $BB ls -l /proc/self/fd/"
check exe '^/usr/bin/busybox$|^/bin/busybox$' $BB readlink /proc/self/exe
# The shell itself opens /proc/self/status (a redirection, no child).
check status '^ok$' $BB sh -c \
	'while read -r k v; do [ "$k" = Pid: ] && [ "$v" = $$ ] && echo ok; done </proc/self/status; exit 0'
