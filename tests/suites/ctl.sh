#!/usr/bin/env bash
# The control socket (docs/control.md): mote ps/stop/pause/resume/stats/
# snapshot against running busybox guests, --name, stale dirs of killed
# monitors, the protocol's error replies, socket permissions, --merge.
# Runs use a private XDG_RUNTIME_DIR; every wait polls for its condition
# under a generous deadline.
set -u
. tests/lib.sh
BB=/bin/busybox
NAMES=(ps stats-json pause-loop pause-fork stop-paused stop-grace same-name
	bad-name stale protocol stuck-client unknown-id non-owner dir-removed
	snapshot merge stop-force)

why=$(kvm_missing)
[ -z "$why" ] && [ ! -x $BB ] && why="no $BB (apt-get install busybox-static)"
plan ${#NAMES[@]}
if [ -n "$why" ]; then
	for t in "${NAMES[@]}"; do skip "ctl/$t" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
RT=$XDG_RUNTIME_DIR/mote
vol=$tmp/vol
mkdir "$vol"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
DEADLINE=20

# start NAME ARGS...: mote run --name NAME ARGS in the background (output
# in $tmp/NAME.out/.err, status in $tmp/NAME.st once it ends); waits until
# mote ps lists it. Status 1 if it does not come.
start() {
	local name=$1
	shift
	rm -f "$tmp/$name.st"
	(
		timeout -k 5 120 "$MOTE" run --volume "$vol:/w:rw" --name "$name" "$@" \
			>"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
		echo $? >"$tmp/$name.st"
	) 2>/dev/null &
	pids+=($!)
	local end=$((SECONDS + DEADLINE))
	until [ -S "$RT/$name/ctl.sock" ] && "$MOTE" ps | grep -q "^$name "; do
		[ $SECONDS -ge $end ] && return 1
		[ -e "$tmp/$name.st" ] && return 1
		sleep 0.05
	done
}

# ended NAME: waits until the run's mote has exited; status 1 if not.
ended() {
	local end=$((SECONDS + DEADLINE))
	until [ -e "$tmp/$1.st" ]; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

# json FILE EXPR: evaluates the Python expression EXPR on the JSON in FILE
# (as j); prints its value, status 1 if it raises.
json() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

# The guests append to a file as they go: its size is their progress.
size() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# changes FILE: waits until FILE grows.
changes() {
	local was end=$((SECONDS + DEADLINE))
	was=$(size "$1")
	while [ "$(size "$1")" = "$was" ]; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

# still FILE: FILE stays the same size over half a second (a paused guest
# has no way to grow it; a running one grows it every loop).
still() {
	local was
	was=$(size "$1")
	sleep 0.5
	[ "$(size "$1")" = "$was" ]
}

# shellcheck disable=SC2016 # for the guest's shell
LOOP='while :; do echo x >>/w/loop; done'
FORK='while :; do sleep 0.01; echo x >>/w/fork; done'

# A guest that loops in its shell, and one that forks sleep(1).
loop_why=
start loop $BB sh -c "$LOOP" || loop_why="loop did not start: $(cat "$tmp/loop.err")"

"$MOTE" ps --json >"$tmp/ps.json"
if [ -n "$loop_why" ]; then
	fail ctl/ps "$loop_why"
elif r=$(json "$tmp/ps.json" "[(v['state'], v['pid'] > 0, v['vcpus'], v['memory']['resident'] > 0, 'exits_per_s' in v, v['uptime_s'] >= 0, v['program']) for v in j if v['id'] == 'loop']") &&
	[ "$r" = "[('running', True, 1, True, True, True, '/usr/bin/busybox')]" ] &&
	"$MOTE" ps | grep -q '^ID .*PID .*STATE .*UPTIME .*VCPUS .*RSS .*EXITS/S .*PROGRAM$'; then
	pass ctl/ps
else
	fail ctl/ps "$r: $(head -c 300 "$tmp/ps.json")"
fi

"$MOTE" stats loop --json >"$tmp/stats.json"
r=$(json "$tmp/stats.json" "(j['id'], j['exits'] > 0, j['exit_reasons']['syscall'] > 0, any(s['name'] == 'write' and s['count'] > 0 and s['ns'] > 0 for s in j['syscalls']), j['page_faults'] >= 0, j['vcpus'][0]['cpu_ns'] > 0, all(j['memory'][k] > 0 for k in ('resident', 'pss', 'private')), j['memory']['shared'] >= 0)" 2>&1)
if [ "$r" = "('loop', True, True, True, True, True, True, True)" ] &&
	"$MOTE" stats loop | grep -q '^memory: resident'; then
	pass ctl/stats-json
else
	fail ctl/stats-json "$r"
fi

# Paused: the counter stays; the exit count too. Resumed: it moves again.
r=
"$MOTE" pause loop 2>"$tmp/err" || r="pause failed: $(cat "$tmp/err")"
[ -z "$r" ] && ! still "$vol/loop" && r="the counter moved while paused"
"$MOTE" stats loop --json >"$tmp/s1.json"
sleep 0.2
"$MOTE" stats loop --json >"$tmp/s2.json"
[ -z "$r" ] && [ "$(json "$tmp/s1.json" "j['exits'], j['state']")" != "$(json "$tmp/s2.json" "j['exits'], j['state']")" ] &&
	r="exits moved while paused"
[ -z "$r" ] && [ "$(json "$tmp/s2.json" "j['state']")" != paused ] && r="state is not paused"
"$MOTE" resume loop 2>"$tmp/err" || r="${r:-resume failed: $(cat "$tmp/err")}"
[ -z "$r" ] && ! changes "$vol/loop" && r="the counter did not move once resumed"
if [ -z "$r" ]; then pass ctl/pause-loop; else fail ctl/pause-loop "$r"; fi

# A guest that forks: every process of the tree is held.
if start fork $BB sh -c "$FORK"; then
	r=
	changes "$vol/fork" || r="the forking guest makes no progress"
	"$MOTE" pause fork 2>"$tmp/err" || r="pause failed: $(cat "$tmp/err")"
	[ -z "$r" ] && ! still "$vol/fork" && r="the file grew while paused"
	"$MOTE" resume fork 2>"$tmp/err" || r="resume failed: $(cat "$tmp/err")"
	[ -z "$r" ] && ! changes "$vol/fork" && r="no progress once resumed"
	if [ -z "$r" ]; then pass ctl/pause-fork; else fail ctl/pause-fork "$r"; fi
	# Stopped while paused: SIGTERM reaches the shell, which dies of it.
	"$MOTE" pause fork
	if ! "$MOTE" stop fork 2>"$tmp/err"; then
		fail ctl/stop-paused "stop failed: $(cat "$tmp/err")"
	elif [ -e "$RT/fork" ]; then
		fail ctl/stop-paused "the runtime dir is still there after stop"
	elif ! ended fork || [ "$(cat "$tmp/fork.st")" != 143 ]; then
		fail ctl/stop-paused "mote run status $(cat "$tmp/fork.st" 2>/dev/null), want 143"
	else
		pass ctl/stop-paused
	fi
else
	fail ctl/pause-fork "did not start: $(cat "$tmp/fork.err")"
	fail ctl/stop-paused "did not start"
fi

# A guest that ignores SIGTERM is killed once --grace has passed.
if start deaf $BB sh -c "trap '' TERM; $LOOP"; then
	if ! "$MOTE" stop --grace 0.5 deaf 2>"$tmp/err"; then
		fail ctl/stop-grace "stop failed: $(cat "$tmp/err")"
	elif ! ended deaf || [ "$(cat "$tmp/deaf.st")" != 137 ] || [ -e "$RT/deaf" ]; then
		fail ctl/stop-grace "mote run status $(cat "$tmp/deaf.st" 2>/dev/null), want 137"
	else
		pass ctl/stop-grace
	fi
else
	fail ctl/stop-grace "did not start: $(cat "$tmp/deaf.err")"
fi

# The same name twice: the second run is refused before its VM starts.
run_mote "$tmp/out" "$tmp/err" run --name loop $BB echo started
st=$?
want="mote: a VM named loop is already running (pid $(json "$RT/loop/state" "j['pid']")); pick another --name"
if [ $st = 125 ] && [ "$(cat "$tmp/err")" = "$want" ] && [ ! -s "$tmp/out" ]; then
	pass ctl/same-name
else
	fail ctl/same-name "status $st: $(cat "$tmp/out" "$tmp/err")"
fi

r=
for n in .hidden a/b "" "$(printf 'x%.0s' $(seq 65))" 'sp ace'; do
	run_mote "$tmp/out" "$tmp/err" run --name "$n" $BB true
	st=$?
	grep -q "^mote: --name .*: \(must\|may\)" "$tmp/err" && [ $st = 125 ] ||
		r="$r '$n': status $st $(cat "$tmp/err");"
done
if [ -z "$r" ]; then pass ctl/bad-name; else fail ctl/bad-name "$r"; fi

# A monitor killed with SIGKILL leaves its dir; mote ps removes it and the
# name is free again.
if start stale $BB sh -c "$LOOP"; then
	mpid=$(json "$RT/stale/state" "j['pid']")
	kill -KILL "$mpid"
	ended stale
	r=
	[ -d "$RT/stale" ] || r="no stale dir to clean (test is moot)"
	"$MOTE" ps >"$tmp/ps.out"
	[ -z "$r" ] && grep -q '^stale ' "$tmp/ps.out" && r="mote ps lists the dead VM"
	[ -z "$r" ] && [ -e "$RT/stale" ] && r="mote ps left the stale dir"
	run_mote "$tmp/out" "$tmp/err" run --name stale $BB echo again
	[ -z "$r" ] && [ "$(cat "$tmp/out")" != again ] && r="the name is not free: $(cat "$tmp/err")"
	if [ -z "$r" ]; then pass ctl/stale; else fail ctl/stale "$r"; fi
else
	fail ctl/stale "did not start: $(cat "$tmp/stale.err")"
fi

# Bad requests get an error reply and the VM goes on.
cat >"$tmp/client.py" <<'EOF'
import socket, sys
def talk(data):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    try:
        s.sendall(data)
    except OSError:
        pass  # the server closed after its error reply (a long line)
    out = b''
    while not out.endswith(b'\n'):
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out.decode().strip()
for req in [b'garbage\n', b'\x00\xff{\n', b'{"cmd":\n', b'[1]\n',
            b'{"cmd":"frobnicate"}\n', b'{"cmd":7}\n',
            b'{"cmd":"stop","force":"yes"}\n', b'{}\n',
            b'{"cmd":"snapshot"}\n', b'x' * (1 << 20) + b'\n']:
    print(talk(req)[:160])
print(talk(b'{"cmd":"precopy"}\n'))
# Migration's requests with an fd they cannot write records into: the
# read end of a pipe. Refused; the tracking a round starts ends again.
import os
def talk_fd(data):
    r, w = os.pipe()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    socket.send_fds(s, [data], [r])
    out = s.recv(65536)
    s.close()
    os.close(r)
    os.close(w)
    return out.decode().strip()
print(talk_fd(b'{"cmd":"precopy"}\n'))
print(talk_fd(b'{"cmd":"snapshot","stream":true}\n'))
print(talk(b'{"cmd":"precopy","end":true}\n'))
# Post-copy's: without their fd, out of order, or with fields that do
# not go together; a lazy pass into a read-only fd fails and the run
# goes on.
print(talk(b'{"cmd":"postcopy"}\n'))
print(talk_fd(b'{"cmd":"postcopy"}\n'))
print(talk_fd(b'{"cmd":"snapshot","lazy":true}\n'))
print(talk_fd(b'{"cmd":"snapshot","stream":true,"lazy":true,"stop":true}\n'))
print(talk_fd(b'{"cmd":"snapshot","stream":true,"lazy":true}\n'))
print(talk(b'{"cmd":"migrated","to":"a:1","lost":1}\n'))
print(talk(b'{"cmd":"pause"}\n'))
print(talk_fd(b'{"cmd":"postcopy"}\n'))
# A whole post-copy by hand, on a socket pair: the lazy pass, then the
# pages, with requests that name no lazy page (below the image, past its
# end, a huge length) waiting before it: each is passed over, and every
# lazy page comes once (as data, or as zeros), then DONE.
import json, struct, threading
def talk_sock(data, ask=b''):
    a, b = socket.socketpair()
    a.sendall(ask)
    got = []
    def drain():
        d = b''
        while True:
            x = a.recv(1 << 20)
            if not x:
                break
            d += x
        got.append(d)
    t = threading.Thread(target=drain)
    t.start()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(sys.argv[1])
    socket.send_fds(s, [data], [b.fileno()])
    b.close()
    out = s.recv(65536)
    s.close()
    t.join()
    a.close()
    return json.loads(out), got[0]
def records(d):
    recs, i = [], 0
    while i < len(d):
        kind, n, off = struct.unpack_from('<IIQ', d, i)
        i += 16 + (n if kind == 2 else 0)
        recs.append((kind, n, off))
    return recs
j, d = talk_sock(b'{"cmd":"snapshot","stream":true,"lazy":true}\n')
lazy = sum(n for k, n, o in records(d) if k == 5)
ask = struct.pack('<QQ', 0, 4096) + struct.pack('<QQ', 1 << 62, 4096) + \
      struct.pack('<QQ', 4096 * 4096, 1 << 62) + b'half'
j2, d2 = talk_sock(b'{"cmd":"postcopy"}\n', ask)
r2 = records(d2)
data = sum(n for k, n, o in r2 if k == 2)
zero = sum(n for k, n, o in r2 if k == 3)
print(j['ok'], j['lazy_pages'] * 4096 == lazy > 0, j2['ok'],
      j2['asked_pages'], data + zero == lazy, r2[-1] == (6, 0, data))
print(talk(b'{"cmd":"resume"}\n'))
print(talk(b'{"cmd":"info"}\n').startswith('{"ok":true,"id":"loop",'))
EOF
python3 "$tmp/client.py" "$RT/loop/ctl.sock" >"$tmp/replies" 2>&1
"$MOTE" ps --json >"$tmp/ps.json"
cat >"$tmp/want" <<'EOF'
{"ok":false,"error":"invalid JSON"}
{"ok":false,"error":"invalid JSON"}
{"ok":false,"error":"invalid JSON"}
{"ok":false,"error":"a request is a JSON object"}
{"ok":false,"error":"unknown command \"frobnicate\" (info, pause, resume, stop, stats, snapshot, signal, migrated, precopy, postcopy)"}
{"ok":false,"error":"\"cmd\" must be a string"}
{"ok":false,"error":"\"force\" must be true or false"}
{"ok":false,"error":"\"cmd\" must be a string"}
{"ok":false,"error":"no file came with the request (pass its fd with SCM_RIGHTS)"}
{"ok":false,"error":"request line longer than 65536 bytes"}
{"ok":false,"error":"no pipe came with the request (pass its fd with SCM_RIGHTS)"}
{"ok":false,"error":"pre-copy failed: cannot send the snapshot: Bad file descriptor"}
{"ok":false,"error":"snapshot failed: cannot send the snapshot: Bad file descriptor"}
{"ok":true}
{"ok":false,"error":"no socket came with the request (pass its fd with SCM_RIGHTS)"}
{"ok":false,"error":"the VM is not paused: post-copy follows a lazy snapshot of a paused VM"}
{"ok":false,"error":"\"lazy\" is for a stream snapshot of a VM that goes on (post-copy)"}
{"ok":false,"error":"\"lazy\" is for a stream snapshot of a VM that goes on (post-copy)"}
{"ok":false,"error":"snapshot failed: cannot send the snapshot: Bad file descriptor"}
{"ok":false,"error":"\"lost\" must be true or false"}
{"ok":true,"complete":true}
{"ok":false,"error":"post-copy failed: no lazy snapshot to follow (send a snapshot with \"lazy\" first)"}
True True True 0 True True
{"ok":true}
True
EOF
if cmp -s "$tmp/want" "$tmp/replies" && changes "$vol/loop" &&
	[ "$(json "$tmp/ps.json" "[v['state'] for v in j if v['id'] == 'loop']")" = "['running']" ]; then
	pass ctl/protocol
else
	fail ctl/protocol "$(first_diff "$tmp/want" "$tmp/replies")"
fi

# A client that trickles a line in without ending it holds the socket for
# 5 s at most: the next one is served.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print("connected", flush=True)
for i in range(30):
    s.send(b" ")
    time.sleep(1)
' "$RT/loop/ctl.sock" >"$tmp/slow.out" 2>&1 &
slow=$!
pids+=($slow)
if STAGE=$DEADLINE await_line "$tmp/slow.out" connected &&
	"$MOTE" stats loop --json >"$tmp/stats2.json" 2>"$tmp/err" &&
	[ "$(json "$tmp/stats2.json" "j['id']")" = loop ]; then
	pass ctl/stuck-client
else
	fail ctl/stuck-client "$(cat "$tmp/slow.out" "$tmp/err")"
fi
kill $slow 2>/dev/null

r=
for c in "stop nosuch" "pause nosuch" "resume nosuch" "stats nosuch" "stop ../loop"; do
	# shellcheck disable=SC2086 # the words are the command's
	run_mote "$tmp/out" "$tmp/err" $c
	st=$?
	[ $st = 125 ] && [ "$(cat "$tmp/err")" = "mote: no VM with id ${c#* } (see mote ps)" ] ||
		r="$r $c: status $st $(cat "$tmp/err");"
done
[ -z "$r" ] && ! changes "$vol/loop" && r="the VM stopped"
if [ -z "$r" ]; then pass ctl/unknown-id; else fail ctl/unknown-id "$r"; fi

# Another user cannot reach the socket: the 0700 dirs refuse the path.
cat >"$tmp/connect.py" <<'EOF'
import socket, sys
try:
    socket.socket(socket.AF_UNIX).connect(sys.argv[1])
    print("connected")
except OSError as e:
    print(e.strerror)
EOF
chmod 755 "$tmp"
chmod 644 "$tmp/connect.py"
if ! id nobody >/dev/null 2>&1; then
	skip ctl/non-owner "no user nobody"
elif [ "$(id -u)" != 0 ]; then
	skip ctl/non-owner "needs root to run a client as nobody"
else
	if command -v setpriv >/dev/null; then
		r=$(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
			/usr/bin/python3 "$tmp/connect.py" "$RT/loop/ctl.sock" 2>&1)
	else
		r=$(su -s /bin/sh nobody -c "/usr/bin/python3 $tmp/connect.py $RT/loop/ctl.sock" 2>&1)
	fi
	if [ "$r" = "Permission denied" ]; then
		pass ctl/non-owner
	else
		fail ctl/non-owner "as nobody: $r"
	fi
fi

# A run that ends, by itself or by --timeout, takes its dir with it.
r=
run_mote "$tmp/out" "$tmp/err" run --name quick $BB true
[ -e "$RT/quick" ] && r="left after a normal exit"
run_mote "$tmp/out" "$tmp/err" run --name quick --timeout 0.5 $BB sh -c 'while :; do :; done'
st=$?
[ $st != 124 ] && r="$r --timeout status $st;"
[ -e "$RT/quick" ] && r="$r left after --timeout;"
run_mote "$tmp/out" "$tmp/err" run --name quick $BB sh -c 'kill -KILL $$'
[ -e "$RT/quick" ] && r="$r left after the guest was killed;"
if [ -z "$r" ]; then pass ctl/dir-removed; else fail ctl/dir-removed "$r"; fi

# A snapshot of a running VM: the file holds one and the VM goes on.
run_mote "$tmp/out" "$tmp/err" snapshot loop "$tmp/snap"
st=$?
if [ $st = 0 ] && [ "$(head -c 8 "$tmp/snap" 2>/dev/null)" = MOTESNAP ] &&
	changes "$vol/loop"; then
	pass ctl/snapshot
else
	fail ctl/snapshot "status $st: $(cat "$tmp/out" "$tmp/err")"
fi

# --merge marks the guest's memory for KSM (VmFlags mg).
if start merge --merge $BB sh -c "$LOOP"; then
	mpid=$(json "$RT/merge/state" "j['pid']")
	foreign=$(proc_foreign)
	if [ -n "$foreign" ]; then
		skip ctl/merge "$foreign"
	elif grep -q '^VmFlags:.* mg' "/proc/$mpid/smaps"; then
		pass ctl/merge
	elif [ ! -e /sys/kernel/mm/ksm ]; then
		skip ctl/merge "no KSM in this kernel"
	else
		fail ctl/merge "no mergeable mapping in /proc/$mpid/smaps"
	fi
	"$MOTE" stop --force merge
else
	fail ctl/merge "did not start: $(cat "$tmp/merge.err")"
fi

"$MOTE" stop --force loop
ended loop
if [ "$(cat "$tmp/loop.st")" != 137 ] || [ -e "$RT/loop" ]; then
	fail ctl/stop-force "status $(cat "$tmp/loop.st" 2>/dev/null), dir: $(ls "$RT")"
else
	pass ctl/stop-force
fi
