# Shared helpers for the test suites (sourced). Every suite prints one line
# per test: "PASS name", "FAIL name: why" or "SKIP name: why".
O=${O:-build}
MOTE=${MOTE:-$O/mote}

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# Why KVM tests cannot run here, or nothing if they can.
kvm_missing() {
	if [ ! -e /dev/kvm ]; then
		echo "no /dev/kvm (KVM is not available on this machine)"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "no permission on /dev/kvm (add the user to the kvm group)"
	fi
}

# run_mote OUT ERR [mote args...]: runs mote under a timeout, stdout to OUT,
# stderr to ERR; returns mote's status (124 if the timeout hit).
run_mote() {
	local out=$1 err=$2
	shift 2
	timeout -k 5 ${TEST_TIMEOUT:-60} "$MOTE" "$@" >"$out" 2>"$err" </dev/null
}
