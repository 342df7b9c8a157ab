#!/usr/bin/env bash
# make bench, part two: real Debian programs, natively and under mote in the
# same run; medians of BENCH_REAL_RUNS runs (default 20).
#   python3 -c pass              start to exit       target <= 1.5x native
#   sqlite3, 10,000 INSERTs in   start to exit, the  target <= 2x native
#   one transaction, file on an  database file on a
#   rw volume                    scratch directory
# Usage: bench/real.sh [BUILD_DIR]
set -u
O=${1:-build}
MOTE=$O/mote
N=${BENCH_REAL_RUNS:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ENVV=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/ TERM=dumb)

# median_ms CMD...: the median wall time of N runs of CMD, in ms (three
# decimals); a failed run aborts with its stderr.
median_ms() {
	local i t0 t1 times=()
	for ((i = 0; i < N; i++)); do
		rm -f "$tmp/vol/t.db"
		t0=$(date +%s%N)
		if ! env -i "${ENVV[@]}" "$@" >/dev/null 2>"$tmp/err" \
			</dev/null; then
			echo "bench: $* failed: $(head -c 300 "$tmp/err")" >&2
			exit 1
		fi
		t1=$(date +%s%N)
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] / 1e6 }'
}

# row NAME NATIVE_MS MOTE_MS TARGET
row() {
	awk -v n="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
		r = b / a
		printf "  %-30s native %8.1f ms  mote %8.1f ms  %5.2fx  target <= %.1fx  %s\n",
			n, a, b, r, t, r <= t ? "ok" : "MISSED"
	}'
}

echo "real programs (Debian's, dynamically linked): median of $N runs"
for p in /usr/bin/python3 /usr/bin/sqlite3; do
	if [ ! -x $p ]; then
		echo "  SKIP: $p is not installed (apt-get install $(basename $p))"
		exit 0
	fi
done
mkdir -p "$tmp/vol"
{
	echo "create table t (a integer primary key, b text);"
	echo "begin;"
	for ((i = 1; i <= 10000; i++)); do
		echo "insert into t values ($i, 'row $i');"
	done
	echo "commit;"
} >"$tmp/vol/ins.sql"

n=$(median_ms /usr/bin/python3 -c pass)
m=$(median_ms "$MOTE" run /usr/bin/python3 -c pass)
row "python3 -c pass" "$n" "$m" 1.5
sql=(/usr/bin/sqlite3 "$tmp/vol/t.db" ".read $tmp/vol/ins.sql")
n=$(median_ms "${sql[@]}")
m=$(median_ms "$MOTE" run --volume "$tmp/vol:$tmp/vol:rw" "${sql[@]}")
row "sqlite3 10,000 inserts" "$n" "$m" 2.0
