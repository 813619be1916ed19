#!/bin/sh
# deps.sh check|install -- the Debian packages nvfs builds and tests with.
# `check` says what is missing and how to get it; `install` installs what is
# missing when run as root (apt-get), and otherwise prints the command.
# clang and libclang-rt-14-dev are for the libFuzzer targets (make fuzz,
# and make check, which runs them over their corpora).
set -eu
PKGS="build-essential pkg-config libfuse3-dev fuse3 libpmem2-dev libxxhash-dev libcunit1-dev attr fio libsqlite3-dev clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

case "${1:-check}" in
install)
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps: installing:$missing"
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
		exit 0
	fi
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root: sudo apt-get install -y$missing   (or: sudo make deps)" >&2
	exit 1 ;;
*)
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'make deps' as root (it runs: apt-get install -y$missing)" >&2
	exit 1 ;;
esac
