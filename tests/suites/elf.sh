#!/usr/bin/env bash
# Programs mote must refuse, and command lines it must reject: each gets its
# exact exit status (125 mote failed, 126 cannot execute, 127 not found) and
# a single "mote: ..." line on stderr that says why.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base=$O/tests/guest/hello.gcc

# expect NAME STATUS TEXT MOTE-ARGS...: mote exits with STATUS and says
# TEXT (case-insensitive) in one stderr line.
expect() {
	local name=elf/$1
	shift
	refused "$name" "$@"
}

# expect_out NAME STATUS out|err PATTERN MOTE-ARGS...: mote exits with
# STATUS and its stdout or stderr matches PATTERN (extended regex).
expect_out() {
	local name=elf/$1 want=$2 file=$tmp/$3 std=$3 pat=$4
	shift 4
	run_mote "$tmp/out" "$tmp/err" "$@"
	local st=$?
	if [ "$st" != "$want" ] || ! grep -qE -- "$pat" "$file"; then
		fail "$name" "status $st (want $want), std$std should match '$pat': $(head -c 200 "$file" | tr '\n' ' ')"
	else
		pass "$name"
	fi
}

# kvm_queue NAME COMMAND...: queue COMMAND, a test whose program must
# start (a VM), or a SKIP for elf/NAME where there is no KVM.
kvm_queue() {
	local name=$1
	shift
	if [ -n "$why" ]; then queue skip "elf/$name" "$why"; else queue "$@"; fi
}

# A copy of the static test program, executable, with bytes patched:
# patched NAME OFFSET PRINTF-BYTES.
patched() {
	# shellcheck disable=SC2059 # the format is the bytes to write
	cp "$base" "$tmp/$1" && chmod +x "$tmp/$1" &&
		printf "$3" | dd of="$tmp/$1" bs=1 seek="$2" conv=notrunc status=none
}

# A 32-bit ELF: linked for real if this gcc can, else a 64-bit one
# relabelled (EI_CLASS = ELFCLASS32).
make_elf32() {
	echo 'void _start(void) { for (;;); }' >"$tmp/e32.c"
	gcc -m32 -nostdlib -static -o "$tmp/elf32" "$tmp/e32.c" 2>/dev/null ||
		patched elf32 4 '\001'
}

# queue COMMAND...: a test (a command printing one result line), run once
# all are set up: the files each needs are made as it is queued, and the
# plan is the length of the queue.
tests=()
queue() { tests+=("$(printf '%q ' "$@")"); }

if [ ! -x "$base" ]; then
	plan 1
	fail elf/setup "not built ($base)"
	exit 0
fi

# ---- the command line (no VM needed) ----
queue expect_out help 0 out 'mote run' --help
queue expect_out version 0 out '^mote [0-9]+\.[0-9]+' --version
queue expect_out no-command 125 err 'usage'
queue expect bad-size 125 "--memory 12Q" run --memory 12Q "$base"
queue expect tiny-memory 125 "--memory" run --memory 1M "$base"
queue expect no-program 125 "no PROGRAM" run
queue expect bad-option 125 "unknown option" run --no-such-option "$base"
queue expect bad-command 125 "unknown command" bogus

# ---- programs that cannot be found or run (refused before any VM) ----
queue expect missing-path 127 "No such file" run "$tmp/does-not-exist"
queue expect missing-name 127 "not found" run mote-no-such-command-here
mkdir "$tmp/dir.d"
queue expect directory 126 "not a regular file" run "$tmp/dir.d"
cp "$base" "$tmp/noexec" && chmod 644 "$tmp/noexec"
queue expect not-executable 126 "permission denied" run "$tmp/noexec"
: >"$tmp/empty" && chmod +x "$tmp/empty"
queue expect empty 126 "not an ELF" run "$tmp/empty"
printf 'echo hi\n' >"$tmp/text" && chmod +x "$tmp/text"
queue expect text-file 126 "not an ELF" run "$tmp/text"
# A #! script runs as execve runs it, the interpreter from the guest root.
printf '#!/bin/sh -e\necho "hi $0 $*"\n' >"$tmp/script" && chmod +x "$tmp/script"
kvm_queue script expect_out script 0 out "^hi $tmp/script a b\$" run "$tmp/script" a b
printf '#!/no/such/sh\necho hi\n' >"$tmp/script2" && chmod +x "$tmp/script2"
queue expect script-no-interpreter 127 "cannot run this script in the guest" \
	run "$tmp/script2"
mkdir -p "$tmp/root2"
queue expect script-outside-root 127 "must be inside --root" \
	run --root "$tmp/root2" "$tmp/script"
make_elf32
queue expect elf32 126 "32-bit" run "$tmp/elf32"
patched aarch64 18 '\267\000' # e_machine = EM_AARCH64 (183)
queue expect aarch64 126 "x86-64" run "$tmp/aarch64"
echo 'int main(void) { return 0; }' >"$tmp/dyn.c"

# ---- dynamic programs: the loader is found inside the guest root ----
printf '#include <stdio.h>\nint main(void) { puts("dynamic ok"); }\n' \
	>"$tmp/dynp.c"
if gcc -o "$tmp/dynamic" "$tmp/dynp.c" 2>/dev/null; then
	kvm_queue dynamic expect_out dynamic 0 out '^dynamic ok$' run "$tmp/dynamic"
	# An empty root has no /lib64/ld-linux-x86-64.so.2.
	mkdir "$tmp/emptyroot"
	queue expect loader-missing 127 "cannot open its dynamic loader /lib64/" \
		run --root "$tmp/emptyroot" "$tmp/dynamic"
	# A root whose "loader" is a static ET_EXEC program.
	ld=$(readelf -lW "$tmp/dynamic" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
	mkdir -p "$tmp/badroot$(dirname "$ld")"
	cp "$base" "$tmp/badroot$ld"
	queue expect loader-not-pie 126 "not an x86-64 position-independent loader" \
		run --root "$tmp/badroot" "$tmp/dynamic"
	# A loader that is a FIFO: refused, not waited on.
	mkdir -p "$tmp/fiforoot$(dirname "$ld")"
	mkfifo "$tmp/fiforoot$ld"
	queue expect loader-fifo 126 "Permission denied" \
		run --root "$tmp/fiforoot" "$tmp/dynamic"
	# A PT_INTERP that is not NUL-terminated.
	off=$(grep -boa "$ld" "$tmp/dynamic" | head -1 | cut -d: -f1)
	cp "$tmp/dynamic" "$tmp/badinterp"
	printf 'X' | dd of="$tmp/badinterp" bs=1 seek=$((off + ${#ld})) \
		conv=notrunc status=none
	queue expect interp-unterminated 126 "bad ELF interpreter" run "$tmp/badinterp"
else
	queue fail elf/dynamic "gcc could not link a dynamic program"
fi
if [ -x /bin/ls ]; then
	kvm_queue bin-ls expect_out bin-ls 0 out '^/bin/true$' run /bin/ls /bin/true
fi
head -c 100 "$base" >"$tmp/truncated" && chmod +x "$tmp/truncated"
queue expect truncated 126 "truncated" run "$tmp/truncated"
gcc -c -o "$tmp/object.o" "$tmp/dyn.c" && chmod +x "$tmp/object.o"
queue expect object-file 126 "not an executable" run "$tmp/object.o"

# ---- a program larger than the guest memory (refused while loading) ----
cat >"$tmp/big.c" <<'EOF'
static char big[64 << 20];
int main(int argc, char **argv)
{
	big[argc << 20] = 1;
	return big[(argc + 1) << 20];
}
EOF
# fits: the same program runs with memory enough.
fits() {
	run_mote "$tmp/out" "$tmp/err" run --memory 256M "$tmp/big"
	local st=$?
	if [ $st = 0 ]; then pass elf/fits
	else fail elf/fits "the same program with --memory 256M: status $st: $(head -c 300 "$tmp/err")"; fi
}
if [ -n "$why" ]; then
	queue skip elf/does-not-fit "$why"
	queue skip elf/fits "$why"
elif ! gcc -static -O0 -o "$tmp/big" "$tmp/big.c"; then
	queue fail elf/does-not-fit "gcc could not build the test program"
else
	queue expect does-not-fit 126 "does not fit" run --memory 16M "$tmp/big"
	queue fits
fi

plan ${#tests[@]}
for t in "${tests[@]}"; do eval "$t"; done
