#!/usr/bin/env bash
# busybox sh (Debian's busybox-static) run under mote and natively: pipes,
# fork/exec of applets, background jobs, traps and signals, redirections,
# here-documents, xargs, find -exec, timeout. Each case's stdout plus its
# exit status must match the native run's byte for byte (stderr is shown
# when they differ, not compared: it holds messages like "Terminated" whose
# timing is not part of the contract).
# Both sides get the same environment (env -i, exactly what the guest gets
# by default) and start in the same scratch directory $w, mounted read-write
# at its own path and emptied before each side runs; a read-only fixture
# tree is mounted at its own path too, so paths in the output agree.
# SH_KEEP=1 keeps the scratch directory (outputs in its out/) for debugging.
set -u
. tests/lib.sh
BB=/bin/busybox
ENVV=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
      HOME=/ TERM=dumb)

CASES=(pipeline script exit-status background kill-job trap-signal
       read-pipe env exec xargs find-exec timeout ctrl-c)

why=$(kvm_missing)
[ -z "$why" ] && [ ! -x "$BB" ] && why="no $BB (install busybox-static)"
plan ${#CASES[@]}
if [ -n "$why" ]; then
	for c in "${CASES[@]}"; do skip "shell/$c" "$why"; done
	exit 0
fi

tmp=$(mktemp -d)
trap '[ -n "${SH_KEEP:-}" ] || rm -rf "$tmp"' EXIT
fix=$tmp/fix
w=$tmp/work
out=$tmp/out
mkdir -p "$fix/sub/deep" "$out"
printf 'alpha\n' >"$fix/a.txt"
printf 'beta\n' >"$fix/sub/b.txt"
printf 'gamma\ndelta\n' >"$fix/sub/deep/c.txt"
printf 'not matched\n' >"$fix/sub/d.dat"

# The script case: the constructs a shell script leans on, each printing
# something checkable. It runs from a file in the read-write scratch dir.
cat >"$tmp/script.sh" <<'XEOF'
set -u
greet() {
	echo "hello, $1"
	return 3
}
greet world
echo "status $?"
i=0
while [ $i -lt 3 ]; do
	i=$((i + 1))
	echo "while $i"
done
for v in alpha beta gamma; do
	printf '%s:' "$v"
done
echo
( cd /; echo "subshell in $(pwd)"; exit 4 )
echo "subshell status $?, still in $(basename "$(pwd)")"
n=$(echo one two three | wc -w)
echo "words $n"
out=$(greet nested; echo "inner $?")
echo "captured [$out]"
( sleep 0.5; echo background done; exit 5 ) &
bg=$!
echo "started"
wait $bg
echo "background status $?"
trap 'echo got USR1' USR1
kill -USR1 $$
echo "after USR1"
echo first >out.txt
echo second >>out.txt
cat out.txt
ls no-such-file >err.txt 2>&1
echo "ls status $?"
wc -l <err.txt
tr a-z A-Z <out.txt
x=expanded
cat <<EOF
here-doc $x
  indented \$x
EOF
cat <<'EOF'
quoted $x stays
EOF
cat <<-EOF
	tab-stripped $x
	EOF
printf '%s\n' c a b | sort | head -n 2
case "$x" in
exp*) echo "case matched" ;;
*) echo "case missed" ;;
esac
false | true
echo "pipeline status $?"
trap 'echo exit trap ran' EXIT
exit 6
XEOF

# sh_run TAG ARGS...: runs busybox with ARGS natively and under mote, each
# in a fresh empty $w, appending stdout plus an exit-status line to
# $out/TAG.{native,mote} and stderr to $out/TAG.{native,mote}.err.
sh_run() {
	local tag=$1 st
	shift
	rm -rf "$w" && mkdir -p "$w" && cp "$tmp/script.sh" "$w/"
	(cd "$w" && timeout -k 5 "${TEST_TIMEOUT:-60}" env -i "${ENVV[@]}" \
		"$BB" "$@" </dev/null >>"$out/$tag.native" \
		2>>"$out/$tag.native.err")
	st=$?
	printf '[exit %d]\n' "$st" >>"$out/$tag.native"
	rm -rf "$w" && mkdir -p "$w" && cp "$tmp/script.sh" "$w/"
	timeout -k 5 "${TEST_TIMEOUT:-60}" env -i "${ENVV[@]}" "$MOTE" run \
		--volume "$fix:$fix:ro" --volume "$w:$w:rw" --cwd "$w" \
		"$BB" "$@" </dev/null >>"$out/$tag.mote" 2>>"$out/$tag.mote.err"
	st=$?
	printf '[exit %d]\n' "$st" >>"$out/$tag.mote"
}

# tty_run TAG SCRIPT: runs `busybox sh -c SCRIPT` natively and under mote
# on a pseudo-terminal (util-linux script), typing Ctrl-C into it after 2
# s; records like sh_run (the terminal's output, with its echoed ^C and
# CRs).
tty_run() {
	local tag=$1 q side st
	q=$(printf '%q ' env -i "${ENVV[@]}")
	for side in native mote; do
		local pre=
		[ $side = mote ] && pre="$(printf '%q' "$MOTE") run "
		# The terminal's own echo of ^C is left out: whether it makes
		# it through depends on where the output stood when the
		# line discipline flushed it (seen to differ under load).
		(sleep 2; printf '\003'; sleep 1) |
			timeout -k 5 "${TEST_TIMEOUT:-60}" script -qfec \
			"$q$pre$BB sh -c $(printf '%q' "$2")" /dev/null |
			sed 's/\^C//g' >>"$out/$tag.$side" 2>>"$out/$tag.$side.err"
		st=${PIPESTATUS[1]}
		printf '[exit %d]\n' "$st" >>"$out/$tag.$side"
	done
}

# sh_c TAG SCRIPT: sh_run with `sh -c SCRIPT`.
sh_c() {
	sh_run "$1" sh -c "$2"
}

# sh_check NAME [WANT]: compares what sh_run collected under NAME; WANT,
# if given, is text the native output must contain (so that a case which
# goes wrong natively too cannot pass).
sh_check() {
	local n=$out/$1.native m=$out/$1.mote
	if [ -n "${2:-}" ] && ! grep -qF -- "$2" "$n"; then
		fail "shell/$1" "native run lacks '$2': $(tr '\n' ' ' <"$n")"
	elif ! cmp -s "$n" "$m"; then
		fail "shell/$1" "$(first_diff "$n" "$m") stderr: $(tail -n 2 \
			"$m.err" | tr '\n' ' ')"
	else
		pass "shell/$1"
	fi
}

# shellcheck disable=SC2016 # the scripts are for the guest's shell
{
sh_c pipeline 'echo hello | tr a-z A-Z | wc -c'
sh_c pipeline 'printf "b\na\nc\n" | sort | tr "\n" , ; echo'
sh_check pipeline "6"

sh_run script sh "$w/script.sh"
sh_check script "exit trap ran"

sh_c exit-status 'exit 3'
sh_c exit-status 'sh -c "exit 5"; echo "child $?"'
sh_c exit-status 'nosuchcommand 2>/dev/null; echo "missing $?"'
sh_c exit-status 'busybox false; echo "false $?"; busybox true; echo "true $?"'
sh_check exit-status "missing 127"

sh_c background '(sleep 1; echo slow) & (echo fast) & wait; echo all done'
sh_c background 'sleep 0.1 & p=$!; wait $p; echo "waited $?"'
sh_check background "all done"

sh_c kill-job 'sleep 10 & kill $!; wait $!; echo "killed $?"'
sh_c kill-job 'sleep 10 & kill -9 $!; wait $!; echo "killed $?"'
sh_check kill-job "killed 137"

sh_c trap-signal 'trap "echo got USR1" USR1; kill -USR1 $$; echo after'
sh_c trap-signal 'trap "echo got TERM; exit 9" TERM; kill $$; echo never'
sh_c trap-signal 'trap "echo bye" EXIT; echo hi'
sh_check trap-signal "got TERM"

sh_c read-pipe 'echo "a b c" | { read -r p q r; echo "$r $q $p"; }'
sh_c read-pipe 'seq 3 | while read -r n; do echo "line $n"; done'
sh_check read-pipe "line 3"

sh_c env 'env | sort'
sh_check env "SHLVL=1"

sh_c exec 'exec busybox echo replaced; echo never'
sh_c exec 'exec 3>out.log; echo to file >&3; exec 3>&-; cat out.log'
sh_check exec "replaced"

sh_c xargs 'seq 5 | xargs echo'
sh_c xargs 'seq 10 | xargs -n 3 echo'
sh_c xargs "printf '%s\n' $fix/a.txt $fix/sub/b.txt | xargs cat"
sh_check xargs "7 8 9"

sh_c find-exec "find $fix -name '*.txt' -exec cat {} \\;"
sh_c find-exec "find $fix -type f -exec wc -l {} +"
sh_check find-exec "gamma"

# busybox's timeout execs the command in its own process and has a
# forked watcher kill it with SIGTERM: the status is 143 (GNU timeout's
# would be 124).
sh_c timeout 'timeout 1 sleep 5; echo "timeout $?"'
sh_c timeout 'timeout 5 sleep 0.1; echo "in time $?"'
sh_check timeout "timeout 143"

# Ctrl-C on the terminal: SIGINT for the foreground process group, i.e.
# the guest shell and its foreground child; the shell's trap runs once the
# child has died of it.
if command -v script >/dev/null; then
	tty_run ctrl-c 'trap "echo got INT; exit 3" INT; echo ready;
		busybox sleep 5; echo not interrupted'
	sh_check ctrl-c "got INT"
else
	skip shell/ctrl-c "no script(1) (util-linux) for a terminal"
fi
}
