#!/usr/bin/env bash
# The other syscall entry path. mote picks the doorbell trampoline on KVMs
# whose `syscall` does not enter CPL 0 (kvm_pvm) and the shim elsewhere; this
# suite runs a set of guests with the path the host did not pick
# (MOTE_SYSCALL_ENTRY), so both paths are tested on every machine.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -e /sys/module/kvm_pvm ] && [ ! -e /sys/module/kvm_intel ] &&
	[ ! -e /sys/module/kvm_amd ]; then
	other=shim
else
	other=doorbell
fi
# The doorbell path needs a KVM that enters LSTAR at CPL 3; on others only
# the shim path can run.
if [ "$other" = doorbell ]; then
	plan 1
	skip "entry/doorbell" "this KVM enters CPL 0 on syscall; the doorbell path is for kvm_pvm"
	exit 0
fi
names=(hello io_rw io_poll mm_mmap neg_ptr misc_prctl fault_null fault_ud2)
kinds=(gcc musl)
plan $((${#names[@]} * ${#kinds[@]}))
for name in "${names[@]}"; do
	for cc in "${kinds[@]}"; do
		t="entry-$other/$name.$cc"
		if [ -n "$why" ]; then skip "$t" "$why"; continue; fi
		src=tests/guest/$name.c
		margs=$(sed -n 's|^// mote-args: ||p' "$src" | head -1)
		pargs=$(sed -n 's|^// args: ||p' "$src" | head -1)
		want=$(sed -n 's|^// expect-status: ||p' "$src" | head -1)
		want=${want:-0}
		# shellcheck disable=SC2086
		MOTE_SYSCALL_ENTRY=$other run_mote "$tmp/out" "$tmp/err" run $margs \
			"$O/tests/guest/$name.$cc" $pargs
		st=$?
		if [ "$st" != "$want" ]; then
			fail "$t" "status $st, want $want: $(cat "$tmp/out" "$tmp/err" | tail -n 3 | tr '\n' ' ')"
		elif [ "$want" = 0 ] && ! grep -qx SUCCESS "$tmp/out"; then
			fail "$t" "no SUCCESS: $(tail -n 3 "$tmp/out" | tr '\n' ' ')"
		else
			pass "$t"
		fi
	done
done
