#!/bin/bash
# t40-install.sh BUILD_DIR -- `make install` and `make uninstall` into a
# DESTDIR: the three tools in $(PREFIX)/sbin, their links from $(HELPERDIR)
# (none when HELPERDIR is SBINDIR), the link $(PREFIX)/sbin/nvfs ->
# mount.nvfs that mount.fuse3 runs for the type fuse.nvfs, the man pages
# (mount.nvfs.8 among them) in $(MANDIR)/man8, an installed tool that runs,
# also as nvfs, and an uninstall that removes all of it.
# The install target builds into build/ of the source tree whatever BUILD_DIR
# is; the man pages are also rendered with groff when it is installed.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1
ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
TOOLS="mount.nvfs mkfs.nvfs fsck.nvfs"
PREFIX=/usr/local
SBIN=$PREFIX/sbin
MAN8=$PREFIX/share/man/man8
VERSION=$(cat "$ROOT/VERSION") || exit 1
# every page in docs/man, and at least these three
MANS=$( (cd "$ROOT/docs/man" 2>/dev/null && ls -- *.8 2>/dev/null
	echo mkfs.nvfs.8; echo fsck.nvfs.8; echo mount.nvfs.8) | sort -u)

# mk NAME TARGET VAR=VALUE... -- make -s TARGET in the source tree, isolated
# from the caller's make (MAKEFLAGS of `make check-it`) and from install
# variables in the environment
mk() {
	local name=$1 target=$2 rc
	shift 2
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DESTDIR -u PREFIX -u SBINDIR \
		-u HELPERDIR -u MANDIR make -s -C "$ROOT" "$target" "$@" >"$T/.all" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name"
	else
		fail "$name: make $target exited $rc:"
		sed 's/^/       | /' "$T/.all"
	fi
}
# shellcheck disable=SC2317  # run through assert / expect
is_link_to() { [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; }
# shellcheck disable=SC2317  # run through assert / expect
is_exe_file() { [ -f "$1" ] && [ ! -L "$1" ] && [ -x "$1" ]; }

for m in mkfs.nvfs.8 fsck.nvfs.8 mount.nvfs.8; do
	assert "docs/man/$m exists" test -f "$ROOT/docs/man/$m"
done

# ---- install with links from /sbin ------------------------------------------
D=$T/root
mk "make install" install DESTDIR="$D" PREFIX=$PREFIX
for t in $TOOLS; do
	assert "  ... $SBIN/$t is an executable file" is_exe_file "$D$SBIN/$t"
	assert "  ... /sbin/$t -> $SBIN/$t" is_link_to "$D/sbin/$t" "$SBIN/$t"
	assert "  ... $t is the one built" cmp -s "$D$SBIN/$t" "$ROOT/build/$t"
done
for m in $MANS; do
	assert "  ... $MAN8/$m, mode 0644" test "$(stat -c %a "$D$MAN8/$m" 2>/dev/null)" = 644
done
assert "  ... $SBIN/nvfs -> mount.nvfs (for mount.fuse3)" is_link_to "$D$SBIN/nvfs" mount.nvfs
assert "  ... nothing else in sbin" test "$(ls "$D$SBIN" | sort | tr '\n' ' ')" = "fsck.nvfs mkfs.nvfs mount.nvfs nvfs "
assert "  ... nothing else in /sbin" test "$(ls "$D/sbin" | sort | tr '\n' ' ')" = "fsck.nvfs mkfs.nvfs mount.nvfs "
assert "  ... nothing outside DESTDIR's usr/local and sbin" \
	test "$(cd "$D" && ls -A | sort | tr '\n' ' ')" = "sbin usr "

v=$(re_quote "$VERSION")
expect "installed mkfs.nvfs --version" 0 "^mkfs\.nvfs \(nvfs\) $v$" "$D$SBIN/mkfs.nvfs" --version
expect "installed fsck.nvfs -V" 0 "^fsck\.nvfs \(nvfs\) $v$" "$D$SBIN/fsck.nvfs" -V
expect "installed mount.nvfs --version" 0 "^mount\.nvfs \(nvfs\) $v$" "$D$SBIN/mount.nvfs" --version
expect "installed nvfs --version (the link)" 0 "^mount\.nvfs \(nvfs\) $v$" "$D$SBIN/nvfs" --version
expect "installed nvfs --help" 0 "^usage: mount\.nvfs SOURCE MOUNTPOINT" "$D$SBIN/nvfs" --help
expect "installed nvfs: a usage error is mount.nvfs's" 1 "^mount\.nvfs: .*missing SOURCE or MOUNTPOINT" "$D$SBIN/nvfs" "$T"
expect "installed mkfs.nvfs makes a namespace" 0 "created a new nvfs namespace .*, journal 8 MiB$" \
	"$D$SBIN/mkfs.nvfs" -s 32M "$T/p"
expect "  ... installed fsck.nvfs finds it clean" 0 "clean, .*, journal 8 MiB, 0 entries to replay$" "$D$SBIN/fsck.nvfs" "$T/p"
expect "installed mkfs.nvfs -J 0, at the minimum size" 0 "created a new nvfs namespace of 17825792 bytes.*, no journal$" \
	"$D$SBIN/mkfs.nvfs" -s 17M -J 0 "$T/p0"
expect "  ... installed fsck.nvfs finds it clean" 0 "clean, .*, no journal$" "$D$SBIN/fsck.nvfs" "$T/p0"
expect "installed fsck.nvfs --version" 0 "^fsck\.nvfs \(nvfs\) $v$" "$D$SBIN/fsck.nvfs" --version

# mount.nvfs.8 documents what --help lists: every option, and the fstab and
# fuse.nvfs forms
mp=$D$MAN8/mount.nvfs.8
for o in pmem= pmem_size= allow_other default_permissions no_default_permissions \
	ro fsname= subtype= auto_unmount timeout= threads= keep_cache writeback_cache \
	debug _netdev noauto nofail x\\- '\-f' '\-n' '\-s' '\-v' '\-\-help' \
	'\-\-version' fuse.nvfs XDG_STATE_HOME /var/lib/nvfs durability= checkpoint_secs= shared_locks \
	user.nvfs.stats 'nvfs\-recovered' \
	'/srv/data /mnt/data nvfs pmem=/var/lib/nvfs/data.pmem,allow_other 0 0'; do
	assert "  ... mount.nvfs.8 mentions $o" grep -qF -- "$o" "$mp"
done

# the man pages render without warnings (when groff is there)
if command -v groff >/dev/null 2>&1; then
	for m in $MANS; do
		groff -man -Tutf8 -ww "$D$MAN8/$m" >"$T/.out" 2>"$T/.err"
		rc=$?
		if [ $rc -eq 0 ] && [ ! -s "$T/.err" ] && sed -e 's/.\x08//g' -e 's/\x1b\[[0-9;]*m//g' "$T/.out" | grep -q '^NAME$'; then
			ok "groff -ww $m: renders without warnings"
		else
			fail "groff -ww $m: exit $rc, warnings or no NAME section:"
			sed 's/^/       | /' "$T/.err"
		fi
	done
else
	echo "skip the man page rendering: groff is not installed"
fi

# reinstalling over an installation works (the links are replaced)
mk "make install again" install DESTDIR="$D" PREFIX=$PREFIX
for t in $TOOLS; do
	assert "  ... /sbin/$t -> $SBIN/$t" is_link_to "$D/sbin/$t" "$SBIN/$t"
done

# ---- uninstall --------------------------------------------------------------
mk "make uninstall" uninstall DESTDIR="$D" PREFIX=$PREFIX
for t in $TOOLS; do
	assert "  ... $SBIN/$t removed" test ! -e "$D$SBIN/$t" -a ! -L "$D$SBIN/$t"
	assert "  ... /sbin/$t removed" test ! -e "$D/sbin/$t" -a ! -L "$D/sbin/$t"
done
assert "  ... $SBIN/nvfs removed" test ! -e "$D$SBIN/nvfs" -a ! -L "$D$SBIN/nvfs"
for m in $MANS; do
	assert "  ... $MAN8/$m removed" test ! -e "$D$MAN8/$m"
done
assert "  ... no file left" test -z "$(find "$D" ! -type d)"
mk "make uninstall when nothing is installed" uninstall DESTDIR="$D" PREFIX=$PREFIX

# uninstall removes only links from HELPERDIR, not a file of that name
mk "install for a foreign /sbin file" install DESTDIR="$D" PREFIX=$PREFIX
rm -f "$D/sbin/fsck.nvfs"
echo foreign >"$D/sbin/fsck.nvfs"
mk "  ... uninstall" uninstall DESTDIR="$D" PREFIX=$PREFIX
assert "  ... a regular /sbin/fsck.nvfs is left alone" test "$(cat "$D/sbin/fsck.nvfs")" = foreign
assert "  ... the links are removed" test ! -L "$D/sbin/mkfs.nvfs" -a ! -L "$D/sbin/mount.nvfs"

# ---- HELPERDIR equal to SBINDIR: no links -----------------------------------
for h in "$SBIN" "$SBIN/" "$PREFIX/./sbin"; do
	D=$T/same-$(printf '%s' "$h" | tr -c 'a-z' _)
	mk "make install HELPERDIR=$h" install DESTDIR="$D" PREFIX=$PREFIX HELPERDIR="$h"
	assert "  ... no link reported" test -z "$(grep 'link' "$T/.all")"
	for t in $TOOLS; do
		assert "  ... $SBIN/$t is an executable file, not a link" is_exe_file "$D$SBIN/$t"
	done
	assert "  ... $SBIN/nvfs -> mount.nvfs" is_link_to "$D$SBIN/nvfs" mount.nvfs
	assert "  ... no other links anywhere" test -z "$(find "$D" -type l ! -path "$D$SBIN/nvfs")"
	assert "  ... no /sbin" test ! -e "$D/sbin"
	expect "  ... mkfs.nvfs runs" 0 "^mkfs\.nvfs \(nvfs\) $v$" "$D$SBIN/mkfs.nvfs" --version
	mk "  ... make uninstall HELPERDIR=$h" uninstall DESTDIR="$D" PREFIX=$PREFIX HELPERDIR="$h"
	assert "  ... no file left" test -z "$(find "$D" ! -type d)"
done

finish
