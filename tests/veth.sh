# shellcheck shell=bash
# shellcheck disable=SC2034 # IN_A, IN_B and DST are the caller's
# Sourced: two "hosts" on this machine for migration's tests and bench:
# network namespaces A and B joined by a veth pair.
#   veth_up NAME   makes NAME-a and NAME-b; sets IN_A and IN_B (commands
#                  that run what follows them in A or B) and DST (B's
#                  address, 10.77.N.2). Without root, iproute2 or network
#                  namespaces: IN_A and IN_B empty, DST 127.0.0.1, status 1.
#   veth_down NAME removes them (safe to call if veth_up failed).
veth_up() {
	IN_A='' IN_B='' DST=127.0.0.1
	[ "$(id -u)" = 0 ] && command -v ip >/dev/null || return 1
	ip netns add "$1-a" 2>/dev/null || return 1
	ip netns add "$1-b" 2>/dev/null || { ip netns del "$1-a"; return 1; }
	local net=$(($$ % 250 + 1)) a="$1-a" b="$1-b"
	if ip link add "${1}x" netns "$a" type veth peer name "${1}y" netns "$b" &&
		ip -n "$a" addr add "10.77.$net.1/24" dev "${1}x" &&
		ip -n "$b" addr add "10.77.$net.2/24" dev "${1}y" &&
		ip -n "$a" link set "${1}x" up && ip -n "$b" link set "${1}y" up &&
		ip -n "$a" link set lo up && ip -n "$b" link set lo up; then
		IN_A="ip netns exec $a" IN_B="ip netns exec $b" DST=10.77.$net.2
		return 0
	fi
	veth_down "$1"
	return 1
}
veth_down() {
	ip netns del "$1-a" 2>/dev/null
	ip netns del "$1-b" 2>/dev/null
	return 0
}
