#!/usr/bin/env bash
# Sockets between a guest and the host, and AF_UNIX confinement seen from
# the host:
# - a TCP echo server in the guest (tests/guest/net_inet.c serve PORT,
#   under --net=PORT) and tests/host/net_client outside making 1,000
#   checked round trips on 127.0.0.1;
# - AF_UNIX binds through symlinks in a rw volume that point outside it
#   (absolute and relative): nothing may appear outside the volume;
# - a socket file of the read-only root is the host's: connecting to it
#   needs --net.
set -u
. tests/lib.sh
why=$(kvm_missing)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
client=$O/tests/host/net_client
kinds=(gcc musl)
# tcp_echo_host and unix_escape for each kind, and root_socket.
plan $((2 * ${#kinds[@]} + 1))

for cc in "${kinds[@]}"; do
	t="net/tcp_echo_host.$cc"
	bin=$O/tests/guest/net_inet.$cc
	if [ -n "$why" ]; then skip "$t" "$why"; continue; fi
	if [ ! -x "$bin" ] || [ ! -x "$client" ]; then
		fail "$t" "not built ($bin, $client)"
		continue
	fi
	port=$("$client" freeport)
	run_mote "$tmp/out" "$tmp/err" run --net="$port" "$bin" serve "$port" &
	server=$!
	"$client" echo "$port" 1000 >"$tmp/cout" 2>&1
	cst=$?
	wait $server
	st=$?
	if [ "$cst" != 0 ]; then
		fail "$t" "client: $(tr '\n' ' ' <"$tmp/cout")"
	elif [ "$st" != 0 ] || ! grep -qx SUCCESS "$tmp/out"; then
		fail "$t" "server status $st: $(cat "$tmp/out" "$tmp/err" | tail -3 | tr '\n' ' ')"
	else
		pass "$t"
	fi
done

# The guest's net_unix escape run binds escape.sock under /vol/abs -> /tmp,
# /vol/up -> ../../../../../../../tmp and /vol/side -> ../tmp; resolved on
# the host they would reach /tmp or the directory next to the volume.
for cc in "${kinds[@]}"; do
	t="net/unix_escape.$cc"
	bin=$O/tests/guest/net_unix.$cc
	if [ -n "$why" ]; then skip "$t" "$why"; continue; fi
	if [ ! -x "$bin" ]; then fail "$t" "not built ($bin)"; continue; fi
	d=$(mktemp -d "$tmp/XXXX")
	mkdir -p "$d/vol" "$d/tmp"
	run_mote "$tmp/out" "$tmp/err" run --volume "$d/vol:/vol:rw" \
		--cwd /vol "$bin" escape
	st=$?
	leaked=$(find "$d" -path "$d/vol" -prune -o -type s -print)
	if [ "$st" != 0 ] || ! grep -qx SUCCESS "$tmp/out"; then
		fail "$t" "status $st: $(cat "$tmp/out" "$tmp/err" | tail -3 | tr '\n' ' ')"
	elif [ -n "$leaked" ]; then
		fail "$t" "a socket outside the volume: $leaked"
	elif [ -e /tmp/escape.sock ]; then
		fail "$t" "a socket in the host's /tmp"
	else
		pass "$t"
	fi
done

# A socket file with no listener in the --root: EACCES (and the hint)
# without --net, ECONNREFUSED from the host with it.
t=net/root_socket
bin=$O/tests/guest/net_unix.gcc
if [ -n "$why" ]; then
	skip "$t" "$why"
else
	d=$(mktemp -d "$tmp/XXXX")
	"$client" unixsock "$d/host.sock"
	run_mote "$tmp/out" "$tmp/err" run --root "$d" "$bin" connect \
		/host.sock 13
	st=$?
	run_mote "$tmp/out2" "$tmp/err2" run --net --root "$d" "$bin" connect \
		/host.sock 111
	st2=$?
	if [ "$st" != 0 ] || ! grep -q "run with --net" "$tmp/err"; then
		fail "$t" "without --net: status $st: $(cat "$tmp/out" "$tmp/err" | tail -3 | tr '\n' ' ')"
	elif [ "$st2" != 0 ]; then
		fail "$t" "with --net: status $st2: $(cat "$tmp/out2" "$tmp/err2" | tail -3 | tr '\n' ' ')"
	else
		pass "$t"
	fi
fi
