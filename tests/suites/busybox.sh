#!/usr/bin/env bash
# Debian's busybox-static (/bin/busybox, a static glibc program) run under
# mote and natively on the same input: stdout, exit status and stderr must
# match byte for byte. The fixture tree is visible in the guest at its own
# host path (--volume DIR:DIR) and both runs start in it, so paths in the
# output are the same. Its times are fixed and its atimes primed (relatime
# then leaves them alone), so ls -la, stat, find and du are deterministic.
# BB_KEEP=1 keeps the scratch directory (outputs in its out/) for debugging.
set -u
. tests/lib.sh
BB=/bin/busybox
FIXED_TIME='2023-11-14 22:13:20 UTC'
# The same environment for both sides: exactly what the guest gets by default.
ENVV=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
      HOME=/ TERM=dumb)

APPLETS=(echo cat ls-la wc sort uniq head tail grep sed awk tr od cut
	 sha256sum md5sum gzip gunzip find du date seq expr basename stat
	 wc-files grep-r sha256sum-files)

why=$(kvm_missing)
[ -z "$why" ] && [ ! -x "$BB" ] && why="no $BB (install busybox-static)"
plan ${#APPLETS[@]}
if [ -n "$why" ]; then
	for a in "${APPLETS[@]}"; do skip "busybox/$a" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
trap '[ -n "${BB_KEEP:-}" ] || rm -rf "$tmp"' EXIT
fix=$tmp/fix
out=$tmp/out
mkdir -p "$fix/sub/deep" "$out"

# ---- the fixture ----
cat >"$fix/a.txt" <<'EOF'
the quick brown fox
the quick brown fox
jumps over the lazy dog
Fox and hound
Fox and hound
Fox and hound
zebra crossing
apple pie
EOF
cat >"$fix/b.csv" <<'EOF'
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
EOF
printf 'a fox in a subdirectory\nsecond line\n' >"$fix/sub/c.txt"
printf 'deep down\n' >"$fix/sub/deep/d.txt"
printf 'only ever stat-ed\n' >"$fix/stat-me"
: >"$fix/empty"
# shellcheck disable=SC2059 # the byte is the format
for i in $(seq 0 255); do printf "\\$(printf %03o "$i")"; done >"$fix/bin.dat"
# ~40 KiB: several read() calls and gzip blocks.
for i in $(seq 1 2000); do echo "line $i: $((i * 7919 % 1000)) fox"; done \
	>"$fix/big.txt"
"$BB" gzip -c <"$fix/big.txt" >"$fix/big.txt.gz"
printf '#!/bin/sh\necho hi\n' >"$fix/run.sh"
ln -s a.txt "$fix/link"
chmod 755 "$fix/run.sh" "$fix/sub"
chmod 600 "$fix/b.csv"
chmod 444 "$fix/stat-me"
chmod 700 "$fix/sub/deep"
find "$fix" "$tmp" -exec touch -h -d "$FIXED_TIME" {} +
# Read every file and directory once so that relatime has updated each
# atime already and will not do it between the native and the guest run.
find "$fix" -type f -exec cat {} + >/dev/null
ls -laR "$fix" >/dev/null
find "$fix" -type l -exec readlink {} + >/dev/null

# ---- running both sides ----

# bb_run TAG STDIN ARGS...: runs busybox with ARGS natively and under mote,
# stdin from STDIN, appending stdout plus an exit-status line to
# $out/TAG.{native,mote} and stderr to $out/TAG.{native,mote}.err.
bb_run() {
	local tag=$1 in=$2 st
	shift 2
	(cd "$fix" && timeout -k 5 "${TEST_TIMEOUT:-60}" env -i "${ENVV[@]}" \
		"$BB" "$@" <"$in" >>"$out/$tag.native" 2>>"$out/$tag.native.err")
	st=$?
	printf '\n[exit %d]\n' "$st" >>"$out/$tag.native"
	timeout -k 5 "${TEST_TIMEOUT:-60}" env -i "${ENVV[@]}" "$MOTE" run \
		--volume "$fix:$fix:ro" --cwd "$fix" "$BB" "$@" <"$in" \
		>>"$out/$tag.mote" 2>>"$out/$tag.mote.err"
	st=$?
	printf '\n[exit %d]\n' "$st" >>"$out/$tag.mote"
}

# bb_check NAME [WHY]: compares what bb_run collected under tag NAME; a
# non-empty WHY is a failure found by an extra check.
bb_check() {
	local n=$out/$1.native m=$out/$1.mote d
	if ! cmp -s "$n" "$m"; then
		d=$(first_diff "$n" "$m")
		fail "busybox/$1" "stdout differs, ${d:-$(cmp "$n" "$m" 2>&1)}"
	elif ! cmp -s "$n.err" "$m.err"; then
		d=$(first_diff "$n.err" "$m.err")
		fail "busybox/$1" "stderr differs, ${d:-$(cmp "$n.err" "$m.err" 2>&1)}"
	elif [ -n "${2:-}" ]; then
		fail "busybox/$1" "$2"
	else
		pass "busybox/$1"
	fi
}

N=/dev/null
# ---- applets that need no files (stdin only) ----
bb_run echo $N echo -e 'tab\there\\c' "two  words" '\x41\0102'
bb_run echo $N echo -n no-newline
bb_check echo
bb_run seq $N seq 1 3 20
bb_run seq $N seq -s , -w 8 12
bb_check seq
bb_run expr $N expr 6 '*' 7 + 1
bb_run expr $N expr length "hello world"
bb_run expr $N expr 0 + 0
bb_check expr
bb_run basename $N basename /usr/lib/libfoo.so.1 .1
bb_check basename
bb_run date $N date -u -d @1700000000 '+%F %T %a %b %j %s'
bb_run date $N date +%Y
bb_check date
bb_run wc "$fix/big.txt" wc
bb_check wc
bb_run sort "$fix/b.csv" sort -t : -k 3,3n -k 1,1
bb_run sort "$fix/a.txt" sort -r
bb_check sort
bb_run uniq "$fix/a.txt" uniq -c
bb_check uniq
bb_run head "$fix/big.txt" head -n 5
bb_run head "$fix/big.txt" head -c 100
bb_check head
bb_run tail "$fix/big.txt" tail -n 5
bb_run tail "$fix/big.txt" tail -c 100
bb_check tail
bb_run grep "$fix/a.txt" grep -n -i fox
bb_run grep "$fix/a.txt" grep -c nomatch
bb_check grep
bb_run sed "$fix/a.txt" sed -n 's/^\([a-z]*\) \([a-z]*\)/\2 \1/p'
bb_check sed
# shellcheck disable=SC2016 # an awk program
bb_run awk "$fix/b.csv" awk -F: \
	'{ s += $3; printf "%-8s %6d %s\n", $1, $3 * 2, toupper($7) }
	 END { print "sum", s, s / NR }'
bb_check awk
bb_run tr "$fix/a.txt" tr a-z A-Z
bb_run tr "$fix/a.txt" tr -d aeiou
bb_check tr
bb_run od "$fix/bin.dat" od -A x -t x1 -c -v
bb_check od
bb_run cut "$fix/b.csv" cut -d : -f 1,3,6
bb_check cut
bb_run sha256sum "$fix/big.txt" sha256sum
bb_check sha256sum
bb_run md5sum "$fix/bin.dat" md5sum
bb_check md5sum
bb_run gzip "$fix/big.txt" gzip -c
bb_run gzip "$fix/bin.dat" gzip -9 -c
bb_check gzip
bb_run gunzip "$fix/big.txt.gz" gunzip -c
# The output must also be the original file (then the exit-status line).
printf '\n[exit 0]\n' | cat "$fix/big.txt" - >"$out/gunzip.want"
why=
cmp -s "$out/gunzip.mote" "$out/gunzip.want" ||
	why="guest output is not the original big.txt"
bb_check gunzip "$why"

# ---- applets that open files and directories ----
bb_run cat $N cat a.txt sub/c.txt empty bin.dat "$fix/sub/deep/d.txt"
bb_run cat $N cat no-such-file
bb_check cat
bb_run ls-la $N ls -la "$fix" "$fix/sub"
bb_check ls-la
bb_run find $N find "$fix"
bb_run find $N find "$fix" -type f -name '*.txt'
bb_check find
bb_run du $N du -a "$fix"
bb_check du
bb_run stat $N stat "$fix/stat-me" "$fix/link" "$fix/sub"
bb_run stat $N stat -c '%n %s %a %A %U %G %h %F %Y' "$fix/run.sh" "$fix/empty"
bb_check stat
bb_run wc-files $N wc a.txt b.csv sub/c.txt
bb_check wc-files
bb_run grep-r $N grep -rn fox "$fix/sub" a.txt
bb_check grep-r
bb_run sha256sum-files $N sha256sum "$fix/a.txt" "$fix/bin.dat" link
bb_check sha256sum-files
