#!/usr/bin/env bash
# The CPU surface a guest sees: CPUID without KVM's paravirtual leaves
# (tests/guest/cpu_surface.c, whose VMX/SVM checks also run in guest.sh).
# kvm_pvm runs a guest's CPL-3 CPUID on the host CPU, without exiting, so
# there the guest sees the host's own CPUID and the leaf check is skipped.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -z "$why" ] && [ -d /sys/module/kvm_pvm ] && ! [ -d /sys/module/kvm_intel ] &&
	! [ -d /sys/module/kvm_amd ] &&
	why="kvm_pvm: CPL-3 CPUID runs on the host CPU, mote cannot filter it"
kinds=(gcc musl)
plan ${#kinds[@]}
for k in "${kinds[@]}"; do
	t=cpu/kvm-leaves-hidden.$k
	if [ -n "$why" ]; then
		skip "$t" "$why"
		continue
	fi
	run_mote "$tmp/out" "$tmp/err" run "$O/tests/guest/cpu_surface.$k" leaves
	st=$?
	if [ $st = 0 ] && grep -qx SUCCESS "$tmp/out"; then
		pass "$t"
	else
		fail "$t" "status $st: $(cat "$tmp/out" "$tmp/err" | tr '\n' ' ')"
	fi
done
