#!/usr/bin/env bash
# The compatibility report: each case of tests/compat/programs runs natively
# and under mote with the same environment, cwd and files; stdout and the
# exit status must match byte for byte.
#   bash tests/compat/run.sh [BUILD_DIR]           its plan, PASS/FAIL/SKIP lines
#   bash tests/compat/run.sh [BUILD_DIR] --table   a Markdown table
# COMPAT_KEEP=1 keeps the scratch directory for debugging.
set -u
export O=${1:-build}
table=${2:-}
. tests/lib.sh
src=$(pwd)
ENVV=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin
	HOME=/ TERM=dumb)
tmp=$(mktemp -d)
trap '[ -n "${COMPAT_KEEP:-}" ] || rm -rf "$tmp"' EXIT
why=$(kvm_missing)

# fill CMD VOL: the command with @SRC@ and @VOL@ filled in.
fill() {
	local c=${1//@SRC@/$src}
	echo "${c//@VOL@/$2}"
}

# argv_of CMD: sets argv to the command's words or its sh -c script.
argv_of() {
	if [[ $1 == sh:* ]]; then
		argv=(/bin/sh -c "${1#sh:}")
	else
		read -ra argv <<<"$1"
	fi
}

# fresh_vol DIR: a scratch volume with the SQL the sqlite3 case reads.
fresh_vol() {
	mkdir -p "$1"
	{
		echo "create table t (a integer primary key, b text);"
		echo "begin;"
		for ((i = 1; i <= 10000; i++)); do
			echo "insert into t values ($i, 'row $i');"
		done
		echo "commit;"
	} >"$1/ins.sql"
}

# side native|mote NAME CMD AFTER: runs one side into $tmp/NAME.SIDE;
# sets ms to its wall time in milliseconds.
side() {
	local s=$1 name=$2 vol=$tmp/vol-$2-$1 out=$tmp/$2.$1 t0
	fresh_vol "$vol"
	argv_of "$(fill "$3" "$vol")"
	t0=$(date +%s%N)
	if [ "$s" = native ]; then
		(cd / && env -i "${ENVV[@]}" timeout -k 5 60 "${argv[@]}") \
			>"$out" 2>"$out.err" </dev/null
	else
		env -i "${ENVV[@]}" timeout -k 5 60 "$MOTE" run \
			--volume "$vol:$vol:rw" "${argv[@]}" >"$out" \
			2>"$out.err" </dev/null
	fi
	echo "[exit $?]" >>"$out"
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ -n "$4" ]; then
		(cd / && /bin/sh -c "$(fill "$4" "$vol")") >>"$out" 2>&1
	fi
}

declare -A after=()
names=() cmds=()
while read -r name cmd; do
	[ -z "$name" ] || [[ $name == \#* ]] && continue
	if [[ $name == *.after ]]; then
		after[${name%.after}]=$cmd
	else
		names+=("$name")
		cmds+=("$cmd")
	fi
done <tests/compat/programs

if [ -n "$table" ]; then
	printf '| program | result | native ms | mote ms | first difference |\n|---|---|---|---|---|\n'
else
	plan ${#names[@]}
fi
for i in "${!names[@]}"; do
	name=${names[$i]} cmd=${cmds[$i]} prog=
	argv_of "$cmd"
	prog=${argv[0]}
	# A script's program is its first word when that is a path.
	if [[ $cmd == sh:* ]]; then
		prog=$(echo "${cmd#sh:}" | cut -d' ' -f1)
		[[ $prog == /* ]] || prog=/bin/sh
	fi
	res= detail= nms= mms=
	if [ -n "$why" ]; then
		res=SKIP detail=$why
	elif [ ! -x "$prog" ]; then
		res=SKIP detail="$prog is not installed"
	else
		side native "$name" "$cmd" "${after[$name]:-}"
		nms=$ms
		side mote "$name" "$cmd" "${after[$name]:-}"
		mms=$ms
		if cmp -s "$tmp/$name.native" "$tmp/$name.mote"; then
			res=PASS
		else
			res=FAIL
			detail="$(first_diff "$tmp/$name.native" \
				"$tmp/$name.mote") $(head -c 200 \
				"$tmp/$name.mote.err" | tr '\n' ' ')"
		fi
	fi
	if [ -n "$table" ]; then
		r=same
		[ $res = FAIL ] && r=DIFFERS
		[ $res = SKIP ] && r=skipped
		printf '| %s | %s | %s | %s | %s |\n' "$name" "$r" "$nms" \
			"$mms" "$(echo "$detail" | tr '|' '/')"
	else
		case $res in
		PASS) pass "compat/$name" ;;
		FAIL) fail "compat/$name" "$detail" ;;
		SKIP) skip "compat/$name" "$detail" ;;
		esac
	fi
done
