#!/usr/bin/env bash
# The OCI runtime's figures (docs/oci.md), A/B in one run: the time of
# `podman run --rm IMG true` with mote-oci against runc (medians of N,
# alternating), and the Pss of an idle container's monitors.
# Usage: bench/oci.sh [BUILD_DIR] [N]
set -eu
O=${1:-build}
N=${2:-10}
OCI=$(cd "$O" && pwd)/mote-oci
command -v podman >/dev/null || { echo "oci bench: no podman (apt-get install podman conmon runc)"; exit 0; }
tmp=$(mktemp -d)
P="podman --root $tmp/root --runroot $tmp/run --storage-driver vfs"
trap '$P rm -af -t 0 >/dev/null 2>&1; rm -rf "$tmp"' EXIT
cat >"$tmp/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/events.log"
runtime_supports_json = ["mote"]
[engine.runtimes]
mote = ["$OCI"]
[network]
network_config_dir = "$tmp/networks"
CONF
mkdir -p "$tmp/networks" "$tmp/rootfs/bin"
export CONTAINERS_CONF=$tmp/containers.conf
cp /bin/busybox "$tmp/rootfs/bin/"
for a in sh true sleep; do ln -s /bin/busybox "$tmp/rootfs/bin/$a"; done
tar -C "$tmp/rootfs" -cf "$tmp/bb.tar" .
$P import "$tmp/bb.tar" localhost/bb:bench >/dev/null
ms() { local t0 t1; t0=$(date +%s%N); $P run --rm --network none --runtime "$1" localhost/bb:bench true; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$tmp/mote.ms"; : >"$tmp/runc.ms"
for _ in $(seq "$N"); do
	ms mote >>"$tmp/mote.ms"
	ms runc >>"$tmp/runc.ms"
done
m=$(median <"$tmp/mote.ms"); r=$(median <"$tmp/runc.ms")
echo "podman run --rm IMG true: mote $m ms, runc $r ms (median of $N): ratio $(awk -v m="$m" -v r="$r" 'BEGIN {printf "%.2f", m / r}')x (target <= 1.5x)"
$P run -d --network none --runtime mote --name idle localhost/bb:bench sleep 1000 >/dev/null
sleep 1
id=$($P inspect -f '{{.Id}}' idle)
# pss PID...: "TOTAL GUEST" KiB, GUEST being the guest's busybox (its
# file pages, shared through the page cache by every VM that maps the same
# file), the rest the monitor's own.
pss() {
	local pid
	for pid in "$@"; do cat "/proc/$pid/smaps" 2>/dev/null; done |
		awk '/^[0-9a-f]+-[0-9a-f]+ / { g = $NF ~ /busybox$/ }
		     /^Pss:/ { t += $2; if (g) b += $2 }
		     END { print t + 0, b + 0 }'
}
# The same sleep as a plain mote run, for scale, measured alongside (the
# two share mote's own file pages, as every monitor on a host does).
"$O/mote" run "$tmp/rootfs/bin/busybox" sleep 1000 </dev/null >/dev/null 2>&1 &
mp=$!
sleep 1
read -r pss guest < <(pss $("$OCI" --root /run/mote-oci ps --format json "$id" | tr '[],' '   '))
echo "idle container (sleep): monitor Pss $pss KiB (target <= 2048 KiB), of which the guest's busybox $guest KiB, the monitor's own $((pss - guest)) KiB"
read -r pss guest < <(pss $mp $(pgrep -P $mp))
kill $mp
echo "mote run busybox sleep, for scale: Pss $pss KiB, of which the guest's busybox $guest KiB, the monitor's own $((pss - guest)) KiB"
