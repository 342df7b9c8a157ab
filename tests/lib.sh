# Shared helpers for the test suites (sourced). Every suite prints one line
# per test: "PASS name", "FAIL name: why" or "SKIP name: why".
O=${O:-build}
MOTE=${MOTE:-$O/mote}
# How long one run may take: in the test VM (QEMU's emulator) everything
# is 10x slower or more, the ASan build slower again.
if [ -z "${TEST_TIMEOUT:-}" ]; then
	TEST_TIMEOUT=60
	[ -n "${MOTE_TESTVM:-}" ] && TEST_TIMEOUT=300
fi
export TEST_TIMEOUT

# MOTE_TEST_TAG names a second pass of the same tests (npt0: shadow paging).
pass() { echo "PASS ${MOTE_TEST_TAG:+$MOTE_TEST_TAG/}$1"; }
fail() { echo "FAIL ${MOTE_TEST_TAG:+$MOTE_TEST_TAG/}$1: $2"; }
skip() { echo "SKIP ${MOTE_TEST_TAG:+$MOTE_TEST_TAG/}$1: $2"; }
# plan N: the suite will print N result lines (PASS, FAIL or SKIP) on
# every path. Said once, before the first result (a suite that runs another
# adds that one's plan to its own); tests/run.sh fails a suite whose count
# differs, or that dies part-way.
plan() { echo "PLAN $1"; }

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

# refused NAME STATUS TEXT MOTE-ARGS...: mote exits with STATUS and says
# TEXT (case-insensitive) in one "mote: " line on stderr. Uses $tmp.
refused() {
	local name=$1 want=$2 text=$3 st msg
	shift 3
	run_mote "$tmp/out" "$tmp/err" "$@"
	st=$?
	msg=$(head -c 300 "$tmp/err" | tr '\n' ' ')
	if [ "$st" != "$want" ]; then
		fail "$name" "status $st, want $want: $msg"
	elif [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -q '^mote: ' "$tmp/err"; then
		fail "$name" "want one 'mote: ' line on stderr, got: $msg"
	elif ! grep -qiF -- "$text" "$tmp/err"; then
		fail "$name" "stderr lacks '$text': $msg"
	else
		pass "$name"
	fi
}

# lsan_broken ASAN_BIN: why LeakSanitizer cannot run here (nothing if it
# can), probed with an ASan-built program. It needs /proc/PID/task of its
# own pid namespace and ptrace of its own threads: a pid namespace without
# its own /proc, or a sandbox without ptrace, makes it abort.
lsan_broken() {
	[ -x "$1" ] || return 0
	if ASAN_OPTIONS=detect_leaks=1 "$1" 2>&1 >/dev/null |
		grep -q 'LeakSanitizer has encountered a fatal error'; then
		echo "LeakSanitizer cannot run here (no /proc of this pid namespace, or no ptrace): leak checks off"
	fi
}

# await_line FILE TEXT: waits up to $STAGE seconds for a line TEXT in
# FILE; status 1 if it does not come.
await_line() {
	local end=$((SECONDS + STAGE))
	while ! grep -qxF -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

# first_diff A B: the first line where files A and B differ, quoted with
# cat -v ("line N: native "...", mote "..."").
first_diff() {
	awk -v A="$1" -v B="$2" 'BEGIN {
		for (i = 1;; i++) {
			ra = (getline la < A) > 0; rb = (getline lb < B) > 0
			if (!ra && !rb)
				exit
			if (!ra) la = "<EOF>"
			if (!rb) lb = "<EOF>"
			if (ra != rb || la != lb) {
				printf "line %d: native \"%s\", mote \"%s\"\n",
				       i, substr(la, 1, 100), substr(lb, 1, 100)
				exit
			}
		}
	}' | cat -v
}

# Why /proc cannot be read about this shell's children (nothing if it can):
# in a pid namespace without its own /proc mounted (as CI may run),
# /proc/PID names another namespace's process.
proc_foreign() {
	local both
	both=$(sh -c 'echo $$; exec readlink /proc/self' 2>/dev/null | tr '\n' ' ')
	set -- $both
	[ "${1:-}" = "${2:-x}" ] ||
		echo "/proc is not this pid namespace's (a pid namespace without its own /proc?)"
}
