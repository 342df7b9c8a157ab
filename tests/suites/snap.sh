#!/usr/bin/env bash
# Snapshots (docs/snapshot.md): a guest saves itself through
# /dev/mote-snapshot, `mote restore` starts clones that go on from the same
# point (same memory, same file offsets; a pipe whose writer is gone reads
# end-of-file with a warning), 100 clones share the pages they have not
# written, and every broken snapshot is refused before any VM exists.
set -u
. tests/lib.sh
STAGE=${STAGE:-30}
S=$O/tests/snap
TESTS=(state-gcc state-dyn events-gcc events-dyn threads-gcc threads-dyn
	threads-shim python shell
	tree-pipeline tree-forkserver tree-ctl eperm clones-100 bad-missing bad-dir bad-notsnap
	bad-truncated bad-state bad-header bad-format bad-version bad-cpu
	bad-tables clones-100-memory)

why=$(kvm_missing)
plan ${#TESTS[@]}
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do skip "snap/$t" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; pkill -KILL -f "mote restore -n 100 $tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
seq 1 1000 >"$tmp/data"

# state: memory, a file part-read, a pipe, a socket pair, a memfd. Line 1
# (file and checksum) is the same everywhere, the pipe and the socket pair
# come back with their bytes; a clone's memfd reads EOF, with a warning.
for v in gcc dyn; do
	t=snap/state-$v
	rm -f "$tmp/s.snap"
	if ! run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/s.snap" \
		--volume "$tmp:/data" "$S/state.$v" /data/data; then
		fail "$t" "original run: $(head -c 300 "$tmp/e")"
		continue
	fi
	ok=1
	if ! grep -qx "original pipe 5 \[piped\]" "$tmp/o" ||
		! grep -qx "original socket 4 \[sock\]" "$tmp/o" ||
		! grep -qx "original memfd 3 \[mem\]" "$tmp/o"; then
		fail "$t" "original: $(cat "$tmp/o" | tr '\n' '|')"
		continue
	fi
	for i in 1 2 3; do
		if ! run_mote "$tmp/c" "$tmp/ce" restore "$tmp/s.snap"; then
			fail "$t" "restore $i: status $?: $(head -c 300 "$tmp/ce")"
			ok=0
			break
		fi
		if [ "$(head -5 "$tmp/c")" != "$(head -5 "$tmp/o")" ] ||
			! grep -qx "clone pipe 5 \[piped\]" "$tmp/c" ||
			! grep -qx "clone socket 4 \[sock\]" "$tmp/c" ||
			! grep -qx "clone memfd 0 \[\]" "$tmp/c"; then
			fail "$t" "clone $i printed: $(tr '\n' '|' <"$tmp/c")"
			ok=0
			break
		fi
		if ! grep -q "fd [0-9]* (a memfd" "$tmp/ce" ||
			[ "$(wc -l <"$tmp/ce")" != 1 ]; then
			fail "$t" "want a warning for the memfd alone: $(head -c 300 "$tmp/ce")"
			ok=0
			break
		fi
	done
	[ $ok = 1 ] && pass "$t"
done

# eventfd, timerfd, epoll and signalfd come back with their state: every
# line the clones print is the original's.
for v in gcc dyn; do
	t=snap/events-$v
	rm -f "$tmp/ev.snap"
	if ! run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/ev.snap" \
		"$S/events.$v"; then
		fail "$t" "original run: $(head -c 300 "$tmp/o" "$tmp/e")"
		continue
	fi
	if ! run_mote "$tmp/c" "$tmp/ce" restore -n 2 "$tmp/ev.snap"; then
		fail "$t" "restore: $(head -c 300 "$tmp/c" "$tmp/ce")"
		continue
	fi
	sed 's/^original pipe/clone pipe/' "$tmp/o" "$tmp/o" |
		sort >"$tmp/o2"
	sort "$tmp/c" >"$tmp/c2"
	if ! grep -q "^signalfd: 128 signo 10$" "$tmp/o" ||
		grep -q FAIL "$tmp/o"; then
		fail "$t" "original: $(tr '\n' '|' <"$tmp/o")"
	elif ! cmp -s "$tmp/o2" "$tmp/c2"; then
		fail "$t" "$(first_diff "$tmp/o2" "$tmp/c2")"
	elif [ -s "$tmp/ce" ]; then
		fail "$t" "a warning: $(head -c 300 "$tmp/ce")"
	else
		pass "$t"
	fi
done

# threads blocked in futex waits while the snapshot is taken; "shim":
# syscalls through the CPL-0 shim, where a vCPU may park inside it.
for v in gcc dyn shim; do
	t=snap/threads-$v
	rm -f "$tmp/t.snap"
	bin=$S/threads.$v
	[ $v = shim ] && bin=$S/threads.gcc
	[ $v = shim ] && export MOTE_SYSCALL_ENTRY=shim
	if ! run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/t.snap" "$bin"; then
		fail "$t" "original run: $(head -c 300 "$tmp/e")"
		continue
	fi
	if ! run_mote "$tmp/c" "$tmp/ce" restore -n 3 "$tmp/t.snap"; then
		fail "$t" "restore: $(head -c 300 "$tmp/ce")"
		continue
	fi
	sort "$tmp/o" "$tmp/o" "$tmp/o" >"$tmp/o3"
	sort "$tmp/c" >"$tmp/c3"
	if [ "$(wc -l <"$tmp/o")" = 3 ] && cmp -s "$tmp/o3" "$tmp/c3"; then
		pass "$t"
	else
		fail "$t" "$(first_diff "$tmp/o3" "$tmp/c3")"
	fi
	unset MOTE_SYSCALL_ENTRY
done

# A real interpreter: python3 builds a dict, snapshots, prints its hash.
t=snap/python
if ! command -v python3 >/dev/null; then
	skip "$t" "python3 is not installed"
else
	rm -f "$tmp/p.snap"
	run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/p.snap" python3 -c "
import hashlib
d = {i: hashlib.sha256(str(i).encode()).hexdigest() for i in range(20000)}
f = open('/dev/mote-snapshot', 'rb+', buffering=0)
g0 = f.read()
f.write(b'x')
f.seek(0)
print('clone' if f.read() != g0 else 'original',
      hashlib.sha256(repr(sorted(d.items())).encode()).hexdigest())"
	run_mote "$tmp/c" "$tmp/ce" restore -n 2 "$tmp/p.snap"
	want=$(sed 's/^original/clone/' "$tmp/o")
	if grep -q "^original [0-9a-f]\{64\}$" "$tmp/o" &&
		[ "$(cat "$tmp/c")" = "$want
$want" ]; then
		pass "$t"
	else
		fail "$t" "original $(cat "$tmp/o" "$tmp/e" | head -c 200), clones $(cat "$tmp/c" "$tmp/ce" | head -c 300)"
	fi
fi

# A shell script takes its own snapshot with a redirection; the clone
# goes on with the script and forks.
t=snap/shell
rm -f "$tmp/sh.snap"
run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/sh.snap" /bin/busybox sh -c \
	'g=$(cat /dev/mote-snapshot); echo x >/dev/mote-snapshot || exit 9
	 [ "$g" = "$(cat /dev/mote-snapshot)" ] && echo same || echo new'
run_mote "$tmp/c" "$tmp/ce" restore "$tmp/sh.snap"
if [ "$(cat "$tmp/o")" = same ] && [ "$(cat "$tmp/c")" = new ]; then
	pass "$t"
else
	fail "$t" "original: $(cat "$tmp/o" "$tmp/e"), clone: $(cat "$tmp/c" "$tmp/ce")"
fi

# Process trees. A shell pipeline, snapshotted by its producer (a child
# process) mid-stream with lines still in the pipe: the original, a
# restore and two clones each print the checksum of the whole stream, as
# an uninterrupted run does, and the shell's pid is its snapshot's.
t=snap/tree-pipeline
prod='i=0; while [ $i -lt 400 ]; do echo line $i; i=$((i+1))'
want=$(/bin/busybox sh -c "$prod; done | md5sum")
script="$prod"'; [ $i = 200 ] && { echo x >/dev/mote-snapshot || echo NOSNAP; }; done | (sleep 0.3; md5sum); echo pid $$'
rm -f "$tmp/p.snap"
run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/p.snap" /bin/busybox sh -c "$script"
st=$?
run_mote "$tmp/c" "$tmp/ce" restore -n 2 "$tmp/p.snap"
cst=$?
if [ $st = 0 ] && [ $cst = 0 ] && [ "$(head -1 "$tmp/o")" = "$want" ] &&
	[ "$(sort "$tmp/c")" = "$(sort "$tmp/o" "$tmp/o")" ] && [ ! -s "$tmp/ce" ]; then
	pass "$t"
else
	fail "$t" "want $want; original $st: $(cat "$tmp/o" "$tmp/e" | tr '\n' '|' | head -c 300); clones $cst: $(cat "$tmp/c" "$tmp/ce" | tr '\n' '|' | head -c 300)"
fi

# A forking server with three workers, snapshotted by its parent with
# answers unread in the shared pipe: every copy gets every answer, from
# the pids fork gave, waits each worker's own status, and keeps worker
# 1's process group.
t=snap/tree-forkserver
rm -f "$tmp/fs.snap"
run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/fs.snap" "$S/forkserver.gcc" self
st=$?
run_mote "$tmp/c" "$tmp/ce" restore -n 2 "$tmp/fs.snap"
cst=$?
good="answers 30 sum 885 bad-pids 0 exits-ok 3 pgid-ok 1 greeting-ok 1 shared 30"
if [ $st = 0 ] && [ $cst = 0 ] && [ "$(cat "$tmp/o")" = "$good" ] &&
	[ "$(cat "$tmp/c")" = "$good
$good" ]; then
	pass "$t"
else
	fail "$t" "original $st: $(cat "$tmp/o" "$tmp/e" | head -c 300); clones $cst: $(cat "$tmp/c" "$tmp/ce" | head -c 300)"
fi

# The same server snapshotted from outside (mote snapshot) while its
# parent waits for a line on stdin; the original and the restored tree
# each finish when given it.
t=snap/tree-ctl
rm -f "$tmp/fc.snap" "$tmp/fifo"
mkfifo "$tmp/fifo"
name=snaptree$$
timeout -k 5 60 "$MOTE" run --name $name "$S/forkserver.gcc" wait \
	<"$tmp/fifo" >"$tmp/o" 2>"$tmp/e" &
bgpid=$!
exec 7>"$tmp/fifo"
r=
await_line "$tmp/o" ready || r="no ready line: $(cat "$tmp/o" "$tmp/e")"
[ -z "$r" ] && ! run_mote "$tmp/so" "$tmp/se" snapshot $name "$tmp/fc.snap" &&
	r="mote snapshot: $(cat "$tmp/so" "$tmp/se")"
echo go >&7
exec 7>&-
wait $bgpid
st=$?
if [ -z "$r" ]; then
	echo go | timeout -k 5 60 "$MOTE" restore "$tmp/fc.snap" >"$tmp/c" 2>"$tmp/ce"
	cst=$?
	[ $st = 0 ] && [ $cst = 0 ] && [ "$(cat "$tmp/o")" = "ready
$good" ] && [ "$(cat "$tmp/c")" = "$good" ] ||
		r="original $st: $(cat "$tmp/o" "$tmp/e" | tr '\n' '|'); restored $cst: $(cat "$tmp/c" "$tmp/ce" | tr '\n' '|')"
fi
if [ -z "$r" ]; then pass "$t"; else fail "$t" "$r"; fi

# Without --snapshot the write fails with EPERM.
t=snap/eperm
run_mote "$tmp/o" "$tmp/e" run "$S/state.gcc" /etc/passwd
st=$?
if [ $st = 6 ] && grep -q "snapshot: Operation not permitted" "$tmp/e"; then
	pass "$t"
else
	fail "$t" "status $st: $(head -c 200 "$tmp/e")"
fi

# 100 clones of a guest that touched 64 MiB: all alive at once, their
# monitors' memory (Pss from smaps_rollup, which divides a shared page
# among its users) at most 1.5x one restored VM's resident memory.
t=snap/clones-100
rm -f "$tmp/m.snap"
if ! run_mote "$tmp/o" "$tmp/e" run --snapshot "$tmp/m.snap" "$S/touch.gcc" 64 wait ||
	! grep -q "^ok [0-9a-f]* original$" "$tmp/o"; then
	fail "$t" "original: $(cat "$tmp/o" "$tmp/e" | head -c 300)"
	skip "$t-memory" "no clones (see $t)"
else
	mkfifo "$tmp/in"
	sleep 600 >"$tmp/in" &
	holder=$!
	"$MOTE" restore -n 100 "$tmp/m.snap" <"$tmp/in" >"$tmp/c" 2>"$tmp/ce" &
	rpid=$!
	# A correctness test, not a race: under emulation (the test VM,
	# sharing the host's CPUs with other test VMs) 100 restores have
	# taken over two minutes.
	wait_s=120
	[ -n "${MOTE_TESTVM:-}" ] && wait_s=300
	end=$((SECONDS + wait_s))
	while [ "$(grep -c '^ok' "$tmp/c")" -lt 100 ] && [ $SECONDS -lt $end ] &&
		kill -0 $rpid 2>/dev/null; do
		sleep 0.2
	done
	n=$(grep -c "^ok $(awk '{print $2}' "$tmp/o") clone$" "$tmp/c")
	pss=$(cat /proc/$rpid/smaps_rollup $(pgrep -P $rpid | sed 's|.*|/proc/&/smaps_rollup|') 2>/dev/null |
		awk '/^Pss:/ { s += $2 } END { print s }')
	one=$(pgrep -P $rpid | head -1)
	rss=$(awk '/^Rss:/ { print $2 }' /proc/"$one"/smaps_rollup 2>/dev/null)
	kill $holder
	holder=
	wait $rpid
	st=$?
	if [ "$n" != 100 ] || [ $st != 0 ]; then
		fail "$t" "$n of 100 clones ok, status $st: $(head -c 300 "$tmp/ce")"
	else
		pass "$t"
	fi
	t=snap/clones-100-memory
	foreign=$(proc_foreign)
	if [ -n "$foreign" ]; then
		skip "$t" "$foreign"
	elif [ -z "$rss" ] || [ -z "$pss" ] || [ $((pss * 2)) -gt $((rss * 3)) ]; then
		fail "$t" "100 clones use ${pss:-?} KiB (Pss), one VM ${rss:-?} KiB (Rss): over 1.5x"
	else
		echo "   100 clones: $((pss / 1024)) MiB in all (Pss), one VM $((rss / 1024)) MiB (Rss)"
		pass "$t"
	fi
fi

# Broken snapshots: a clear one-line error, status 125 (127 if missing),
# and no guest output (no VM ran).
bad() { # NAME WANT-STATUS WANT-TEXT FILE
	run_mote "$tmp/bo" "$tmp/be" restore "$4"
	local st=$?
	if [ $st = "$2" ] && grep -q -- "$3" "$tmp/be" && [ ! -s "$tmp/bo" ] &&
		[ "$(wc -l <"$tmp/be")" = 1 ]; then
		pass "snap/$1"
	else
		fail "snap/$1" "status $st (want $2): $(head -c 300 "$tmp/be")"
	fi
}
# patch FILE PYTHON-EXPR: edits the header bytes h (a bytearray) and
# rewrites its checksum (CRC-32 over the 168-byte header, field at 12).
patch() {
	python3 - "$1" "$2" <<'PY'
import sys, struct, zlib
path, expr = sys.argv[1], sys.argv[2]
with open(path, 'r+b') as f:
    h = bytearray(f.read(168))
    exec(expr)
    h[12:16] = b'\0\0\0\0'
    h[12:16] = struct.pack('<I', zlib.crc32(bytes(h)))
    f.seek(0)
    f.write(h)
PY
}
good=$tmp/s.snap
bad bad-missing 127 "No such file" "$tmp/none.snap"
bad bad-dir 125 "not a regular file" "$tmp"
bad bad-notsnap 125 "not a mote snapshot" /etc/hostname
cp --sparse=always "$good" "$tmp/b"
truncate -s $(($(stat -c %s "$good") - 100)) "$tmp/b"
bad bad-truncated 125 "truncated" "$tmp/b"
cp --sparse=always "$good" "$tmp/b"
printf '\x55' | dd of="$tmp/b" bs=1 seek=$(($(stat -c %s "$good") - 50)) conv=notrunc 2>/dev/null
bad bad-state 125 "state is corrupt" "$tmp/b"
cp --sparse=always "$good" "$tmp/b"
printf '\x01' | dd of="$tmp/b" bs=1 seek=60 conv=notrunc 2>/dev/null
bad bad-header 125 "header is corrupt" "$tmp/b"
cp --sparse=always "$good" "$tmp/b"
patch "$tmp/b" "h[8:12] = struct.pack('<I', 99)"
bad bad-format 125 "snapshot format 99" "$tmp/b"
cp --sparse=always "$good" "$tmp/b"
patch "$tmp/b" "h[16:48] = b'0.0.1'.ljust(32, b'\0')"
bad bad-version 125 "written by mote 0.0.1" "$tmp/b"
# CPUID 1:ECX bit 16 is reserved: no host has it.
cp --sparse=always "$good" "$tmp/b"
patch "$tmp/b" "v = struct.unpack_from('<I', h, 128)[0] | (1 << 16); struct.pack_into('<I', h, 128, v)"
bad bad-cpu 125 "needs CPU feature ? (CPUID 1:ECX bit 16)" "$tmp/b"

# A leaf of the image's page tables pointed at the system region (the GDT):
# the tables are checked before any vCPU runs.
cp --sparse=always "$good" "$tmp/b"
python3 - "$tmp/b" <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b')
h = f.read(168)
user, mem = struct.unpack_from('<Q', h, 56)[0], 4096
def entry(gpa, i):
    f.seek(mem + gpa + 8 * i)
    return struct.unpack('<Q', f.read(8))[0]
tab = user  # the PML4 is the system region's first page
for level in range(3):
    i = next(i for i in reversed(range(256 if level == 0 else 512)) if entry(tab, i) & 1)
    tab = entry(tab, i) & 0x000ffffffffff000
i = next(i for i in reversed(range(512)) if entry(tab, i) & 1)
f.seek(mem + tab + 8 * i)
f.write(struct.pack('<Q', (user + 0x1000) | 0x7))  # the GDT, user-writable
PY
bad bad-tables 125 "page tables map more than guest user memory" "$tmp/b"
