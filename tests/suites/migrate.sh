#!/usr/bin/env bash
# Migration (docs/migration.md) and listening sockets across snapshots:
# mote migrate moves a counting guest (one with threads, too; one by
# stop-and-copy, --rounds 0; one by post-copy) to a mote receive mid-run,
# and the two outputs together are a native run's, nothing lost, nothing
# printed twice; a guest that keeps writing 32 MiB moves by pre-copy (and
# by stop-and-copy, and by post-copy) and ends with the checksum of a
# native run; a process tree with a pipe between its members moves by
# stop-and-copy (and is refused post-copy, going on where it was); a wrong
# key, a receiver killed mid-stream while the VM is paused and a link cut
# during pre-copy leave the guest running to the end where it was; a link
# cut during post-copy ends both sides, each saying so; a guest that
# forks, or moves its memory with mremap, early in post-copy sees all of
# its memory (fork and mremap wait for every page), and one that exits
# then ends the migration as a success; bad options are refused with one
# line; a
# forged or cut stream is refused by the
# receiver; a bad key file is refused with one line; a server listening on
# TCP serves again on its address after a restore and after a migration.
# Both ends are on this host, over TCP on the loopback.
set -u
. tests/lib.sh
S=$O/tests/snap
BB=/bin/busybox
TESTS=(move-gcc move-dyn move-threads move-postcopy precopy-dirty
	stop-and-copy-dirty postcopy-dirty wrong-key killed-receiver cut-link
	postcopy-lost postcopy-fork postcopy-mremap postcopy-exit forged-stream
	cut-stream bad-key-file bad-options move-tree tree-postcopy
	listen-restore listen-migrate)

why=$(kvm_missing)
[ -z "$why" ] && ! command -v python3 >/dev/null && why="no python3"
plan ${#TESTS[@]}
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do skip "migrate/$t" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
head -c 32 /dev/urandom >"$tmp/key"
head -c 32 /dev/urandom >"$tmp/other"
port=$((20000 + $$ % 20000))
DEADLINE=60

# bg NAME CMD...: runs CMD in the background, stdout/stderr in
# $tmp/NAME.out/.err, its status in $tmp/NAME.st once it ends. The files
# of the last NAME go first, here: the subshell may start late, and a
# `lines` meanwhile must not count the last one's lines.
bg() {
	local name=$1
	shift
	rm -f "$tmp/$name.st" "$tmp/$name.out" "$tmp/$name.err"
	(
		timeout -k 5 120 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
		echo $? >"$tmp/$name.st"
	) 2>/dev/null &
	pids+=($!)
}
# ended NAME: waits for its status; 1 if it does not come.
ended() {
	local end=$((SECONDS + DEADLINE))
	until [ -s "$tmp/$1.st" ]; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}
# lines NAME N: waits until NAME.out has N lines.
lines() {
	local end=$((SECONDS + DEADLINE))
	until [ "$({ wc -l <"$tmp/$1.out"; } 2>/dev/null || echo 0)" -ge "$2" ]; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}
st() { cat "$tmp/$1.st" 2>/dev/null; }
oneline() { head -c 300 "$tmp/$1.err" | tr '\n' '|'; }

# A moved guest's line comes every TICK ms (its lines do not depend on
# it): under the test VM's emulation the rounds of pre-copy are slow, and
# a guest of 1.5 s would end before its migration.
TICK=50
G="$O/bench/dirty 32 2000 6"
if [ -n "${MOTE_TESTVM:-}" ]; then
	TICK=200
	G="$O/bench/dirty 16 1000 15"
fi
"$MOTE" run "$S/count.gcc" 30 50 >"$tmp/native" 2>/dev/null
"$MOTE" run "$S/count.gcc" 30 50 3 >"$tmp/native-threads" 2>/dev/null

# move V: the guest counts 30 lines, 50 ms apart; migrated after 5. The
# threads one has 3 threads more, waiting on a condition variable; so has
# the post-copy one, after a round of pre-copy (whose pages written since
# are then fetched on demand).
for v in gcc dyn threads postcopy; do
	t=migrate/move-$v
	bin=$S/count.$v args=
	native=$tmp/native
	if [ $v = threads ] || [ $v = postcopy ]; then
		bin=$S/count.gcc args=3 native=$tmp/native-threads
	fi
	port=$((port + 1))
	# Two rounds: the guest rewrites 4 MiB every 50 ms, faster than a
	# test VM's emulated link carries it, so more would only wait.
	rounds="--rounds 2"
	[ $v = dyn ] && rounds="--rounds 0"
	[ $v = postcopy ] && rounds="--postcopy --rounds 1"
	bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
	bg src "$MOTE" run --name "m$v" "$bin" 30 $TICK $args
	lines src 5
	"$MOTE" migrate "m$v" "127.0.0.1:$port" --key "$tmp/key" $rounds \
		>"$tmp/mig.out" 2>"$tmp/mig.err"
	ms=$?
	ended src && ended recv
	if [ $ms != 0 ] || [ "$(st src)" != 0 ] || [ "$(st recv)" != 7 ]; then
		fail "$t" "migrate $ms, source $(st src), receiver $(st recv): $(head -c 200 "$tmp/mig.err") $(oneline src) $(oneline recv)"
	elif ! grep -qx "mote: migrated to 127.0.0.1:$port" "$tmp/src.err"; then
		fail "$t" "source said: $(oneline src)"
	elif ! cat "$tmp/src.out" "$tmp/recv.out" | cmp -s - "$native"; then
		fail "$t" "output differs from a native run's: source $(wc -l <"$tmp/src.out") lines, receiver $(wc -l <"$tmp/recv.out")"
	elif [ ! -s "$tmp/recv.out" ]; then
		fail "$t" "the receiver printed nothing"
	else
		pass "$t"
	fi
done

# Two hosts: network namespaces A and B joined by a veth pair
# (tests/veth.sh), made here and removed at exit. The dirty guests below
# run in A and are received in B. Without root or iproute2 they go over
# the loopback, and say so.
. tests/veth.sh
ns=mote$$
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; veth_down $ns; rm -rf "$tmp"' EXIT
if veth_up $ns; then
	echo "   (the dirty guests move across a veth between two network namespaces)"
else
	echo "   (the dirty guests move over the loopback: no root, iproute2 or network namespaces here)"
fi

# precopy-dirty, stop-and-copy-dirty, postcopy-dirty: bench/dirty fills
# 32 MiB, then writes 2,000 pages a second for 6 s and prints a checksum
# of it all; moved a second in, it must print a native run's checksum on
# the receiver (in the test VM: 16 MiB, 1,000 pages a second for 15 s).
# By pre-copy, most of it crosses while the guest runs: what crosses while
# it is paused is less than half of all that is sent; by post-copy, most
# of it crosses after the receiver runs it, and mote migrate says how long
# the receiver's requests waited.
"$MOTE" run --memory 256M $G >"$tmp/native-dirty" 2>/dev/null
for how in precopy stop-and-copy postcopy; do
	t=migrate/$how-dirty
	opt="--rounds 4"
	[ $how = stop-and-copy ] && opt="--rounds 0"
	[ $how = postcopy ] && opt="--postcopy"
	port=$((port + 1))
	bg recv $IN_B "$MOTE" receive --listen "$DST:$port" --key "$tmp/key"
	bg src $IN_A "$MOTE" run --memory 256M --name "d$how" $G
	lines src 2
	$IN_A "$MOTE" migrate "d$how" "$DST:$port" --key "$tmp/key" $opt \
		>"$tmp/mig.out" 2>"$tmp/mig.err"
	ms=$?
	ended src && ended recv
	line=$(cat "$tmp/mig.out")
	total=$(echo "$line" | sed -n 's/.*; \([0-9.]*\) MiB sent.*/\1/p')
	paused=$(echo "$line" | sed -n 's/.*sent, \([0-9.]*\) MiB of it paused.*/\1/p')
	rounds=$(echo "$line" | sed -n 's/.*after \([0-9]*\) rounds.*/\1/p')
	if [ $ms != 0 ] || [ "$(st src)" != 0 ] || [ "$(st recv)" != 0 ]; then
		fail "$t" "migrate $ms, source $(st src), receiver $(st recv): $(head -c 200 "$tmp/mig.err") $(oneline src) $(oneline recv)"
	elif ! cat "$tmp/src.out" "$tmp/recv.out" | cmp -s - "$tmp/native-dirty"; then
		fail "$t" "output differs from a native run's: $(tail -1 "$tmp/recv.out") vs $(tail -1 "$tmp/native-dirty")"
	elif [ -z "$total" ] || [ -z "$paused" ] || [ -z "$rounds" ]; then
		fail "$t" "no figures in: $line"
	elif [ $how = precopy ] && { [ "$rounds" -lt 1 ] ||
		! awk -v p="$paused" -v t="$total" 'BEGIN { exit !(p < t / 2) }'; }; then
		fail "$t" "pre-copy did not send the most while the guest ran: $line"
	elif [ $how = stop-and-copy ] && [ "$rounds" != 0 ]; then
		fail "$t" "--rounds 0 ran rounds: $line"
	elif [ $how = postcopy ] && { [ "$rounds" != 0 ] ||
		! echo "$line" | grep -Eq "; post-copy: [0-9.]+ MiB in [0-9.]+ ms, (0 requests of the receiver\)|[0-9]+ requests of the receiver, which waited [0-9.]+ ms median, [0-9.]+ ms at most\))" ||
		! awk -v p="$paused" -v t="$total" 'BEGIN { exit !(p < t / 2) }'; }; then
		fail "$t" "post-copy did not send the most after the switch: $line"
	else
		pass "$t"
	fi
done

# stays NAME LINES: the source ran to the end where it was, alone.
stays() {
	ended src
	if [ "$(st src)" != 7 ] || ! cmp -s "$tmp/src.out" "$tmp/native"; then
		echo "the source ended with $(st src) after $(wc -l <"$tmp/src.out") lines: $(oneline src)"
	fi
}

# wrong-key: found before the VM is paused; both sides say so in a line.
port=$((port + 1))
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/other"
bg src "$MOTE" run --name wk "$S/count.gcc" 30 50
lines src 3
"$MOTE" migrate wk "127.0.0.1:$port" --key "$tmp/key" >/dev/null 2>"$tmp/mig.err"
ms=$?
ended recv
why=$(stays)
if [ $ms != 125 ] || ! grep -q "different keys" "$tmp/mig.err" ||
	[ "$(wc -l <"$tmp/mig.err")" != 1 ]; then
	fail migrate/wrong-key "migrate $ms: $(head -c 200 "$tmp/mig.err")"
elif [ "$(st recv)" != 125 ] || ! grep -q "authentication failed" "$tmp/recv.err"; then
	fail migrate/wrong-key "receiver $(st recv): $(oneline recv)"
elif [ -n "$why" ]; then
	fail migrate/wrong-key "$why"
else
	pass migrate/wrong-key
fi

# proxy MODE LISTEN TARGET [BYTES]: a TCP relay that, after BYTES (64
# KiB) from the source, either cuts both sides (cut) or stalls, touches
# $tmp/stalled and waits for the receiver to die, then closes (stall).
# With MODE slow it relays everything, and once the receiver says READY (a
# frame's type is in clear) makes $tmp/go, the cue of tests/snap/pcfork.c,
# and from then on carries the source's stream at 32 MiB/s, so that the
# guest acts on its cue with most of its pages still at the source; at
# the end it writes into $tmp/after how many bytes of the source's came
# after READY. Returns once it listens.
proxy() {
	python3 - "$1" "$2" "$3" "$tmp/stalled" "${4:-65536}" "$tmp/go" "$tmp/after" <<'PY' &
import socket, sys, os, time, select, struct
mode, lport, tport, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
limit, go, report = int(sys.argv[5]), sys.argv[6], sys.argv[7]
slow = mode == "slow"
rate = 32 << 20
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if slow:
    # Small buffers: what waits for the throttle waits in mote migrate.
    l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
l.bind(("127.0.0.1", lport)); l.listen(1)
open(mark + ".up", "w").close()
a, _ = l.accept()
b = socket.create_connection(("127.0.0.1", tport))
if slow:
    b.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
sent, back, pos, t0, after = 0, b"", 40, None, 0
try:
    while True:
        r, _, _ = select.select([a, b], [], [], 30)
        if not r: break
        if a in r:
            d = a.recv(16384)
            if not d: break
            if not slow and sent + len(d) > limit:
                d = d[:limit - sent]
                b.sendall(d); sent += len(d)
                if mode == "stall":
                    open(mark, "w").close(); time.sleep(3)
                break
            b.sendall(d); sent += len(d)
            if t0 is not None:
                after += len(d)
                time.sleep(max(0, t0 + after / rate - time.monotonic()))
        if b in r:
            d = b.recv(65536)
            if not d: break
            a.sendall(d)
            back += d if slow else b""
            while slow and t0 is None and len(back) >= pos + 8:
                kind, n = struct.unpack("<II", back[pos:pos + 8])
                if kind == 4:
                    t0 = time.monotonic()
                    open(go, "w").close()
                pos += 8 + n + 16
except OSError:
    pass
if slow:
    open(report, "w").write("%d\n" % after)
a.close(); b.close()
PY
	pids+=($!)
	# Listening before mote migrate dials (it retries for 10 s only, and
	# Python starts slowly in a busy test VM).
	local end=$((SECONDS + DEADLINE))
	until [ -e "$tmp/stalled.up" ] || [ $SECONDS -ge $end ]; do sleep 0.05; done
	rm -f "$tmp/stalled.up"
}

# killed-receiver: the receiver dies mid-stream (SIGKILL), while the VM
# is paused (stop-and-copy): it is resumed.
port=$((port + 2))
rm -f "$tmp/stalled"
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
proxy stall $((port + 1)) $port
bg src "$MOTE" run --name kr "$S/count.gcc" 30 50
lines src 3
( "$MOTE" migrate kr "127.0.0.1:$((port + 1))" --key "$tmp/key" --rounds 0 >/dev/null 2>"$tmp/mig.err"; echo $? >"$tmp/mig.st" ) &
end=$((SECONDS + DEADLINE))
until [ -e "$tmp/stalled" ] || [ $SECONDS -ge $end ]; do sleep 0.05; done
pkill -KILL -f "receive --listen 127.0.0.1:$port " 2>/dev/null
wait $!
why=$(stays)
if [ ! -e "$tmp/stalled" ]; then
	fail migrate/killed-receiver "the stream never reached 64 KiB: migrate $(cat "$tmp/mig.st" 2>/dev/null): $(head -c 200 "$tmp/mig.err") $(oneline recv)"
elif [ "$(cat "$tmp/mig.st")" != 125 ] || ! grep -q "goes on here" "$tmp/mig.err"; then
	fail migrate/killed-receiver "migrate $(cat "$tmp/mig.st"): $(head -c 200 "$tmp/mig.err")"
elif [ -n "$why" ]; then
	fail migrate/killed-receiver "$why"
else
	pass migrate/killed-receiver
fi

# cut-link: the link is cut after 64 KiB, in the first round of
# pre-copy; the receiver says so too.
port=$((port + 2))
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
proxy cut $((port + 1)) $port
bg src "$MOTE" run --name cl "$S/count.gcc" 30 50
lines src 3
"$MOTE" migrate cl "127.0.0.1:$((port + 1))" --key "$tmp/key" >/dev/null 2>"$tmp/mig.err"
ms=$?
ended recv
why=$(stays)
if [ $ms != 125 ] || [ "$(st recv)" != 125 ] ||
	! grep -q "stream ended" "$tmp/recv.err"; then
	fail migrate/cut-link "migrate $ms, receiver $(st recv): $(head -c 200 "$tmp/mig.err") $(oneline recv)"
elif [ -n "$why" ]; then
	fail migrate/cut-link "$why"
else
	pass migrate/cut-link
fi

# postcopy-lost: the link is cut during post-copy, after the receiver
# ran the VM: neither side can go on. The receiver ends with the reason,
# the source's run ends with status 125 and says the VM is lost, and so
# does mote migrate; the VM never runs on both.
port=$((port + 2))
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
proxy cut $((port + 1)) $port $((4 << 20))
bg src "$MOTE" run --memory 256M --name pl $G
lines src 2
"$MOTE" migrate pl "127.0.0.1:$((port + 1))" --key "$tmp/key" --postcopy >/dev/null 2>"$tmp/mig.err"
ms=$?
ended src && ended recv
if [ $ms != 125 ] || ! grep -q "failed after the VM ran there.*the VM is lost" "$tmp/mig.err"; then
	fail migrate/postcopy-lost "migrate $ms: $(head -c 200 "$tmp/mig.err")"
elif [ "$(st src)" != 125 ] || ! grep -q "post-copy to .* failed after the VM ran there: the VM is lost" "$tmp/src.err"; then
	fail migrate/postcopy-lost "source $(st src): $(oneline src)"
elif [ "$(st recv)" != 125 ] || ! grep -q "post-copy: .*cannot go on" "$tmp/recv.err"; then
	fail migrate/postcopy-lost "receiver $(st recv): $(oneline recv)"
elif grep -q '^sum' "$tmp/src.out" "$tmp/recv.out"; then
	fail migrate/postcopy-lost "a side ran the guest to its end"
else
	pass migrate/postcopy-lost
fi

# postcopy-fork, postcopy-mremap, postcopy-exit: tests/snap/pcfork.c
# fills 64 MiB, and once the receiver runs it (most of its pages still at
# the source) forks and checksums it all in the child, then moves it with
# mremap and checksums it again (or only moves it): fork and mremap wait
# until every page has come (vm->settle), and every checksum is a native
# run's. Or it exits at once: the receiver's end waits for the rest of
# the pages, and both sides end as after any migration, status 0.
touch "$tmp/go-native"
for how in fork mremap exit; do
	"$MOTE" run --memory 256M "$S/pcfork.gcc" 64 "$tmp/go-native" $how \
		>"$tmp/native-pc$how" 2>/dev/null
done
for how in fork mremap exit; do
	t=migrate/postcopy-$how
	port=$((port + 2))
	rm -f "$tmp/go" "$tmp/after"
	bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
	proxy slow $((port + 1)) $port
	bg src "$MOTE" run --memory 256M --name "pc$how" "$S/pcfork.gcc" 64 "$tmp/go" $how
	lines src 1
	"$MOTE" migrate "pc$how" "127.0.0.1:$((port + 1))" --key "$tmp/key" --postcopy \
		>"$tmp/mig.out" 2>"$tmp/mig.err"
	ms=$?
	ended src && ended recv
	end=$((SECONDS + DEADLINE))
	until [ -s "$tmp/after" ] || [ $SECONDS -ge $end ]; do sleep 0.05; done
	after=$(cat "$tmp/after" 2>/dev/null || echo 0)
	if ! cat "$tmp/src.out" "$tmp/recv.out" | cmp -s - "$tmp/native-pc$how"; then
		fail "$t" "output differs from a native run's: $(cat "$tmp/src.out" "$tmp/recv.out" | tr '\n' '|') vs $(tr '\n' '|' <"$tmp/native-pc$how") (migrate $ms, source $(st src), receiver $(st recv): $(oneline recv))"
	elif [ $ms != 0 ] || [ "$(st src)" != 0 ] || [ "$(st recv)" != 0 ]; then
		fail "$t" "migrate $ms, source $(st src), receiver $(st recv): $(head -c 200 "$tmp/mig.err") $(oneline src) $(oneline recv)"
	elif [ "$after" -lt $((32 << 20)) ]; then
		fail "$t" "only $after bytes came after the switch: the cue came too late"
	else
		pass "$t"
	fi
done

# sender MODE PORT: a hand-made source: a hello, then a frame with a
# made-up tag (forged) or half a frame (cut).
sender() {
	python3 - "$@" <<'PY'
import socket, sys, os, struct, time
mode, port = sys.argv[1], int(sys.argv[2])
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        time.sleep(0.1)
s.sendall(b"MOTEMIG1" + os.urandom(32))
s.recv(40)
frame = struct.pack("<II", 6, 0) + os.urandom(16)
s.sendall(frame if mode == "forged" else frame[:5])
time.sleep(0.5)
s.close()
PY
}
for m in forged cut; do
	t=migrate/$m-stream
	port=$((port + 1))
	bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
	sender $m $port
	ended recv
	want="authentication failed"
	[ $m = cut ] && want="stream ended"
	if [ "$(st recv)" = 125 ] && grep -q "$want" "$tmp/recv.err" &&
		[ "$(wc -l <"$tmp/recv.err")" = 1 ] && [ ! -s "$tmp/recv.out" ]; then
		pass "$t"
	else
		fail "$t" "receiver $(st recv): $(oneline recv)"
	fi
done

# bad-key-file: 5 bytes.
printf 'short' >"$tmp/bad"
"$MOTE" receive --listen 127.0.0.1:1 --key "$tmp/bad" >/dev/null 2>"$tmp/e1"
s1=$?
"$MOTE" migrate none 127.0.0.1:1 --key "$tmp/bad" >/dev/null 2>"$tmp/e2"
s2=$?
if [ $s1 = 125 ] && [ $s2 = 125 ] && grep -q "32 bytes or 64 hex" "$tmp/e1" &&
	grep -q "32 bytes or 64 hex" "$tmp/e2"; then
	pass migrate/bad-key-file
else
	fail migrate/bad-key-file "receive $s1, migrate $s2: $(cat "$tmp/e1" "$tmp/e2" | head -c 300)"
fi

# bad-options: each refused with one line, before anything is sent.
r=
for o in "--max-downtime 0" "--max-downtime 1s" "--rounds -1" "--rounds 1001" "--postcopy --rounds" "--max-downtime"; do
	"$MOTE" migrate none 127.0.0.1:1 --key "$tmp/key" $o >/dev/null 2>"$tmp/e1"
	s1=$?
	if [ $s1 != 125 ] || [ "$(wc -l <"$tmp/e1")" != 1 ]; then
		r="$r [$o: status $s1, $(head -c 150 "$tmp/e1")]"
	fi
done
if [ -z "$r" ]; then pass migrate/bad-options; else fail migrate/bad-options "$r"; fi

# A process tree: a forking server with three workers and answers unread
# in the pipe between them moves (by stop-and-copy) while its parent
# sleeps; the receiver's tree finishes with every answer, from the pids
# fork gave, each worker's exit status and worker 1's process group.
good="answers 30 sum 885 bad-pids 0 exits-ok 3 pgid-ok 1 greeting-ok 1 shared 30"
port=$((port + 1))
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
bg src "$MOTE" run --name tree "$S/forkserver.gcc" sleep
lines src 1
"$MOTE" migrate tree "127.0.0.1:$port" --key "$tmp/key" >"$tmp/mig.out" 2>"$tmp/mig.err"
ms=$?
ended src
ended recv
if [ $ms = 0 ] && [ "$(st src)" = 0 ] && [ "$(st recv)" = 0 ] &&
	[ "$(cat "$tmp/src.out")" = ready ] && [ "$(cat "$tmp/recv.out")" = "$good" ]; then
	pass migrate/move-tree
else
	fail migrate/move-tree "migrate $ms: $(head -c 200 "$tmp/mig.err"); source $(st src): $(tr '\n' '|' <"$tmp/src.out") $(oneline src); receiver $(st recv): $(tr '\n' '|' <"$tmp/recv.out") $(oneline recv)"
fi

# ... but not by post-copy: refused with one line; the tree goes on here.
port=$((port + 1))
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
bg src "$MOTE" run --name treepc "$S/forkserver.gcc" sleep
lines src 1
"$MOTE" migrate treepc "127.0.0.1:$port" --key "$tmp/key" --postcopy >/dev/null 2>"$tmp/mig.err"
ms=$?
ended src
kill -KILL "$(pgrep -f "receive --listen 127.0.0.1:$port ")" 2>/dev/null
if [ $ms = 125 ] && grep -q "processes, which move by stop-and-copy" "$tmp/mig.err" &&
	[ "$(wc -l <"$tmp/mig.err")" = 1 ] && [ "$(st src)" = 0 ] &&
	[ "$(cat "$tmp/src.out")" = "ready
$good" ]; then
	pass migrate/tree-postcopy
else
	fail migrate/tree-postcopy "migrate $ms, source $(st src): $(head -c 200 "$tmp/mig.err") $(tr '\n' '|' <"$tmp/src.out")"
fi

# greet PORT: connects (retrying for a while) and prints what it is sent.
greet() {
	python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(300):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(1)
sys.stdout.write(s.recv(200).decode())
PY
}

# listen-restore: a server snapshotted while it listens serves after a
# restore, on the same address, as a VM of a new generation.
port=$((port + 1))
rm -f "$tmp/l.snap"
bg src "$MOTE" run --net --snapshot "$tmp/l.snap" "$S/listen.gcc" $port
lines src 1
g1=$(greet $port)
ended src
bg rst "$MOTE" restore "$tmp/l.snap"
g2=$(greet $port)
ended rst
if [ "$(st src)" = 0 ] && [ "$(st rst)" = 0 ] &&
	[[ "$g1" == "hello from a VM of generation "* ]] &&
	[[ "$g2" == "hello from a VM of generation "* ]] && [ "$g1" != "$g2" ]; then
	pass migrate/listen-restore
else
	fail migrate/listen-restore "original $(st src) said '$g1', restored $(st rst) said '$g2': $(oneline rst)"
fi

# listen-migrate: the same server, moved while it waits in accept; the
# receiver binds the address as soon as the source lets go of it.
lport=$((port + 1))
port=$((port + 2))
bg recv "$MOTE" receive --listen "127.0.0.1:$port" --key "$tmp/key"
bg src "$MOTE" run --net --name lm "$S/listen.gcc" $lport nosnap
lines src 1
"$MOTE" migrate lm "127.0.0.1:$port" --key "$tmp/key" >/dev/null 2>"$tmp/mig.err"
ms=$?
g=$(greet $lport)
ended src && ended recv
if [ $ms = 0 ] && [ "$(st src)" = 0 ] && [ "$(st recv)" = 0 ] &&
	[[ "$g" == "hello from a VM of generation "* ]]; then
	pass migrate/listen-migrate
else
	fail migrate/listen-migrate "migrate $ms, source $(st src), receiver $(st recv), said '$g': $(head -c 200 "$tmp/mig.err") $(oneline recv)"
fi
