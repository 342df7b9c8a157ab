#!/bin/sh
# Installs (as root) or names (otherwise) the Debian packages that mote's
# build, tests and demo need. Silent when everything is there.
set -e
need=""
for pkg in gcc make binutils musl-tools busybox-static python3 sqlite3 \
	clang libclang-rt-14-dev libseccomp-dev pkg-config libcjson-dev; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "mote: installing Debian packages:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || true
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >/dev/null
else
	echo "mote: missing Debian packages; run: sudo apt-get install -y$need" >&2
	exit 1
fi
