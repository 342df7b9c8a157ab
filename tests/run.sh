#!/usr/bin/env bash
# Runs the test suites and prints the summary line make check ends with.
#
# Usage: tests/run.sh [BUILD_DIR] [SUITE...]
#
# Where the suites that need KVM run (MOTE_KVM):
#   auto (default)  on this host's KVM when mote can start a VM on it, else
#                   in the test VM (tests/vm: QEMU's emulator with kvm-amd)
#   host            on this host's KVM, whatever it is
#   vm              in the test VM, even where the host has a KVM
# MOTE_KVM_NPT=0 loads the test VM's kvm-amd with shadow paging.
#
# Suites whose header says `# needs-kvm: no` (unit tests, fuzzers) run on
# the host, alongside the test VM. A run in which the KVM suites could run
# nowhere fails, as does a suite that dies part-way or prints another
# number of results than its `plan` said.
set -u
cd "$(dirname "$0")/.."
export O=${1:-build}
shift || true
export MOTE=$O/mote
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(tests/suites/*.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

needs_kvm() { ! grep -q '^# needs-kvm: no$' "$1"; }

# run_suites LOG SUITE...: runs each suite here, its results to stdout and
# LOG, and checks it kept to its plan.
run_suites() {
	local log=$1 s name out st planned got t0
	shift
	for s in "$@"; do
		name=$(basename "$s" .sh)
		out=$tmp/suite.$name
		echo "== $name"
		t0=$SECONDS
		# Streamed as the suite goes, but for the PASS lines.
		bash "$s" 2>&1 | tee "$out" | grep --line-buffered -v '^PASS '
		st=${PIPESTATUS[0]}
		cat "$out" >>"$log"
		planned=$(awk '/^PLAN [0-9]+$/ { n += $2; p = 1 } END { if (p) print n }' "$out")
		got=$(grep -cE '^(PASS|FAIL|SKIP) ' "$out")
		if [ "$st" != 0 ]; then
			echo "FAIL suite/$name: died with status $st after $got results" | tee -a "$log"
		elif [ -z "$planned" ]; then
			echo "FAIL suite/$name: no plan (tests/lib.sh: plan N)" | tee -a "$log"
		elif [ "$got" != "$planned" ]; then
			echo "FAIL suite/$name: $got results, $planned planned" | tee -a "$log"
		fi
		echo "   ($(grep -c '^PASS ' "$log") passed so far; $name took $((SECONDS - t0)) s)"
	done
}

# The number of PASS and FAIL results of the suites named.
ran() {
	local n=0 s
	for s in "$@"; do
		n=$((n + $(grep -cE '^(PASS|FAIL) ' "$tmp/suite.$(basename "$s" .sh)")))
	done
	echo $n
}

count() { grep -c "^$1 " "$2"; }
# Where KVM suites can run here: prints "host KIND", or nothing.
host_kvm() {
	[ -e /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 0
	timeout 60 "$MOTE" run "$O/demo/hello" >/dev/null 2>&1 </dev/null || return 0
	local kind=KVM
	if [ -d /sys/module/kvm_intel ]; then
		kind="kvm_intel (Intel VT-x, EPT $(cat /sys/module/kvm_intel/parameters/ept 2>/dev/null))"
	elif [ -d /sys/module/kvm_amd ]; then
		kind="kvm_amd (AMD SVM, NPT $(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null))"
	elif [ -d /sys/module/kvm_pvm ]; then
		kind="kvm_pvm (software virtualization)"
	fi
	echo "host $kind"
}

# Inside the test VM, or told to use this host: everything runs here.
where=${MOTE_KVM:-auto}
[ -n "${MOTE_TESTVM:-}" ] && where=here
hk=""
case $where in
auto)
	hk=$(host_kvm)
	if [ -n "$hk" ]; then
		where=host
	else
		where=vm
		vm_why=$(tests/vm/run.sh --check 2>&1)
		[ -n "$vm_why" ] && where=none
	fi
	;;
host) hk=$(host_kvm) ;;
vm) vm_why=$(tests/vm/run.sh --check 2>&1) ;;
here) ;;
*)
	echo "tests/run.sh: MOTE_KVM=$where: expected auto, host or vm" >&2
	exit 2
	;;
esac

log=$tmp/log
: >"$log"
kvm_suites=()
host_suites=()
for s in "${suites[@]}"; do
	if needs_kvm "$s"; then kvm_suites+=("$s"); else host_suites+=("$s"); fi
done

kvm_at=""
case $where in
here)
	run_suites "$log" "${suites[@]}"
	kvm_at="$(ran "${kvm_suites[@]}") KVM tests ran in the test VM (${MOTE_TESTVM:-})"
	;;
host)
	run_suites "$log" "${suites[@]}"
	if [ -n "$hk" ]; then
		kvm_at="$(ran "${kvm_suites[@]}") KVM tests ran on this host's ${hk#host }"
	elif [ ${#kvm_suites[@]} -gt 0 ]; then
		echo "FAIL kvm: MOTE_KVM=host, but mote cannot start a VM on this host (is /dev/kvm usable?)" | tee -a "$log"
	fi
	;;
none)
	# What needs no VM still runs; the KVM tests say SKIP, and the run
	# fails: nothing that starts a VM was tested.
	run_suites "$log" "${suites[@]}"
	[ ${#kvm_suites[@]} -gt 0 ] &&
		echo "FAIL kvm: no usable /dev/kvm here, and the test VM cannot start: ${vm_why#test VM: }" | tee -a "$log"
	;;
vm)
	if [ -n "${vm_why:-}" ]; then
		echo "FAIL kvm: MOTE_KVM=vm, but the test VM cannot start: ${vm_why#test VM: }" | tee -a "$log"
		kvm_suites=()
	fi
	# The host's suites alongside the VM, their output after its.
	hlog=$tmp/host.log
	: >"$hlog"
	run_suites "$hlog" "${host_suites[@]}" >"$tmp/host.out" 2>&1 &
	hpid=$!
	if [ ${#kvm_suites[@]} -gt 0 ]; then
		vlog=$tmp/vm.log
		echo "KVM tests: in the test VM (tests/vm: QEMU's emulator, kvm-amd), the rest on this host"
		tests/vm/run.sh --npt="${MOTE_KVM_NPT:-1}" -- \
			env MOTE_KVM=here tests/run.sh "$O" "${kvm_suites[@]}" | tee "$vlog"
		vst=${PIPESTATUS[0]}
		res=$(sed -n 's/^RESULT //p' "$vlog" | tail -1)
		grep -E '^(PASS|FAIL|SKIP) ' "$vlog" >>"$log"
		if [ -z "$res" ]; then
			echo "FAIL kvm: the test VM ended (status $vst) before its suites did" | tee -a "$log"
		else
			read -r _ _ _ vm_where <<<"$res"
			kvm_at="$(grep -cE '^(PASS|FAIL) ' "$vlog") KVM tests ran in the test VM ($vm_where)"
		fi
	fi
	wait $hpid
	if [ ${#host_suites[@]} -gt 0 ]; then
		echo "== on the host, alongside the VM:"
		grep -vE '^(PASS |   \()' "$tmp/host.out"
		cat "$hlog" >>"$log"
	fi
	;;
esac

p=$(count PASS "$log")
f=$(count FAIL "$log")
k=$(count SKIP "$log")
if [ "$f" -gt 0 ]; then
	echo "failed tests:"
	grep '^FAIL ' "$log" | sed 's/^/  /'
fi
line="$p passed, $f failed"
[ "$k" -gt 0 ] && line="$line, $k skipped"
[ -n "$kvm_at" ] && line="$line; $kvm_at"
echo "$line"
# For a runner outside the VM: the counts and where they were made.
[ "$where" = here ] && echo "RESULT $p $f $k ${MOTE_TESTVM:-}"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
