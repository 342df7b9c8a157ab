#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages mote's build,
# tests and demo need. Quiet when everything is there.
set -e
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have gcc || need="$need gcc"
have make || need="$need make"
have objcopy || need="$need binutils"
have musl-gcc || need="$need musl-tools"
[ -x /bin/busybox ] && /bin/busybox --help 2>&1 | head -1 | grep -q . && \
	file_static=$(od -An -c -N 18 /bin/busybox | tr -d ' \n') || true
dpkg -s busybox-static >/dev/null 2>&1 || need="$need busybox-static"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "mote: installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || true
	apt-get install -y -qq $need >/dev/null
else
	echo "mote: missing packages; run: sudo apt-get install -y$need" >&2
	exit 1
fi
