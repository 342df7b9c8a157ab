#!/usr/bin/env bash
# make bench, snapshots: restore of a 64 MiB snapshot to its first guest
# instruction against the raw-KVM floor program (both medians, measured
# here in one run), and 1,000 concurrent idle clones of a small snapshot:
# the time until all are up, their memory (Pss from smaps_rollup, which
# splits a shared page among its users) and the host's MemAvailable drop
# (which also counts the kernel's KVM memory).
# Usage: bench/snap.sh BUILD_DIR
set -u
O=${1:-build}
MOTE=$O/mote
RUNS=${SNAP_RUNS:-21}
CLONES=${SNAP_CLONES:-1000}
tmp=$(mktemp -d)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now_us() { echo $(($(date +%s%N) / 1000)); }

echo "snapshots"
# The guest exits as soon as it is restored, so a restore's start to exit
# bounds its start to first guest instruction; the floor is timed the same
# way (fork, exec, wait from this shell), interleaved.
"$MOTE" run --snapshot "$tmp/64.snap" "$O/tests/snap/touch.gcc" 64 exit >/dev/null </dev/null ||
	{ echo "  cannot take the 64 MiB snapshot"; exit 1; }
"$MOTE" restore "$tmp/64.snap" >/dev/null 2>&1 # warm the page cache
for i in $(seq "$RUNS"); do
	t0=$(now_us)
	"$O/bench/floor" >/dev/null
	t1=$(now_us)
	"$MOTE" restore "$tmp/64.snap" >/dev/null
	t2=$(now_us)
	echo $((t1 - t0)) >>"$tmp/floor"
	echo $((t2 - t1)) >>"$tmp/restore"
	"$MOTE" restore --timing "$tmp/64.snap" 2>&1 >/dev/null |
		sed -n 's/.*start to first guest instruction \([0-9.]*\) us.*/\1/p' >>"$tmp/first"
done
floor=$(median <"$tmp/floor")
restore=$(median <"$tmp/restore")
first=$(median <"$tmp/first")
size=$(du -k "$tmp/64.snap" | cut -f1)
echo "  64 MiB snapshot: $((size / 1024)) MiB on disk (sparse)"
awk -v f="$first" -v rs="$restore" -v fl="$floor" -v n="$RUNS" 'BEGIN {
	r = rs / fl
	printf "  restore, start to guest exit       %6.0f us (median of %d)\n", rs, n
	printf "    of which mote start to first guest instruction %.0f us (--timing)\n", f
	printf "  raw KVM floor, start to exit       %6.0f us (median of %d)\n", fl, n
	printf "  restore / floor %.2fx   target <= 2.0x  %s\n", r, r <= 2 ? "ok" : "MISS"
}'

"$MOTE" run --snapshot "$tmp/small.snap" "$O/tests/snap/touch.gcc" 1 wait >/dev/null </dev/null ||
	{ echo "  cannot take the small snapshot"; exit 1; }
mkfifo "$tmp/in"
sleep 600 >"$tmp/in" &
holder=$!
avail0=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
t0=$(now_us)
"$MOTE" restore -n "$CLONES" "$tmp/small.snap" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
rpid=$!
end=$((SECONDS + 300))
while [ "$(grep -c '^ok' "$tmp/out")" -lt "$CLONES" ] && [ $SECONDS -lt $end ] &&
	kill -0 $rpid 2>/dev/null; do
	sleep 0.05
done
t1=$(now_us)
up=$(grep -c '^ok' "$tmp/out")
avail1=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
pss=$(for pid in $rpid $(pgrep -P $rpid); do cat /proc/"$pid"/smaps_rollup 2>/dev/null; done |
	awk '/^Pss:/ { s += $2 } END { print s + 0 }')
kill $holder
holder=
wait $rpid
awk -v n="$CLONES" -v up="$up" -v us=$((t1 - t0)) -v pss="$pss" \
	-v drop=$((avail0 - avail1)) 'BEGIN {
	printf "  %d concurrent idle clones of a 1 MiB-touching guest: %d up in %.2f s (%.0f us each)\n", n, up, us / 1e6, us / n
	printf "    monitors, Pss total %6.1f MiB   per clone %5.0f KiB\n", pss / 1024, pss / n
	printf "    MemAvailable drop   %6.1f MiB   per clone %5.0f KiB (with KVM kernel memory)\n", drop / 1024, drop / n
	printf "    target: per-VM overhead well under Firecracker'"'"'s 5 MiB  %s\n", drop / n <= 5120 ? "ok" : "MISS"
}'
