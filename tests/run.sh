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
# MOTE_TEST_VMS=N shares the KVM suites out over N test VMs at once, one
# CPU each (default: as many as the host has CPUs and memory for, up to 4).
#
# Suites whose header says `# needs-kvm: no` (unit tests, fuzzers) run on
# the host, alongside the test VM. Suites that say `# needs-kvm: hardware`
# (mote boot: a stock kernel) need KVM with hardware semantics: where auto
# picks a kvm_pvm host, they run in the test VM instead. A run in which
# the KVM suites could run nowhere fails, as does a suite that dies
# part-way or prints another number of results than its `plan` said.
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
needs_hw() { grep -q '^# needs-kvm: hardware$' "$1"; }

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
		bash "$s" 2>&1 | tee "$out" | grep --line-buffered -vE '^(PASS|PLAN) '
		st=${PIPESTATUS[0]}
		cat "$out" >>"$log"
		# For the runner outside the test VM, as soon as they are known.
		[ -n "${MOTE_RESULTS:-}" ] && grep -E '^(PASS|FAIL|SKIP) ' "$out" >>"$MOTE_RESULTS"
		planned=$(awk '/^PLAN [0-9]+$/ { n += $2; p = 1 } END { if (p) print n }' "$out")
		got=$(grep -cE '^(PASS|FAIL|SKIP) ' "$out")
		local bad=""
		if [ "$st" != 0 ]; then
			bad="FAIL suite/$name: died with status $st after $got results"
		elif [ -z "$planned" ]; then
			bad="FAIL suite/$name: no plan (tests/lib.sh: plan N)"
		elif [ "$got" != "$planned" ]; then
			bad="FAIL suite/$name: $got results, $planned planned"
		fi
		if [ -n "$bad" ]; then
			echo "$bad" | tee -a "$log"
			[ -n "${MOTE_RESULTS:-}" ] && echo "$bad" >>"$MOTE_RESULTS"
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

# Seconds each suite took in one test VM (2026-12): the VMs get their
# shares by these, longest first, each to the least loaded (unknown: 30).
declare -A weight=([asan]=1150 [guest]=780 [cli]=180 [asan-hostile]=170
	[stress]=151 [hostile]=120 [snap]=109 [compat]=73 [limits]=60 [ctl]=58
	[busybox]=54 [shell]=47 [elf]=24 [aslr]=22 [sandbox]=9 [fs]=6 [mm]=6
	[net]=6 [procfs]=4 [cpu]=2 [entry]=1 [oci]=570 [migrate]=70 [boot]=90)

# How many test VMs at once: one CPU and ~5 GiB each, at most 4.
vm_count() {
	local n=${MOTE_TEST_VMS:-} mem
	if [ -z "$n" ]; then
		mem=$(awk '/^MemAvailable:/ { print int($2 / 5242880) }' /proc/meminfo)
		n=$(nproc)
		[ "$mem" -lt "$n" ] && n=$mem
		[ "$n" -gt 4 ] && n=4
		[ "$n" -lt 1 ] && n=1
	fi
	echo "$n"
}

# run_vms NPT SUITE...: runs the suites in the test VMs (kvm-amd's npt=NPT),
# each VM's share through tests/run.sh inside it; their results go to the
# log, where they ran to kvm_at.
run_vms() {
	local npt=$1 n i s best res vst where_vm total=0
	shift
	n=$(vm_count)
	[ "$n" -gt $# ] && n=$#
	tests/vm/image.sh "$O/vm" || {
		echo "FAIL kvm: cannot build the test VM's image" | tee -a "$log"
		return
	}
	local -a load share
	for ((i = 0; i < n; i++)); do load[i]=0; share[i]=""; done
	for s in $(for s in "$@"; do
		echo "${weight[$(basename "$s" .sh)]:-30} $s"
	done | sort -rn | cut -d' ' -f2); do
		best=0
		for ((i = 1; i < n; i++)); do
			[ "${load[i]}" -lt "${load[best]}" ] && best=$i
		done
		share[best]="${share[best]} $s"
		load[best]=$((load[best] + ${weight[$(basename "$s" .sh)]:-30}))
	done
	# Results come back through a file in the build dir, which the VMs
	# share writable.
	mkdir -p "$O/vm"
	local rdir
	rdir=$(mktemp -d "$O/vm/results.XXXXXX")
	echo "KVM tests: in $n test VM(s) at once (tests/vm: QEMU's emulator, kvm-amd, npt=$npt)"
	for ((i = 0; i < n; i++)); do
		: >"$rdir/$i"
		# shellcheck disable=SC2086 # the share is a list of paths
		(tests/vm/run.sh --npt="$npt" --rw "$rdir" -- \
			env MOTE_KVM=here MOTE_RESULTS="$rdir/$i" tests/run.sh "$O" ${share[i]} \
			>"$rdir/out.$i" 2>&1
		echo $? >"$rdir/status.$i") &
	done
	# Streamed as they go, each line with the VM's number.
	local tails=()
	for ((i = 0; i < n; i++)); do
		tail -n +1 -F "$rdir/out.$i" 2>/dev/null | sed -u "s/^/[vm$i] /" &
		tails+=($!)
	done
	wait_vms "$rdir" "$n"
	for ((i = 0; i < n; i++)); do
		grep -E '^(PASS|FAIL|SKIP) ' "$rdir/$i" >>"$log"
		res=$(sed -n 's/^RESULT //p' "$rdir/out.$i" | tail -1)
		vst=$(cat "$rdir/status.$i")
		if [ -z "$res" ]; then
			echo "FAIL kvm: test VM $i ended (status $vst) before its suites did:${share[i]}" | tee -a "$log"
			continue
		fi
		read -r _ _ _ where_vm <<<"$res"
		total=$((total + $(grep -cE '^(PASS|FAIL) ' "$rdir/$i")))
	done
	pkill -P $$ -x tail 2>/dev/null
	kill "${tails[@]}" 2>/dev/null
	rm -rf "$rdir"
	[ -n "${where_vm:-}" ] &&
		kvm_at="${kvm_at:+$kvm_at; }$total KVM tests ran in $n test VM(s) ($where_vm)"
}

# wait_vms DIR N: until every VM has left its status file.
wait_vms() {
	local i done
	while :; do
		done=0
		for ((i = 0; i < $2; i++)); do [ -s "$1/status.$i" ] && done=$((done + 1)); done
		[ "$done" -eq "$2" ] && break
		sleep 1
	done
	sleep 1 # the last lines through tail
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

# On a kvm_pvm host that auto picked, the suites that need hardware KVM go
# to the test VM.
hw_suites=()
if [ "${MOTE_KVM:-auto}" = auto ] && [ "$where" = host ] && [[ $hk == *kvm_pvm* ]]; then
	rest=()
	for s in "${suites[@]}"; do
		if needs_hw "$s"; then hw_suites+=("$s"); else rest+=("$s"); fi
	done
	suites=("${rest[@]}")
	rest=()
	for s in "${kvm_suites[@]}"; do needs_hw "$s" || rest+=("$s"); done
	kvm_suites=("${rest[@]}")
fi

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
	if [ ${#hw_suites[@]} -gt 0 ]; then
		vm_why=$(tests/vm/run.sh --check 2>&1)
		if [ -n "$vm_why" ]; then
			echo "FAIL kvm: ${hw_suites[*]##*/} need hardware KVM (this host's is kvm_pvm), and the test VM cannot start: ${vm_why#test VM: }" | tee -a "$log"
		else
			run_vms "${MOTE_KVM_NPT:-1}" "${hw_suites[@]}"
		fi
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
	# The host's suites alongside the VMs, their output after theirs.
	hlog=$tmp/host.log
	: >"$hlog"
	run_suites "$hlog" "${host_suites[@]}" >"$tmp/host.out" 2>&1 &
	hpid=$!
	if [ ${#kvm_suites[@]} -gt 0 ]; then
		run_vms "${MOTE_KVM_NPT:-1}" "${kvm_suites[@]}"
		# The second pass of make check-full: shadow paging.
		shadow=()
		for s in "${kvm_suites[@]}"; do
			case $(basename "$s" .sh) in guest | hostile | snap) shadow+=("$s") ;; esac
		done
		if [ -n "${MOTE_CHECK_FULL:-}" ] && [ ${#shadow[@]} -gt 0 ]; then
			MOTE_TEST_TAG=npt0 run_vms 0 "${shadow[@]}"
		elif [ ${#shadow[@]} -gt 0 ] && [ "${MOTE_KVM_NPT:-1}" != 0 ]; then
			echo "Left out (make check-full runs them): ${shadow[*]##*/} again with shadow paging (kvm-amd npt=0)"
		fi
	fi
	wait $hpid
	if [ ${#host_suites[@]} -gt 0 ]; then
		echo "== on the host, alongside the test VM:"
		grep -vE '^(PASS |   \()' "$tmp/host.out"
		cat "$hlog" >>"$log"
	fi
	;;
esac

p=$(count PASS "$log")
f=$(count FAIL "$log")
k=$(count SKIP "$log")
# Inside a test VM the runner outside prints the failures.
if [ "$f" -gt 0 ] && [ -z "${MOTE_RESULTS:-}" ]; then
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
