#!/usr/bin/env bash
# mote boot of Debian's stock kernel (the test VM's) with a busybox
# initramfs whose init loads its modules (virtio, pvpanic), prints a
# marker, nproc, MemTotal and the date, then reboots, powers off or panics
# (mote.end=): one boot with 2 vCPUs that writes a marker on a virtio
# disk, tries a write on a :ro one, reads the virtio rng, pings the host
# and trades a line and 1 MiB each way with it over TCP through
# virtio-net on a tap (--net) and reboots, its lines, the disks' files
# and what the host got afterwards and how it ended; --net refusals of a
# non-tap and a busy tap; one that powers off
# (ACPI S5) and one whose init exits (a panic, told by pvpanic), each with
# its status and last line; a boot cut short by --timeout (its monitor's
# sandbox checked meanwhile); one with 1 vCPU and the same disks, ended by
# Ctrl-A x on a terminal once its init has tried them; one with --name
# whose init prints a tick a half-second, seen by mote ps, paused (no
# ticks) and resumed (ticks again), snapshotted (ticks go on), refusing a
# second guest of its name, and ended by mote stop --force; that snapshot
# restored, and as 3 clones (-n 3), each answering a command on its
# console and powering off; bad snapshot files (cut short, corrupt, not a
# snapshot, an unknown kind, a vCPU count its header does not have,
# mote run's options) refused in one line; a hostile "kernel"
# (tests/boot/hostile.S) that ends in a triple fault, and the sandbox's
# test hooks on it. Boots are slow under emulation (20-80 s in the test
# VM): five boots run to init, the other checks ride on them.
# needs-kvm: hardware
set -u
. tests/lib.sh
tmp=$(mktemp -d)
tap=mtap0
trap 'rm -rf "$tmp"; ip link del "$tap" 2>/dev/null' EXIT
kernel=$O/vm/vmlinuz
mem=256
cpus=2

names="marker nproc memtotal rtc-date disk-marker disk-ro hwrng net-mac net-ping net-tcp net-not-tap net-busy reboot-status reboot-line poweroff-status poweroff-line panic-status panic-line timeout sandbox-on ctrl-a-x one-cpu-devices ctl-ps ctl-dup ctl-snapshot ctl-pause ctl-resume ctl-stop snap-restore snap-clones snap-bad snap-kind hostile sandbox-violation sandbox-landlock"
plan 35
t=boot/stock-kernel
why=$(kvm_missing)
if [ -z "$why" ] && [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_amd ] && [ ! -d /sys/module/kvm_intel ]; then
	# Not a skip: this suite is for hardware KVM (tests/run.sh sends it
	# to the test VM from a kvm_pvm host).
	for s in $names; do
		fail "$t/$s" "this host's KVM is kvm_pvm, which cannot boot a stock kernel (run it with MOTE_KVM=auto or vm)"
	done
	exit 0
fi
if [ -z "$why" ] && [ ! -f "$kernel" ]; then
	why="no kernel at $kernel (tests/vm/image.sh builds it)"
fi
if [ -z "$why" ] && ! tests/boot/initramfs.sh "$tmp/initrd.gz" "$O/vm/guest-modules" 2>"$tmp/err"; then
	why="cannot build the initramfs: $(head -1 "$tmp/err")"
fi
if [ -n "$why" ]; then
	for s in $names; do skip "$t/$s" "$why"; done
	exit 0
fi

# The disks: rw.img zeroed, ro.img a pattern that must stay as it is.
truncate -s 1M "$tmp/rw.img"
yes MOTE-RO-PATTERN | head -c 1M >"$tmp/ro.img"
cp "$tmp/ro.img" "$tmp/ro.orig"
# The network: a tap in this (the test VM's) network namespace, 10.0.9.1
# on the host's side, and a TCP server on it that takes a line and 1 MiB
# of a pattern from the guest and answers a line and 1 MiB of another;
# it writes the line it got, the MD5 and length of the data it got and
# the one it wanted, and the MD5 and length of the data it sent.
ip link del "$tap" 2>/dev/null
ip tuntap add dev "$tap" mode tap && ip addr add 10.0.9.1/24 dev "$tap" &&
	ip link set "$tap" up || echo "   (cannot make the tap $tap: the net checks fail)"
timeout 600 python3 -c '
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.9.1", 5555))
s.listen(1)
c, _ = s.accept()
c.settimeout(120)
n = 1 << 20
got = b""
while len(got) < len(b"MOTE-GUEST-LINE\n") + n:
    b = c.recv(65536)
    if not b:
        break
    got += b
line, _, data = got.partition(b"\n")
want = (b"MOTE-GUEST-DATA\n" * n)[:n]
out = (b"MOTE-HOST-DATA-%07d\n" % i for i in range(n // 16))
out = b"".join(out)[:n]
md5 = lambda b: hashlib.md5(b).hexdigest()
open(sys.argv[1], "w").write("%s\nin: %s %d %s\nout: %s %d\n" % (
    line.decode(errors="replace"), md5(data), len(data), md5(want), md5(out), len(out)))
c.sendall(b"MOTE-HOST-REPLY\n" + out)
c.close()
' "$tmp/tcp" 2>"$tmp/tcp.err" &
server=$!
t0=$(date +%s.%N)
TEST_TIMEOUT=600 run_mote "$tmp/out" "$tmp/err" boot --kernel "$kernel" \
	--initrd "$tmp/initrd.gz" --memory ${mem}M --cpus $cpus --timeout 500 \
	--disk "$tmp/rw.img" --disk "$tmp/ro.img:ro" --net "$tap" \
	--append "console=ttyS0 reboot=k panic=-1 quiet mote.net=10.0.9.2/24,10.0.9.1"
st=$?
t1=$(date +%s.%N)
kill $server 2>/dev/null
wait $server 2>/dev/null
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "   (mote boot to reboot: %.1f s under this KVM)\n", b - a }'
tr -d '\r' <"$tmp/out" >"$tmp/lines"
tail_out=$(tail -c 300 "$tmp/lines" | tr '\n' ' ')

if grep -qx 'MOTE-BOOT-INIT' "$tmp/lines"; then pass "$t/marker"; else
	fail "$t/marker" "no MOTE-BOOT-INIT line (status $st): $tail_out $(head -c 200 "$tmp/err")"
fi
if grep -qx "nproc: $cpus" "$tmp/lines"; then pass "$t/nproc"; else
	fail "$t/nproc" "want 'nproc: $cpus' (--cpus $cpus): $(grep '^nproc' "$tmp/lines")"
fi
# MemTotal is RAM less the kernel's own reservations: between 70% and
# 100% of --memory.
kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' "$tmp/lines")
if [ -n "$kb" ] && [ "$kb" -le $((mem * 1024)) ] && [ "$kb" -ge $((mem * 1024 * 7 / 10)) ]; then
	pass "$t/memtotal"
else
	fail "$t/memtotal" "MemTotal '${kb:-none}' kB for --memory ${mem}M"
fi
# The guest's clock comes from the CMOS RTC: the host's date (UTC).
today=$(date -u +%Y-%m-%d)
if grep -qx "date: $today" "$tmp/lines"; then pass "$t/rtc-date"; else
	fail "$t/rtc-date" "want 'date: $today': $(grep '^date' "$tmp/lines")"
fi
# What the guest wrote and synced on its disk is in the host's file after
# it ended; the :ro disk is read-only to the guest's kernel (virtio-blk's
# RO feature) and its write fails; the file is unchanged.
if [ "$(head -c 16 "$tmp/rw.img")" = MOTE-DISK-MARKER ] && grep -qx 'disk-write: ok' "$tmp/lines"; then
	pass "$t/disk-marker"
else
	fail "$t/disk-marker" "rw.img starts with '$(head -c 16 "$tmp/rw.img" | tr -cd '[:print:]')': $(grep -E '^(disks|disk-write|insmod)' "$tmp/lines" | tr '\n' ' ')"
fi
if grep -qx 'ro-write: refused' "$tmp/lines" && grep -qx 'ro-flag: 1' "$tmp/lines" &&
	cmp -s "$tmp/ro.img" "$tmp/ro.orig"; then
	pass "$t/disk-ro"
else
	fail "$t/disk-ro" "$(grep -E '^(disks|ro-)' "$tmp/lines" | tr '\n' ' '); ro.img $(cmp -s "$tmp/ro.img" "$tmp/ro.orig" && echo unchanged || echo changed)"
fi
# The kernel's hw_random core uses the virtio rng; 16 bytes from
# /dev/hwrng, not all zero.
if grep -Eqx 'hwrng: virtio_rng\.0 [0-9a-f]{32}' "$tmp/lines" &&
	! grep -qx 'hwrng: virtio_rng\.0 0\{32\}' "$tmp/lines"; then
	pass "$t/hwrng"
else
	fail "$t/hwrng" "want 'hwrng: virtio_rng.0' and 32 hex digits: $(grep '^hwrng' "$tmp/lines")"
fi
# virtio-net: the card has a locally administered unicast MAC (the
# first byte's low bits 10); the guest pings the tap's address and gets
# its answers; over TCP, the host's server gets the guest's line and its
# MiB whole, and the guest the server's (hundreds of frames each way,
# more than the guest's rx buffers at once).
if grep -Eqx 'net-mac: [0-9a-f][26ae](:[0-9a-f]{2}){5}' "$tmp/lines"; then pass "$t/net-mac"; else
	fail "$t/net-mac" "want a locally administered MAC: $(grep -E '^(net-mac|insmod)' "$tmp/lines" | tr '\n' ' ')"
fi
if grep -qx 'net-ping: ok' "$tmp/lines"; then pass "$t/net-ping"; else
	fail "$t/net-ping" "$(grep '^net-ping' "$tmp/lines")"
fi
read -r got_md5 got_len want_md5 < <(sed -n 's/^in: //p' "$tmp/tcp" 2>/dev/null)
host_out=$(sed -n 's/^out: //p' "$tmp/tcp" 2>/dev/null)
if [ "$(head -1 "$tmp/tcp" 2>/dev/null)" = MOTE-GUEST-LINE ] && [ -n "${want_md5:-}" ] &&
	[ "$got_md5 $got_len" = "$want_md5 1048576" ] && grep -qx 'net-tcp: MOTE-HOST-REPLY' "$tmp/lines" &&
	grep -qx "net-tcp-in: $host_out" "$tmp/lines"; then
	pass "$t/net-tcp"
else
	fail "$t/net-tcp" "the host got: $(tr '\n' ' ' <"$tmp/tcp" 2>/dev/null) $(head -c 200 "$tmp/tcp.err"); the guest: $(grep '^net-tcp' "$tmp/lines" | tr '\n' ' ')"
fi
if [ "$st" = 0 ]; then pass "$t/reboot-status"; else
	fail "$t/reboot-status" "status $st, want 0: $(head -c 200 "$tmp/err")"
fi
if grep -qx 'mote: the guest rebooted' "$tmp/err"; then pass "$t/reboot-line"; else
	fail "$t/reboot-line" "stderr lacks 'mote: the guest rebooted': $(head -c 200 "$tmp/err")"
fi

# An interface that is not a tap, and a tap another process has
# attached (TUNSETIFF from python): one line each, before any VM.
refused "$t/net-not-tap" 125 "--net lo: not a tap device" boot --kernel "$kernel" --net lo
python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x1002))
print("attached", flush=True)
time.sleep(120)
' "$tap" >"$tmp/holder" 2>&1 &
holder=$!
for _ in $(seq 50); do grep -q attached "$tmp/holder" && break; sleep 0.1; done
refused "$t/net-busy" 125 "--net $tap: in use by another process" boot --kernel "$kernel" --net "$tap"
kill $holder 2>/dev/null
wait $holder 2>/dev/null

# boot_end NAME END CPUS STATUS LINE [CONSOLE]: a boot whose init ends it
# as END (mote.end=) ends mote with STATUS, LINE its last line on stderr,
# after the init's marker (and the text CONSOLE) on the console.
boot_end() {
	local name=$1 end=$2 cpus=$3 want=$4 line=$5 con=${6:-MOTE-BOOT-INIT} st last
	TEST_TIMEOUT=600 run_mote "$tmp/out" "$tmp/err" boot --kernel "$kernel" \
		--initrd "$tmp/initrd.gz" --memory ${mem}M --cpus "$cpus" --timeout 500 \
		--append "console=ttyS0 reboot=k panic=-1 quiet mote.end=$end"
	st=$?
	last=$(tail -1 "$tmp/err")
	if [ "$st" = "$want" ]; then pass "$t/$name-status"; else
		fail "$t/$name-status" "status $st, want $want: $(tail -c 300 "$tmp/out" | tr '\r\n' '  ') $(head -c 200 "$tmp/err")"
	fi
	if [ "$last" = "$line" ] && grep -q MOTE-BOOT-INIT "$tmp/out" && grep -q "$con" "$tmp/out"; then
		pass "$t/$name-line"
	else
		fail "$t/$name-line" "last line '$last', want '$line' after the init's marker and '$con' on the console"
	fi
}
# poweroff -f: ACPI S5 through PM1a_CNT.
boot_end poweroff poweroff 1 0 "mote: the guest powered off"
# init exits: the kernel panics, pvpanic tells mote before panic=-1
# reboots; the console says why.
boot_end panic panic 2 2 "mote: the guest's kernel panicked (its console says why)" \
	'Kernel panic - not syncing: Attempted to kill init'

# --timeout stops a guest that is still booting: 124 and its line. While
# it runs, its monitor is in its sandbox: a seccomp filter (Seccomp: 2)
# and no new privileges.
timeout -k 5 60 "$MOTE" boot --kernel "$kernel" --initrd "$tmp/initrd.gz" \
	--memory ${mem}M --timeout 3 >"$tmp/out" 2>"$tmp/err" </dev/null &
pid=$!
sec=
# Until it is seen or mote has ended (its setup may take seconds in a
# loaded test VM; the 3 s of --timeout count from the sandbox on).
while kill -0 $pid 2>/dev/null; do
	sleep 0.1
	mp=$(pgrep -P $pid -x mote)
	sec=$( [ -n "$mp" ] && awk '/^(Seccomp|NoNewPrivs):/ { printf "%s %s ", $1, $2 }' /proc/$mp/status 2>/dev/null)
	case $sec in *"Seccomp: 2"*) break ;; esac
done
wait $pid
st=$?
if [ "$sec" = "NoNewPrivs: 1 Seccomp: 2 " ]; then pass "$t/sandbox-on"; else
	fail "$t/sandbox-on" "the running monitor's /proc/PID/status says '$sec', want NoNewPrivs: 1 Seccomp: 2"
fi
if [ "$st" = 124 ] && grep -qx 'mote: the guest ran past --timeout 3; stopped' "$tmp/err"; then
	pass "$t/timeout"
else
	fail "$t/timeout" "status $st (want 124): $(head -c 200 "$tmp/err")"
fi

# On a terminal, Ctrl-A x quits at once: status 0 and its line. This boot
# has one vCPU (the first has two) and the same disks: init waits
# (mote.wait) after trying them, for the Ctrl-A x typed then, so the
# devices and their interrupts are checked with --cpus 1 too.
truncate -s 0 "$tmp/rw.img"
truncate -s 1M "$tmp/rw.img"
timeout -k 5 400 python3 tests/boot/onpty.py MOTE-WAITING 350 '\x01x' "$MOTE" boot \
	--kernel "$kernel" --initrd "$tmp/initrd.gz" --memory ${mem}M --cpus 1 \
	--timeout 300 --disk "$tmp/rw.img" --disk "$tmp/ro.img:ro" \
	--append "console=ttyS0 reboot=k panic=-1 quiet mote.wait" >"$tmp/pty" 2>&1
st=$?
tr -d '\r' <"$tmp/pty" >"$tmp/lines1"
if [ "$st" = 0 ] && grep -q 'mote: quit (Ctrl-A x)' "$tmp/lines1"; then
	pass "$t/ctrl-a-x"
else
	fail "$t/ctrl-a-x" "status $st (want 0): $(tail -c 200 "$tmp/lines1" | tr '\n' ' ')"
fi
if grep -qx 'nproc: 1' "$tmp/lines1" && grep -qx 'disk-write: ok' "$tmp/lines1" &&
	[ "$(head -c 16 "$tmp/rw.img")" = MOTE-DISK-MARKER ] &&
	grep -qx 'ro-write: refused' "$tmp/lines1" && cmp -s "$tmp/ro.img" "$tmp/ro.orig" &&
	grep -Eqx 'hwrng: virtio_rng\.0 [0-9a-f]{32}' "$tmp/lines1"; then
	pass "$t/one-cpu-devices"
else
	fail "$t/one-cpu-devices" "$(grep -E '^(nproc|disks|disk-write|ro-|hwrng|insmod)' "$tmp/lines1" | tr '\n' ' ')"
fi

# Control (docs/control.md): a guest booted with --name, in a runtime
# root of the suite's own, whose init prints "tick N" every half second.
ticks() { tr -d '\r' <"$tmp/cout" | grep -c '^tick [0-9]*$'; }
until_ticks() { # until there are more than $1 ticks, at most $2 s
	local i
	for i in $(seq $(($2 * 10))); do
		[ "$(ticks)" -gt "$1" ] && return 0
		kill -0 $cpid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
export XDG_RUNTIME_DIR=$tmp/xdg
timeout -k 5 400 "$MOTE" boot --kernel "$kernel" --initrd "$tmp/initrd.gz" \
	--memory ${mem}M --cpus 2 --timeout 350 --name mote-bt --disk "$tmp/ro.img:ro" \
	--append "console=ttyS0 reboot=k panic=-1 quiet mote.end=tick" \
	>"$tmp/cout" 2>"$tmp/cerr" </dev/null &
cpid=$!
until_ticks 2 300
"$MOTE" ps >"$tmp/ps" 2>&1
"$MOTE" stats mote-bt --json >"$tmp/stats" 2>&1
if grep -Eq "^mote-bt +[0-9]+ running .* 2 .*boot $kernel\$" "$tmp/ps" &&
	grep -q '"kind":[[:space:]]*"boot"' "$tmp/stats"; then
	pass "$t/ctl-ps"
else
	fail "$t/ctl-ps" "mote ps: $(tr '\n' ' ' <"$tmp/ps"); stats: $(head -c 200 "$tmp/stats"); $(ticks) ticks, $(head -c 200 "$tmp/cerr")"
fi
refused "$t/ctl-dup" 125 "a VM named mote-bt is already running" boot \
	--kernel "$kernel" --memory ${mem}M --name mote-bt
# A snapshot of the running guest (its 2 vCPUs, devices and RAM); the
# ticks go on after it. Restored below.
run_mote "$tmp/out" "$tmp/err" snapshot mote-bt "$tmp/snap"
st=$?
n=$(ticks)
if [ "$st" = 0 ] && grep -q "^mote-bt: .* written to $tmp/snap" "$tmp/out" &&
	[ -s "$tmp/snap" ] && until_ticks "$n" 30; then
	pass "$t/ctl-snapshot"
else
	fail "$t/ctl-snapshot" "status $st (want 0): $(head -c 200 "$tmp/out") $(head -c 200 "$tmp/err"); ticks $n then $(ticks)"
fi
# Paused: no tick for 2 s (a line on its way may still land at first).
"$MOTE" pause mote-bt >"$tmp/err" 2>&1
st=$?
sleep 0.5
n=$(ticks)
sleep 2
"$MOTE" ps >"$tmp/ps" 2>&1
if [ "$st" = 0 ] && [ "$(ticks)" = "$n" ] && grep -Eq '^mote-bt +[0-9]+ paused ' "$tmp/ps"; then
	pass "$t/ctl-pause"
else
	fail "$t/ctl-pause" "status $st: $(head -c 200 "$tmp/err"); ticks $n then $(ticks); ps: $(tr '\n' ' ' <"$tmp/ps")"
fi
"$MOTE" resume mote-bt >"$tmp/err" 2>&1
st=$?
if [ "$st" = 0 ] && until_ticks "$n" 30; then pass "$t/ctl-resume"; else
	fail "$t/ctl-resume" "status $st: $(head -c 200 "$tmp/err"); ticks $n then $(ticks)"
fi
"$MOTE" stop --force mote-bt >"$tmp/err" 2>&1
sst=$?
wait $cpid
st=$?
if [ "$sst" = 0 ] && [ "$st" = 137 ] && [ "$(tail -1 "$tmp/cerr")" = "mote: stopped (mote stop)" ] &&
	[ -z "$(ls -A "$XDG_RUNTIME_DIR/mote")" ]; then
	pass "$t/ctl-stop"
else
	fail "$t/ctl-stop" "mote stop: $sst $(head -c 200 "$tmp/err"); mote boot: $st (want 137), $(tail -c 200 "$tmp/cerr"); left: $(ls -A "$XDG_RUNTIME_DIR/mote")"
fi

# mote restore of that snapshot: the guest goes on from its tick, runs
# the lines typed on its console (init evals them) and answers on it,
# with a block its :ro disk reads through virtio-blk (one its kernel had
# not read before the snapshot), and powers off (status 0 and its line).
# Then 3 clones of it (-n 3), each with a copy of the console's input and
# its lines numbered [1]..[3]: each answers and powers off.
printf '%s\n' 'mount -t devtmpfs dev /dev 2>/dev/null' \
	'echo "RESTORED-$((6 * 7)) $(dd if=/dev/vda bs=4096 skip=128 count=1 2>/dev/null | head -c 15)"' \
	'poweroff -f' >"$tmp/cmds"
t0=$(date +%s.%N)
timeout -k 5 300 "$MOTE" restore --timeout 250 "$tmp/snap" <"$tmp/cmds" >"$tmp/out" 2>"$tmp/err"
st=$?
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "   (mote restore to its answer and power-off: %.1f s under this KVM)\n", b - a }'

tr -d '\r' <"$tmp/out" >"$tmp/lines"
if [ "$st" = 0 ] && grep -qx 'RESTORED-42 MOTE-RO-PATTERN' "$tmp/lines" &&
	[ "$(tail -1 "$tmp/err")" = "mote: the guest powered off" ]; then
	pass "$t/snap-restore"
else
	fail "$t/snap-restore" "status $st (want 0): $(tail -c 300 "$tmp/lines" | tr '\n' ' ') $(head -c 300 "$tmp/err")"
fi
# Three clones at once have frozen the whole emulated test VM (QEMU TCG
# with nested SVM: not even its own timeouts fired) in 3 of 7 runs, at
# low host load as at high; a single restore never did. Until that is
# understood, the clones run only when asked for.
if [ -z "${MOTE_BOOT_CLONES:-}" ]; then
	skip "$t/snap-clones" "3 restored clones at once have frozen the emulated test VM (nested SVM under TCG) in 3 of 7 runs: MOTE_BOOT_CLONES=1 runs them"
else
	sed -i 's/RESTORED/CLONE/' "$tmp/cmds"
	t0=$(date +%s.%N)
	timeout -k 5 300 "$MOTE" restore -n 3 --name mote-bc --timeout 250 "$tmp/snap" <"$tmp/cmds" \
		>"$tmp/out" 2>"$tmp/err"
	st=$?
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "   (mote restore -n 3, each clone answering and powering off: %.1f s)\n", b - a }'
	tr -d '\r' <"$tmp/out" >"$tmp/lines"
	if [ "$st" = 0 ] && grep -qx '\[1\] CLONE-42 MOTE-RO-PATTERN' "$tmp/lines" &&
		grep -qx '\[2\] CLONE-42 MOTE-RO-PATTERN' "$tmp/lines" &&
		grep -qx '\[3\] CLONE-42 MOTE-RO-PATTERN' "$tmp/lines" &&
		[ "$(grep -cx 'mote: the guest powered off' "$tmp/err")" = 3 ]; then
		pass "$t/snap-clones"
	else
		fail "$t/snap-clones" "status $st (want 0): $(grep CLONE "$tmp/lines" | tr '\n' ' ') $(head -c 300 "$tmp/err")"
	fi
fi
unset XDG_RUNTIME_DIR
# Bad snapshot files, each refused before any VM with one line (125):
# cut short (the header whole, the rest not), its state corrupted (one
# byte flipped: its CRC), no header at all, its disk gone; an unknown
# kind and a vCPU count its header does not have (checksums made right:
# restore's own checks refuse them), mote run's options that a booted
# guest's snapshot does not take, and clones of a guest with a writable
# disk (its :ro flag cleared).
head -c 1M "$tmp/snap" >"$tmp/short"
cp --sparse=always "$tmp/snap" "$tmp/flip"
size=$(stat -c %s "$tmp/flip")
printf '\x5a' | dd of="$tmp/flip" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
head -c 100 /dev/urandom >"$tmp/noise"
python3 tests/boot/snappatch.py "$tmp/snap" "$tmp/kind" kind=7 &&
	python3 tests/boot/snappatch.py "$tmp/snap" "$tmp/ncpus" ncpus=3 &&
	python3 tests/boot/snappatch.py "$tmp/snap" "$tmp/rw" ro=0
bad=""
chk() { # FILE TEXT [OPTIONS...]: one line with TEXT, status 125
	local f=$1 want=$2
	shift 2
	run_mote "$tmp/out" "$tmp/err" restore "$@" "$f"
	local st=$?
	[ "$st" = 125 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF -- "$want" "$tmp/err" ||
		bad="$bad [$f: status $st, $(head -c 200 "$tmp/err")]"
}
chk "$tmp/short" "the snapshot is truncated or its header is inconsistent"
chk "$tmp/flip" "the snapshot's state is corrupt (checksum mismatch)"
chk "$tmp/noise" "not a mote snapshot"
mv "$tmp/ro.img" "$tmp/ro.away"
chk "$tmp/snap" "the guest's disk $tmp/ro.img: No such file or directory"
mv "$tmp/ro.away" "$tmp/ro.img"
if [ -z "$bad" ]; then pass "$t/snap-bad"; else fail "$t/snap-bad" "$bad"; fi
bad=""
chk "$tmp/kind" "a snapshot of kind 7, which this mote does not know"
chk "$tmp/ncpus" "BOOT says 268435456 bytes and 3 vCPUs, the header 268435456 and 2"
chk "$tmp/snap" "--timing is for a mote run snapshot" --timing
chk "$tmp/rw" "has a writable disk ($tmp/ro.img), which clones would all write" -n 2
if [ -z "$bad" ]; then pass "$t/snap-kind"; else fail "$t/snap-kind" "$bad"; fi

# A hostile guest: huge string I/O to and from a port no device has, wide
# accesses, MMIO outside RAM, a virtio driver that breaks the rng three
# ways (a looping chain, a buffer outside RAM, a bad queue size), then a
# triple fault. The monitor answers as documented (the guest prints
# HOSTILE-OK if so: the device said DEVICE_NEEDS_RESET each time), logs
# each fault in one line and ends with status 1.
if gcc -c -o "$tmp/hostile.o" tests/boot/hostile.S 2>"$tmp/err" &&
	objcopy -O binary -j .text "$tmp/hostile.o" "$tmp/hostile.bin" &&
	python3 tests/boot/mkbzimage.py "$tmp/hostile.bin" "$tmp/hostile.bz"; then
	run_mote "$tmp/out" "$tmp/err" boot --kernel "$tmp/hostile.bz" --memory 64M --timeout 120
	st=$?
	if [ "$st" = 1 ] && grep -qx 'HOSTILE-OK' "$tmp/out" &&
		grep -qx "mote: the guest's kernel reset the CPU (a triple fault)" "$tmp/err" &&
		grep -qx 'mote: virtio-rng: queue 0: descriptor chain loops; the device needs a reset' "$tmp/err" &&
		grep -qx 'mote: virtio-rng: queue 0: buffer outside guest RAM; the device needs a reset' "$tmp/err" &&
		grep -qx 'mote: virtio-rng: queue 0: queue size 0, not a power of two, or too large; the device needs a reset' "$tmp/err"; then
		pass "$t/hostile"
	else
		fail "$t/hostile" "status $st (want 1): $(head -c 100 "$tmp/out" | tr '\n' ' ') $(head -c 200 "$tmp/err")"
	fi
else
	fail "$t/hostile" "cannot build tests/boot/hostile.S: $(head -c 200 "$tmp/err")"
fi

# The sandbox, entered before the first vCPU runs (the hostile kernel is
# enough: the hooks run before it does). A syscall outside mote boot's
# allowlist is reported, 125; --no-sandbox says so and lets it through.
MOTE_TEST_SANDBOX_VIOLATION=1 run_mote "$tmp/out" "$tmp/err" boot --kernel "$tmp/hostile.bz" --memory 64M --timeout 120
st=$?
MOTE_TEST_SANDBOX_VIOLATION=1 run_mote "$tmp/out" "$tmp/err2" boot --kernel "$tmp/hostile.bz" --memory 64M \
	--timeout 120 --no-sandbox
st2=$?
if [ "$st" = 125 ] && [ "$(cat "$tmp/err")" = "mote: sandbox violation: syscall ptrace (101)" ] &&
	[ "$st2" = 1 ] && grep -q 'mote: warning: --no-sandbox' "$tmp/err2"; then
	pass "$t/sandbox-violation"
else
	fail "$t/sandbox-violation" "status $st (want 125): $(head -c 200 "$tmp/err"); --no-sandbox: $st2 (want 1) $(head -c 200 "$tmp/err2")"
fi
# Landlock: the monitor opens nothing but the files it was given.
if ! python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).syscall(444, None, 0, 1) <= 0)'; then
	skip "$t/sandbox-landlock" "this kernel has no Landlock"
else
	MOTE_TEST_SANDBOX_OPEN=/etc/hostname run_mote "$tmp/out" "$tmp/err" boot --kernel "$tmp/hostile.bz" \
		--memory 64M --timeout 120
	st=$?
	if [ "$st" = 1 ] && grep -qx 'mote: sandbox test: open /etc/hostname: Permission denied' "$tmp/err"; then
		pass "$t/sandbox-landlock"
	else
		fail "$t/sandbox-landlock" "status $st (want 1): $(head -c 200 "$tmp/err")"
	fi
fi
