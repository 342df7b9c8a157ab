#!/usr/bin/env bash
# Path confinement against a prepared host tree: a --root and a rw --volume
# holding symlinks (absolute, relative, to directories, into /proc) that
# point outside them, and a file outside both. The guest program
# tests/guest/fs_escape.c checks what it sees; this script then checks on
# the host that nothing in the tree changed.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# prepare DIR: DIR/outside/secret, and DIR/root and DIR/vol each with a fake
# etc/passwd and the same set of links out.
prepare() {
	local t=$1 d
	mkdir -p "$t/outside" "$t/root/etc" "$t/vol/etc"
	echo host-secret >"$t/outside/secret"
	chmod 600 "$t/outside/secret"
	echo fake-root >"$t/root/etc/passwd"
	echo fake-vol >"$t/vol/etc/passwd"
	for d in root vol; do
		ln -s /etc/passwd "$t/$d/abs"
		ln -s ../../../../../../../../etc/passwd "$t/$d/rel"
		ln -s "$t/outside/secret" "$t/$d/hostabs"
		ln -s ../outside/secret "$t/$d/hostrel"
		ln -s ../../.. "$t/$d/updir"
		ln -s /proc/self/root "$t/$d/procroot"
	done
}

# Everything about the tree but times: names, types, modes, sizes, link
# targets, contents.
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %s %l\n' | sort &&
		find . -type f -exec md5sum {} + | sort)
}

kinds=(gcc musl)
plan ${#kinds[@]}
for cc in "${kinds[@]}"; do
	t="fs/escape.$cc"
	bin=$O/tests/guest/fs_escape.$cc
	if [ -n "$why" ]; then skip "$t" "$why"; continue; fi
	if [ ! -x "$bin" ]; then fail "$t" "not built ($bin)"; continue; fi
	d=$(mktemp -d "$tmp/XXXX")
	prepare "$d"
	before=$(snapshot "$d")
	run_mote "$tmp/out" "$tmp/err" run --root "$d/root" \
		--volume "$d/vol:/data:rw" "$bin" prepared "$d/outside/secret"
	st=$?
	after=$(snapshot "$d")
	if [ "$st" != 0 ]; then
		fail "$t" "status $st: $(tail -3 "$tmp/out" "$tmp/err" | tr '\n' ' ')"
	elif ! grep -qx SUCCESS "$tmp/out"; then
		fail "$t" "no SUCCESS: $(tail -3 "$tmp/out" | tr '\n' ' ')"
	elif [ "$before" != "$after" ]; then
		fail "$t" "the host tree changed: $(diff <(echo "$before") \
			<(echo "$after") | tr '\n' ' ')"
	else
		pass "$t"
	fi
done
