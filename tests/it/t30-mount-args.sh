#!/bin/bash
# t30-mount-args.sh BUILD_DIR -- mount.nvfs before the file system starts:
# option parsing, SOURCE/MOUNTPOINT checks, choosing, creating, formatting
# and validating the pmem, and checking its journal (a pmem without a
# journal or with a damaged one is refused).  A successful run mounts (in
# the background) and exits 0; each such mount is unmounted right after its
# check (and by the EXIT trap); errors exit 1 with one line.  The file
# system itself is t50's and t55's.
# NVFS_STATE_DIR (undocumented) replaces /var/lib/nvfs so that the default
# pmem path can be tested without touching the system.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1
MINJ=25174016   # the smallest pmem a mount takes: 16 MiB + 2 buckets of 4 MiB + 2 pages
MOUNTED="journal [0-9]+ MiB, [0-9]+ entries to replay$"   # the last line of a mount
S=$T/src
M=$T/mnt
mkdir -p "$S/sub" "$M"
touch "$T/file"
export NVFS_STATE_DIR=$T/state   # never /var/lib/nvfs

# unmount_all: unmount whatever is mounted under $T and wait (10 s at most)
# until no daemon holds a pmem under $T
unmount_all() {
	local m f
	for _ in 1 2 3; do
		for m in $(awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts); do
			fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done
	done
	for f in $(find "$T" -name '*.pmem' 2>/dev/null); do
		for _ in $(seq 100); do flock -n "$f" true 2>/dev/null && break; sleep 0.1; done
	done
}
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP
# expect_mount NAME REGEX ARGS...: mount.nvfs ARGS mounts (exit 0, output
# matching REGEX); then it is unmounted
expect_mount() {
	local name=$1 re=$2
	shift 2
	expect "$name" 0 "$re" "$MOUNT" "$@"
	unmount_all
}

# usage
expect_err1 "no arguments" 1 "missing SOURCE or MOUNTPOINT.*usage: mount.nvfs" "$MOUNT"
expect_err1 "only SOURCE" 1 "missing SOURCE or MOUNTPOINT" "$MOUNT" "$S"
expect_err1 "three arguments" 1 "too many arguments" "$MOUNT" "$S" "$M" "$T/x"
expect_err1 "unknown flag" 1 "unknown option '-x'" "$MOUNT" -x "$S" "$M"
expect_err1 "unknown long flag" 1 "unknown option '--bogus'" "$MOUNT" --bogus "$S" "$M"
expect_err1 "-o without argument" 1 "option '-o' needs an argument" "$MOUNT" "$S" "$M" -o
expect "--version" 0 "^mount.nvfs \(nvfs\) [0-9]+\.[0-9]+" "$MOUNT" --version
expect "--help" 0 "pmem=PATH" "$MOUNT" --help
assert "  ... --help names pmem_size" grep -q "pmem_size=SIZE" "$T/.all"

# options
p=$T/p.pmem
expect_err1 "unknown option" 1 "^mount.nvfs: unknown option 'bogus'$" "$MOUNT" "$S" "$M" -o pmem="$p",bogus
expect_err1 "unknown option in a second -o" 1 "unknown option 'size=1'" "$MOUNT" "$S" "$M" -o pmem="$p" -o size=1
expect_err1 "pmem= without a path" 1 "option 'pmem=' needs a path" "$MOUNT" "$S" "$M" -o pmem=
expect_err1 "bad pmem_size" 1 "invalid size '12Q'" "$MOUNT" "$S" "$M" -o pmem="$p",pmem_size=12Q
expect_err1 "empty pmem_size" 1 "invalid size ''" "$MOUNT" "$S" "$M" -o pmem="$p",pmem_size=
expect_err1 "pmem_size too small" 1 "pmem_size=16M': 16777216 bytes is too small: nvfs needs at least $MINJ bytes \(24 MiB and two pages\) for the namespace, its journal and its SOURCE binding$" \
	"$MOUNT" "$S" "$M" -o pmem="$p",pmem_size=16M
expect_err1 "pmem_size too small for the journal" 1 "pmem_size=24M': 25165824 bytes is too small: nvfs needs at least $MINJ bytes" \
	"$MOUNT" "$S" "$M" -o pmem="$p",pmem_size=24M
expect_err1 "pmem_size a page too small for the journal" 1 "pmem_size=$((MINJ - 4096))': $((MINJ - 4096)) bytes is too small" \
	"$MOUNT" "$S" "$M" -o pmem="$p",pmem_size=$((MINJ - 4096))
expect_err1 "pmem_size 0" 1 "pmem_size=0': 0 bytes is too small" "$MOUNT" "$S" "$M" -o pmem="$p",pmem_size=0
expect_err1 "bad durability" 1 "^mount.nvfs: option 'durability=always': want durability=op, durability=fsync or durability=auto$" \
	"$MOUNT" "$S" "$M" -o pmem="$p",durability=always
expect_err1 "empty durability" 1 "option 'durability=': want durability=op" "$MOUNT" "$S" "$M" -o pmem="$p",durability=
expect_err1 "checkpoint_secs 0" 1 "^mount.nvfs: option 'checkpoint_secs=0': want a whole number from 1 to 3600$" \
	"$MOUNT" "$S" "$M" -o pmem="$p",checkpoint_secs=0
expect_err1 "checkpoint_secs too large" 1 "option 'checkpoint_secs=3601': want a whole number from 1 to 3600" \
	"$MOUNT" "$S" "$M" -o pmem="$p",checkpoint_secs=3601
expect_err1 "checkpoint_secs not a number" 1 "option 'checkpoint_secs=5s': want a whole number" \
	"$MOUNT" "$S" "$M" -o pmem="$p",checkpoint_secs=5s
assert "  ... option errors create nothing" test ! -e "$p" -a ! -e "$T/state"

# SOURCE and MOUNTPOINT
expect_err1 "SOURCE missing" 1 "SOURCE $T/nope: does not exist" "$MOUNT" "$T/nope" "$M" -o pmem="$p"
expect_err1 "SOURCE not a directory" 1 "SOURCE $T/file: not a directory" "$MOUNT" "$T/file" "$M" -o pmem="$p"
expect_err1 "MOUNTPOINT missing" 1 "MOUNTPOINT $T/nope: does not exist" "$MOUNT" "$S" "$T/nope" -o pmem="$p"
expect_err1 "MOUNTPOINT not a directory" 1 "MOUNTPOINT $T/file: not a directory" "$MOUNT" "$S" "$T/file" -o pmem="$p"
expect_err1 "MOUNTPOINT inside SOURCE" 1 "MOUNTPOINT $S/sub is inside SOURCE $S" "$MOUNT" "$S" "$S/sub" -o pmem="$p"
ln -s "$S/sub" "$T/link"
expect_err1 "MOUNTPOINT inside SOURCE through a symlink" 1 "MOUNTPOINT $T/link is inside SOURCE" "$MOUNT" "$S" "$T/link" -o pmem="$p"
expect_err1 "MOUNTPOINT == SOURCE" 1 "MOUNTPOINT $S/../src is the same directory as SOURCE $S" "$MOUNT" "$S" "$S/../src" -o pmem="$p"
expect_err1 "SOURCE / contains every MOUNTPOINT" 1 "MOUNTPOINT $M is inside SOURCE /" "$MOUNT" / "$M" -o pmem="$p"
mkdir "$T/srcx"
expect_mount "a sibling with SOURCE as prefix is not inside" "$MOUNTED" "$S" "$T/srcx" -o pmem="$T/sib.pmem",pmem_size=32M
expect_err1 "pmem inside SOURCE" 1 "pmem $S/p is inside SOURCE" "$MOUNT" "$S" "$M" -o pmem="$S/p"
expect_err1 "pmem inside MOUNTPOINT" 1 "pmem $M/p is inside MOUNTPOINT" "$MOUNT" "$S" "$M" -o pmem="$M/p"
assert "  ... nothing created" test ! -e "$p" -a ! -e "$S/p" -a ! -e "$M/p"

# a pmem journals one SOURCE: another directory is refused, a moved one or one
# made again at the same path (nothing to replay) is rebound, and said so
bp=$T/bound.pmem
mkdir -p "$T/other" "$T/bsrc"
expect_mount "a new pmem is bound to its SOURCE" "$MOUNTED" "$T/bsrc" "$M" -o pmem="$bp",pmem_size=32M
before=$(sum "$bp")
expect "pmem of another SOURCE" 1 \
	"^mount.nvfs: $bp journals SOURCE $T/bsrc, not $T/other; mount it with its SOURCE, or give this SOURCE its own pmem \(mkfs.nvfs -f empties this one\)$" \
	"$MOUNT" "$T/other" "$M" -o pmem="$bp"
unchanged "  ... pmem unchanged" "$bp" "$before"
mv "$T/bsrc" "$T/bmoved"
expect_mount "a moved SOURCE is rebound" "^mount.nvfs: $bp: SOURCE moved from $T/bsrc to $T/bmoved$" "$T/bmoved" "$M" -o pmem="$bp"
rmdir "$T/bmoved" && mkdir "$T/bmoved"
expect_mount "a SOURCE made again at its path is rebound" "^mount.nvfs: $bp: pmem was bound to $T/bmoved \(another directory\); rebound to $T/bmoved: its journal was empty$" "$T/bmoved" "$M" -o pmem="$bp"

# a pmem holding other data is refused and left untouched
d=$T/data.pmem
truncate -s 32M "$d"
head -c 4096 /dev/urandom | dd of="$d" conv=notrunc status=none
before=$(sum "$d")
expect_err1 "pmem with other data" 1 "$d: holds non-zero data that is not an nvfs namespace.*refusing to format it" \
	"$MOUNT" "$S" "$M" -o pmem="$d",pmem_size=64M
unchanged "  ... content and size unchanged" "$d" "$before"
mkdir "$T/pdir"
expect_err1 "pmem is a directory" 1 "$T/pdir: is a directory" "$MOUNT" "$S" "$M" -o pmem="$T/pdir"
expect_err1 "pmem in a missing directory" 1 "$T/nodir/p: cannot create: No such file" "$MOUNT" "$S" "$M" -o pmem="$T/nodir/p"

# pmem=FILE,pmem_size=64M: created and formatted, then exit 2
expect_mount "new pmem" "$MOUNTED" "$S" "$M" -o pmem="$p",pmem_size=64M
assert "  ... says it created it, with the default journal" grep -Eq "^mount.nvfs: $p: created a new nvfs namespace of 67108864 bytes, uuid [0-9a-f-]{36}, label 'src', journal 12 MiB$" "$T/.all"
assert "  ... and that a mount replays nothing" grep -q "^mount.nvfs: $p: journal 12 MiB, 0 entries to replay$" "$T/.all"
assert "  ... logs the granularity" grep -q "^mount.nvfs: $p: 67108864 bytes, store granularity page" "$T/.all"
u=$(uuid_of)
assert "  ... 64 MiB, mode 0600" test "$(stat -c '%s %a' "$p")" = "67108864 600"
expect "  ... fsck clean (the journal and the SOURCE binding)" 0 "clean, 2 owners, 5 records, 3074/12288 pages used, journal 12 MiB, 0 entries to replay$" "$FSCK" "$p"
before=$(sum "$p")
expect_mount "same pmem again: validated" "$MOUNTED" "$S" "$M" -o pmem="$p",pmem_size=64M
assert "  ... not formatted again" test "$(grep -c 'created\|formatted' "$T/.all")" = 0
assert "  ... the journal checked" grep -q "^mount.nvfs: $p: journal 12 MiB, 0 entries to replay$" "$T/.all"
unchanged "  ... unchanged" "$p" "$before"
expect "  ... fsck clean, same uuid" 0 "ns uuid +$u" "$FSCK" -v "$p"
expect_mount "same pmem, other pmem_size: not resized" "$MOUNTED" "$S" "$M" -o pmem_size=128M,pmem="$p"
unchanged "  ... unchanged" "$p" "$before"
expect_mount "ignored mount and FUSE options" "$MOUNTED" "$S" "$M" -o \
	"allow_other,default_permissions,ro,rw,fsname=nvfs,subtype=nvfs,auto_unmount,_netdev,noauto,nofail,defaults,user,users,x-systemd.automount,x-foo=1,,pmem=$p"
expect_mount "-s (sloppy) ignores unknown options" "$MOUNTED" -s "$S" "$M" -o bogus,pmem="$p"
expect_mount "-n -v accepted, -v describes" "nvfs namespace uuid $u, 2 owners, 3074/12288 pages used" -n -v "$S" "$M" -o pmem="$p"

# an all-zero pmem is formatted (and sized to pmem_size); an empty one too
z=$T/zero.pmem
truncate -s 20M "$z"
expect_mount "all-zero pmem" "$z: formatted an empty pmem as an nvfs namespace of 33554432 bytes, .*, journal 8 MiB$" \
	"$S" "$M" -o pmem="$z",pmem_size=32M
assert "  ... sized to 32 MiB" test "$(stat -c %s "$z")" = 33554432
expect "  ... fsck clean" 0 "clean.*journal 8 MiB" "$FSCK" "$z"
: >"$T/empty.pmem"
expect_mount "empty pmem" "formatted an empty pmem as an nvfs namespace of 33554432 bytes" \
	"$S" "$M" -o pmem="$T/empty.pmem",pmem_size=32M
expect "  ... fsck clean" 0 "clean" "$FSCK" "$T/empty.pmem"
expect_mount "the smallest pmem_size" "created a new nvfs namespace of $MINJ bytes, .*, journal 8 MiB$" \
	"$S" "$M" -o pmem="$T/min.pmem",pmem_size=$MINJ
expect "  ... fsck clean" 0 "clean, 2 owners, 4 records, 2050/2050 pages used, journal 8 MiB" "$FSCK" "$T/min.pmem"

# the journal: a pmem without one, or with a damaged one, is refused, untouched
nj=$T/nojournal.pmem
"$MKFS" -s 32M -J 0 "$nj" >/dev/null
before=$(sum "$nj")
expect_err1 "pmem without a journal" 1 "^mount.nvfs: $nj has no journal \(made with mkfs.nvfs -J 0\); make it with a journal" \
	"$MOUNT" "$S" "$M" -o pmem="$nj"
unchanged "  ... unchanged" "$nj" "$before"
jt=$T/tails.pmem
cp "$p" "$jt"
"$FSCK" -v "$jt" >"$T/.fsck"
hdr=$(sed -En 's/^  header page +(0x[0-9a-f]+)$/\1/p' "$T/.fsck")
poke "$jt" $((hdr + 1024)) X
before=$(sum "$jt")
expect_err1 "pmem whose journal tail copies are bad" 1 \
	"^mount.nvfs: $jt: journal: both tail copies are invalid: .*bad magic \(T1\).*; run fsck.nvfs$" "$MOUNT" "$S" "$M" -o pmem="$jt"
unchanged "  ... unchanged" "$jt" "$before"
jd=$T/damaged.pmem
cp "$p" "$jd"
if jappend "$jd" 1:2:100 c 2:2:100 c 3:2:100 >"$T/.jlist"; then
	# records that are not the file system's (type 1) are refused, the journal kept
	before=$(sum "$jd")
	expect "pmem with journal entries that are not file system records" 1 \
		"^mount.nvfs: $jd: replay of entry 1: invalid \? record: R1: unknown record type 0x1; the journal was left as it is$" \
		"$MOUNT" "$S" "$M" -o pmem="$jd"
	shows "  ... after counting them" "^mount.nvfs: $jd: journal 12 MiB, 6 entries to replay$"
	unchanged "  ... pmem unchanged" "$jd" "$before"
	off=$(sed -En 's/^entry seq 3 .* payload_off ([0-9]+)$/\1/p' "$T/.jlist")
	poke "$jd" $((off + 7)) X
	before=$(sum "$jd")
	expect_err1 "pmem with a damaged journal" 1 \
		"^mount.nvfs: $jd: the journal is damaged at lsn [0-9]+ \(seq 3\): entry 0 \(seq 3\): payload checksum mismatch \(J5\); entries 5\.\.6 after it could not be replayed; run fsck.nvfs -v$" \
		"$MOUNT" "$S" "$M" -o pmem="$jd"
	unchanged "  ... unchanged" "$jd" "$before"
else
	echo "skip the journal entry cases: cannot build tests/it/jappend.c"
	cat "$T/.jappend.log" 2>/dev/null
fi

# a damaged or foreign nvfs pmem is refused, untouched
c=$T/corrupt.pmem
cp "$p" "$c"
poke "$c" 4096 X
before=$(sum "$c")
expect_err1 "pmem with a bad primary superblock" 1 "$c: superblock at 0x1000: bad magic.*run fsck.nvfs" \
	"$MOUNT" "$S" "$M" -o pmem="$c"
unchanged "  ... unchanged" "$c" "$before"
cp "$p" "$c"
if sbset "$c" 4096 16 4 2 && sbset "$c" 6144 16 4 2; then
	before=$(sum "$c")
	expect_err1 "pmem of a newer format version" 1 "unsupported format version 2" "$MOUNT" "$S" "$M" -o pmem="$c"
	unchanged "  ... unchanged" "$c" "$before"
	cp "$p" "$c"
	sbset "$c" 4096 40 8 0x4 && sbset "$c" 6144 40 8 0x4
	expect "pmem with an unknown ro_compat feature" 0 "can only be mounted read-only" "$MOUNT" "$S" "$M" -o pmem="$c"
	assert "  ... mounted read-only" grep -q " $M fuse.nvfs ro," /proc/mounts
	unmount_all
else
	echo "skip the version/feature cases: cannot build the superblock helper"
fi

# in use
before=$(sum "$p")
if hold_lock "$p"; then
	expect_err1 "pmem in use" 1 "$p: pmem is in use by another process" "$MOUNT" "$S" "$M" -o pmem="$p"
	release_lock
else
	fail "could not take the lock with flock(1)"
fi
unchanged "  ... unchanged" "$p" "$before"

# the default pmem: <state>/<basename>-<16 hex digits>.pmem, state made 0700
st=$T/state/deeper
export NVFS_STATE_DIR=$st
expect_mount "default pmem" "$MOUNTED" "$S" "$M" -o pmem_size=32M
assert "  ... state directory made, mode 0700" test "$(stat -c %a "$st" 2>/dev/null)" = 700
def=$(ls "$st" 2>/dev/null)
# shellcheck disable=SC2317  # run through assert / expect
named_ok() { [[ $def =~ ^src-[0-9a-f]{16}\.pmem$ ]]; }
assert "  ... one file named src-<16 hex>.pmem" named_ok
assert "  ... the message names it" grep -q "$st/$def: journal" "$T/.all"
expect "  ... fsck clean" 0 "clean" "$FSCK" "$st/$def"
expect_mount "default pmem, again (via another spelling of SOURCE)" "$st/$def: journal" "$T/./src/" "$M"
assert "  ... still one file" test "$(find "$st" -type f | wc -l)" = 1
mkdir -p "$T/other/src"
expect_mount "another SOURCE with the same basename" "$MOUNTED" "$T/other/src" "$M" -o pmem_size=32M
assert "  ... gets its own pmem" test "$(find "$st" -type f | wc -l)" = 2
# the hash is XXH3-64 of the realpath (checked if a C compiler is at hand)
cat >"$T/h.c" <<'CEOF'
#define XXH_INLINE_ALL
#include <stdio.h>
#include <string.h>
#include <xxhash.h>
int main(int argc, char **argv)
{
	(void)argc;
	printf("%016llx\n", (unsigned long long)XXH3_64bits_withSeed(argv[1], strlen(argv[1]), 0));
	return 0;
}
CEOF
if cc -o "$T/h" "$T/h.c" 2>/dev/null; then
	assert "  ... the name's hash is XXH3-64 of realpath(SOURCE)" test "$def" = "src-$("$T/h" "$S").pmem"
else
	echo "skip the hash check: no C compiler or xxhash.h"
fi

# a user other than root: $XDG_STATE_HOME/nvfs, else ~/.local/state/nvfs
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	U=$T/user
	mkdir -p "$U/home" "$U/xdg" "$U/src" "$U/mnt"
	chmod 755 "$T"
	chown -R nobody "$U"
	# shellcheck disable=SC2317  # run through assert / expect
	as_nobody() {
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
			env -u NVFS_STATE_DIR -u XDG_STATE_HOME HOME="$U/home" "$@"
	}
	# a mount needs /dev/fuse, which some machines keep at mode 600: then the
	# mount fails after choosing the pmem, which is what is checked here
	# shellcheck disable=SC2317  # run through expect
	mount_nobody() {
		as_nobody "$@"
		local rc=$?
		if [ $rc = 1 ] && grep -q "cannot mount on .*/dev/fuse" "$T/.err" 2>/dev/null; then rc=0; fi
		return $rc
	}
	# shellcheck disable=SC2317
	try_nobody() { mount_nobody "$@" 2>"$T/.err"; local rc=$?; cat "$T/.err" >&2; unmount_all; return $rc; }
	expect "non-root: ~/.local/state/nvfs" 0 "$U/home/.local/state/nvfs/src-[0-9a-f]{16}\.pmem: journal" \
		try_nobody "$MOUNT" "$U/src" "$U/mnt" -o pmem_size=32M
	assert "  ... made with mode 0700" test "$(stat -c %a "$U/home/.local/state/nvfs")" = 700
	expect "non-root: \$XDG_STATE_HOME/nvfs" 0 "$U/xdg/nvfs/src-[0-9a-f]{16}\.pmem: journal" \
		try_nobody XDG_STATE_HOME="$U/xdg" "$MOUNT" "$U/src" "$U/mnt" -o pmem_size=32M
	expect "non-root: relative XDG_STATE_HOME is ignored" 0 "$U/home/.local/state/nvfs/src-[0-9a-f]{16}\.pmem: journal" \
		try_nobody XDG_STATE_HOME=rel "$MOUNT" "$U/src" "$U/mnt" -o pmem_size=32M
else
	echo "skip the non-root default path: needs root, setpriv and user nobody"
fi

finish
