#!/usr/bin/env bash
# make bench, migration: a 256 MiB guest (MIGRATE_MIB; 64 in the test
# VM) writing 2,000 pages a second is
# moved with mote migrate to a mote receive on this host (loopback TCP).
# Reported: the time it is paused (stop to resume on the receiver's side
# of the handshake), the bytes sent against the guest's resident memory,
# and, as the reference the issue asks for in the test VM, a snapshot of
# the same guest plus a restore to its first instruction. Twice: by
# pre-copy (the default: rounds while the guest runs, then a short pause),
# by stop-and-copy (--rounds 0: all of it while the guest is paused) and
# by post-copy (--postcopy: the receiver runs it at once, and its memory
# follows).
# Usage: bench/migrate.sh BUILD_DIR
set -u
O=${1:-build}
MOTE=$O/mote
tmp=$(mktemp -d)
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
head -c 32 /dev/urandom >"$tmp/key"
port=$((30000 + $$ % 20000))
MIB=${MIGRATE_MIB:-256}
G="$O/bench/dirty $MIB 2000 30"

echo "migration: a $MIB MiB guest writing 2000 pages/s"
wait_ready() {
	for _ in $(seq 600); do
		grep -q ready "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# The reference: snapshot, then restore to the first guest instruction.
"$MOTE" run --memory 1G --name ref $G >"$tmp/ref.out" 2>&1 &
pids+=($!)
wait_ready "$tmp/ref.out" || { echo "  the guest did not start"; exit 1; }
rss=$(awk '/^Rss:/ { print $2 }' "/proc/$(pgrep -f "name ref" | head -1)/smaps_rollup" 2>/dev/null)
snap_ms=$("$MOTE" snapshot ref "$tmp/ref.snap" --stop | sed -n 's/.* in \([0-9.]*\) ms$/\1/p')
first_us=$("$MOTE" restore --timing --timeout 1 "$tmp/ref.snap" 2>&1 >/dev/null |
	sed -n 's/.*start to first guest instruction \([0-9.]*\) us.*/\1/p')
wait
rm -f "$tmp/ref.snap"
# Across a veth between two network namespaces (tests/veth.sh) when this
# runs as root, else over the loopback.
. tests/veth.sh
ns=moteb$$
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; veth_down $ns; rm -rf "$tmp"' EXIT
if veth_up $ns; then
	echo "  (across a veth between two network namespaces)"
else
	echo "  (over the loopback: not root, or no network namespaces)"
fi
# migrate NAME PORT OPTS...: one migration of a fresh guest; sets line.
migrate() {
	local name=$1 port=$2
	shift 2
	$IN_B "$MOTE" receive --listen "$DST:$port" --key "$tmp/key" >"$tmp/recv.out" 2>&1 &
	pids+=($!)
	$IN_A "$MOTE" run --memory 1G --name "$name" $G >"$tmp/src.out" 2>&1 &
	pids+=($!)
	wait_ready "$tmp/src.out" || { echo "  the guest did not start"; exit 1; }
	sleep 1
	line=$($IN_A "$MOTE" migrate "$name" "$DST:$port" --key "$tmp/key" "$@")
	echo "$line" | grep -q "paused for" || { echo "  migrate failed: $line"; exit 1; }
}
field() { echo "$line" | sed -n "s/$1/\\1/p"; }
ref_ms=$(awk -v s="$snap_ms" -v f="$first_us" 'BEGIN { printf "%.1f", s + f / 1000 }')
printf '  snapshot + restore              %8.1f ms  (%s ms + first instruction %s us)\n' "$ref_ms" "$snap_ms" "$first_us"
for how in pre-copy stop-and-copy post-copy; do
	opt=
	[ $how = stop-and-copy ] && opt="--rounds 0"
	[ $how = post-copy ] && opt="--postcopy"
	migrate "m$how" $((port + ${#how})) $opt
	paused=$(field '.*paused for \([0-9.]*\) ms.*')
	total=$(field '.* in \([0-9.]*\) ms (paused.*')
	sent=$(field '.*; \([0-9.]*\) MiB sent.*')
	rounds=$(field '.*after \([0-9]*\) rounds.*')
	echo "  $how ($rounds rounds):"
	printf '    downtime (paused)             %8.1f ms  %.2fx snapshot + restore  target: 50 ms median on hardware\n' \
		"$paused" "$(awk -v p="$paused" -v r="$ref_ms" 'BEGIN { print p / r }')"
	printf '    total time                    %8.1f ms\n' "$total"
	if [ $how = post-copy ]; then
		printf '    after the switch              %8.1f ms  (%s MiB; %s requests of the receiver)\n' \
			"$(field '.*post-copy: [0-9.]* MiB in \([0-9.]*\) ms.*')" \
			"$(field '.*post-copy: \([0-9.]*\) MiB.*')" "$(field '.*, \([0-9]*\) requests.*')"
		printf '    a request waited              %8.2f ms  median (%s ms at most)\n' \
			"$(field '.*waited \([0-9.]*\) ms median.*')" "$(field '.*median, \([0-9.]*\) ms at most.*')"
	fi
	awk -v s="$sent" -v r="$rss" 'BEGIN { printf "    sent %.1f MiB, guest resident %.1f MiB: %.2fx  target <= 1.3x\n", s, r / 1024, s * 1024 / r }'
	kill -KILL "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	pids=()
done
