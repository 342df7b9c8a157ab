#!/usr/bin/env bash
# Runs one command inside the test VM: QEMU in software emulation (TCG,
# -cpu max: SVM with nested paging) booting Debian's stock kernel, which
# loads kvm-amd and so gives the command a /dev/kvm with hardware
# semantics. The host's root is shared read-only and the current dir (plus
# every --rw DIR) writable at the same paths, so the command runs the
# checkout's own binaries. Its output streams to stdout line by line; its
# exit status is this script's (125 when the VM could not run it).
#
# Usage: tests/vm/run.sh [--npt=0|1] [--rw DIR]... [--image DIR] -- CMD [ARGS...]
#        tests/vm/run.sh --check   (says why the VM cannot run here, if it cannot)
#   --npt=0     load kvm-amd with npt=0 (shadow paging) instead of nested paging
#   --rw DIR    share DIR writable too (default: the current dir alone)
#   --image DIR where the kernel and initramfs are built and cached
#               (default: $O/vm, O defaulting to build)
# Environment: VM_MEM (MiB, default 4096), VM_TIMEOUT (seconds, default
# 5400), VM_CPUS (default 1: -smp 2 stalls on 2-core hosts under TCG).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
npt=1
image=${O:-build}/vm
rw=("$PWD")
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=1 ;;
	--npt=0 | --npt=1) npt=${1#--npt=} ;;
	--rw) rw+=("$(cd "$2" && pwd)") || exit 125; shift ;;
	--image) image=$2; shift ;;
	--) shift; break ;;
	*) echo "test VM: unknown option $1 (see tests/vm/run.sh's header)" >&2; exit 125 ;;
	esac
	shift
done
[ -n "${check:-}" ] || [ $# -gt 0 ] || { echo "usage: tests/vm/run.sh [--npt=0|1] [--rw DIR]... -- CMD [ARGS...]" >&2; exit 125; }

# Why the test VM cannot run here, or nothing.
vm_missing() {
	if [ "$(id -u)" != 0 ]; then
		echo "the test VM needs root: QEMU's 9p export of / must read every host file as its owner (run as root, or on a machine with /dev/kvm)"
	elif ! command -v qemu-system-x86_64 >/dev/null; then
		echo "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
	fi
}
why=$(vm_missing)
[ -z "$why" ] || { echo "test VM: $why" >&2; exit 125; }
[ -n "${check:-}" ] && exit 0
"$here/image.sh" "$image" || exit 125
image=$(cd "$image" && pwd)

for d in "${rw[@]}"; do
	case $d in *[[:space:],]*)
		echo "test VM: cannot share '$d': its path has a space or a comma (move the checkout)" >&2
		exit 125 ;;
	esac
done
mkdir -p "$image/runs"
run=$(mktemp -d "$image/runs/XXXXXX")
rw+=("$run")
qpid=
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The command's environment is ours, but for what names a host-only thing:
# make's jobserver fds, the desktop session's dirs and sockets.
export -p | grep -vE '^declare -x (MAKEFLAGS|MFLAGS|MAKELEVEL|MAKE_TERM[A-Z]*|XDG_[A-Z_]*|SSH_[A-Z_]*|DBUS_[A-Z_]*|DISPLAY|WAYLAND_DISPLAY)=' >"$run/env"
{
	printf 'cd %q || exit 125\nexec' "$PWD"
	printf ' %q' "$@"
	printf '\n'
} >"$run/cmd"

shares=()
i=0
for d in "${rw[@]}"; do
	shares+=(-virtfs "local,path=$d,mount_tag=rw$i,security_model=none,multidevs=remap")
	i=$((i + 1))
done
rwlist=$(IFS=,; echo "${rw[*]}")

# Everything before init's "test VM: up" line is firmware and kernel noise.
# Read line by line (mawk would buffer a pipe's input): a VM killed on its
# timeout loses nothing it printed.
console() {
	local up= line
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [ -z "$up" ]; then
			case $line in
			"test VM: up"*) up=1 ;;
			"test VM: "*) ;;
			*) continue ;;
			esac
		fi
		case $line in *"] reboot: Power down") continue ;; esac
		printf '%s\n' "$line"
	done
}
timeout -k 10 "${VM_TIMEOUT:-5400}" qemu-system-x86_64 \
	-accel tcg,thread=multi -cpu max -smp "${VM_CPUS:-1}" -m "${VM_MEM:-4096}" \
	-nodefaults -display none -no-reboot -serial stdio \
	-kernel "$image/vmlinuz" -initrd "$image/initrd.gz" \
	-append "console=ttyS0 quiet loglevel=4 panic=-1 mote.run=$run mote.rw=$rwlist mote.npt=$npt" \
	-virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap" \
	"${shares[@]}" </dev/null > >(console) 2>&1 &
qpid=$!
wait "$qpid"
qpid=
wait
if [ ! -s "$run/status" ]; then
	echo "test VM: the VM stopped before the command finished (its console is above)" >&2
	exit 125
fi
exit "$(cat "$run/status")"
