#!/bin/bash
# t60-mount-types.sh BUILD_DIR -- the two ways mount(8) starts nvfs, without
# installing anything into the system:
#  (a) type nvfs: mount(8) runs /sbin/mount.nvfs.  Tested with `mount -t
#      nvfs` only if /sbin/mount.nvfs is already there (installed), else
#      skipped, saying so.
#  (b) type fuse.nvfs: mount(8) runs /sbin/mount.fuse3 (Debian's fuse3),
#      which runs `nvfs SOURCE MOUNTPOINT -o OPTIONS` from PATH.  Here PATH
#      starts with a scratch directory holding an `nvfs` symlink to
#      BUILD_DIR/mount.nvfs, and mount.fuse3 is run as libmount runs it
#      (`mount.fuse3 SOURCE MOUNTPOINT -o OPTIONS -t fuse.nvfs`) and in its
#      own `nvfs#SOURCE` form; each mount must appear (mountpoint -q, type
#      fuse.nvfs), a file written through it must appear in SOURCE, and
#      fusermount3 -u must end the daemon.  Skipped if mount.fuse3 is
#      missing.
# Also: mount.nvfs, called as nvfs, accepts mount.fuse3's argument order
# (operands first, then -o with the dev,suid it adds), and its errors keep
# the "mount.nvfs: " prefix.
# Needs root, /dev/fuse and fusermount3 (else skipped).  Every mount this
# test makes is unmounted by its EXIT trap (fusermount3 -u, else umount
# -l); the only processes it kills are the mount daemons it started (found
# by this test's own scratch directory in their command line); every wait
# has a timeout.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "skip: t60 mounts as root"
	exit 0
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip: needs /dev/fuse and fusermount3"
	exit 0
fi

mnts=""   # mount points this test mounted
# daemons -- the pids of the mount daemons this test started: processes
# running BUILD_DIR/mount.nvfs whose command line names this test's $T
daemons() {
	local d exe
	exe=$(readlink -f "$MOUNT")
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$exe" ] || continue
		tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qF -- "$T/" || continue
		echo "${d#/proc/}"
	done
}
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() {
	stop_mounts "$mnts" "$(daemons)"
}
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# mounted NAME MNT SRC: checks of a mount made in the background: MNT is
# mounted as fuse.nvfs, a file written through it appears in SRC, and
# fusermount3 -u unmounts it and ends its daemon (waits at most 10 s each)
mounted() {
	local name=$1 mnt=$2 src=$3 pids p up=false
	for _ in $(seq 100); do mountpoint -q "$mnt" && { up=true; break; }; sleep 0.1; done
	if ! $up; then
		fail "$name: $mnt is not mounted"
		sed 's/^/       | /' "$T/.all"
		return
	fi
	ok "$name: mounted"
	pids=$(daemons)
	assert "  ... a daemon of ours serves it" test -n "$pids"
	assert "  ... /proc/mounts shows it as fuse.nvfs" \
		grep -q " $mnt fuse\.nvfs " /proc/mounts
	echo "hello $name" >"$mnt/through" 2>/dev/null
	assert "  ... a file written through it is in SOURCE" \
		test "$(cat "$src/through" 2>/dev/null)" = "hello $name"
	rm -f "$mnt/through"
	assert "  ... removed through it, it is gone from SOURCE" test ! -e "$src/through"
	assert "  ... fusermount3 -u unmounts it" fusermount3 -u "$mnt"
	for p in $pids; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		assert "  ... its daemon $p has ended" test ! -d "/proc/$p"
	done
	assert "  ... not mounted any more" sh -c "! mountpoint -q '$mnt'"
}

mkdir -p "$T/src" "$T/mnt" "$T/bin" || exit 1
ln -s "$MOUNT" "$T/bin/nvfs" || exit 1
SRC=$T/src MNT=$T/mnt
mnts=$MNT

# ---- mount.nvfs as nvfs, in mount.fuse3's argument order --------------------
# (not expect_err1: it wants the basename of the command, nvfs, as the
# prefix, and the prefix is mount.nvfs whatever the name)
expect "nvfs (the link): a usage error says mount.nvfs:" 1 "^mount\.nvfs: .*missing SOURCE or MOUNTPOINT" \
	"$T/bin/nvfs" "$SRC" -o "pmem=$T/a.pmem"
assert "  ... one line, on stderr" test ! -s "$T/.out" -a "$(wc -l <"$T/.err")" -eq 1
expect "nvfs: a bad option is refused as mount.nvfs" 1 "^mount\.nvfs: unknown option 'bogus'$" \
	"$T/bin/nvfs" "$SRC" "$MNT" -o "pmem=$T/a.pmem,bogus"
assert "  ... one line, on stderr" test ! -s "$T/.out" -a "$(wc -l <"$T/.err")" -eq 1
assert "  ... nothing mounted" sh -c "! mountpoint -q '$MNT'"
expect "nvfs SRC MNT -o OPTS,dev,suid (mount.fuse3's order)" 0 "journal 8 MiB, 0 entries to replay" \
	timeout 30 "$T/bin/nvfs" "$SRC" "$MNT" -o "pmem=$T/a.pmem,pmem_size=32M,dev,suid"
mounted "nvfs SRC MNT -o ..." "$MNT" "$SRC"

# ---- (a) mount -t nvfs: /sbin/mount.nvfs ------------------------------------
if [ -x /sbin/mount.nvfs ] && command -v mount >/dev/null; then
	expect "mount -t nvfs (the installed /sbin/mount.nvfs)" 0 "" \
		timeout 30 mount -t nvfs -o "pmem=$T/a.pmem" "$SRC" "$MNT"
	mounted "mount -t nvfs" "$MNT" "$SRC"
else
	echo "skip (a) mount -t nvfs: /sbin/mount.nvfs is not installed (make install puts it there)"
fi

# ---- (b) fuse.nvfs: mount.fuse3 runs nvfs from PATH -------------------------
FUSE3=
for f in /sbin/mount.fuse3 /usr/sbin/mount.fuse3; do
	[ -x "$f" ] && { FUSE3=$f; break; }
done
if [ -z "$FUSE3" ]; then
	echo "skip (b) fuse.nvfs: mount.fuse3 is not installed (Debian: fuse3)"
	finish
fi

# as libmount runs it for `mount -t fuse.nvfs SRC MNT -o OPTS` (and fstab),
# with options mount(8) or fstab may pass: mount.fuse3 drops nofail and
# _netdev itself, nvfs ignores x-*
expect "mount.fuse3 SRC MNT -o OPTS -t fuse.nvfs" 0 "journal 8 MiB, 0 entries to replay" \
	env PATH="$T/bin:$PATH" timeout 30 "$FUSE3" "$SRC" "$MNT" \
	-o "pmem=$T/a.pmem,nofail,_netdev,x-test.opt,rw" -t fuse.nvfs
mounted "mount.fuse3 -t fuse.nvfs" "$MNT" "$SRC"

# mount.fuse3's own TYPE#SOURCE form
expect "mount.fuse3 nvfs#SRC MNT -o OPTS" 0 "journal 8 MiB, 0 entries to replay" \
	env PATH="$T/bin:$PATH" timeout 30 "$FUSE3" "nvfs#$SRC" "$MNT" -o "pmem=$T/a.pmem,allow_other"
mounted "mount.fuse3 nvfs#SRC" "$MNT" "$SRC"

# an error from nvfs reaches the caller of mount.fuse3: exit status and message
expect "mount.fuse3: nvfs's error is passed on" 1 "^mount\.nvfs: pmem .* is inside SOURCE" \
	env PATH="$T/bin:$PATH" timeout 30 "$FUSE3" "$SRC" "$MNT" -o "pmem=$SRC/x.pmem" -t fuse.nvfs
assert "  ... nothing mounted" sh -c "! mountpoint -q '$MNT'"
assert "  ... no pmem made in SOURCE" test ! -e "$SRC/x.pmem"

# without nvfs in PATH, mount.fuse3 fails and nothing is mounted
expect "mount.fuse3 without nvfs in PATH fails" 127 "nvfs.*not found" \
	env PATH=/usr/bin:/bin timeout 30 "$FUSE3" "$SRC" "$MNT" -o "pmem=$T/a.pmem" -t fuse.nvfs
assert "  ... nothing mounted" sh -c "! mountpoint -q '$MNT'"

finish
