#!/bin/bash
# t70-fsx.sh BUILD_DIR -- random operations checked against a model
# (BUILD_DIR/nvfs_fsx, from tests/tools/nvfs_fsx.c: pread/pwrite, O_APPEND,
# truncate, mmap read and write with msync, fallocate, punch hole, zero
# range, copy_file_range, fsync, reopen, whole-file checks):
#  (a) 20000 operations on a scratch directory of the native file system
#      pass: the checker itself is right there;
#  (b) with -X 500 (the model corrupted at operation 500) it exits 1 naming
#      the mismatch, the operation and a command that reproduces it: the
#      checker does fail;
#  (c) 100000 operations (seed $NVFS_FSX_SEED, else a fixed one; printed)
#      through an nvfs mount pass;
#  (d) after the unmount, the files in SOURCE are what the mount showed
#      last (cksums taken through the mount before unmounting), and
#      fsck.nvfs -n finds the pmem clean with an empty journal.
# Usage errors exit 2 with one line.  (a), (b) and the usage errors run
# everywhere; (c) and (d) need root, /dev/fuse and fusermount3 (else
# skipped, saying so).  Every mount this test makes is unmounted by its
# EXIT trap (fusermount3 -u, else umount -l), and only the processes it
# started are killed; every wait has a timeout.
set -u
# shellcheck source=tests/it/lib.sh
. "$(dirname "$0")/lib.sh" || exit 1

X=$B/nvfs_fsx
SEED=${NVFS_FSX_SEED:-20261121}
if [ ! -x "$X" ]; then
	fail "$X is missing: build it first (make)"
	finish
fi

# ---- mounts: started in the background with -f (start_fs), always unmounted
mnts=""   # mount points this test mounted
pids=""   # mount.nvfs processes this test started
# shellcheck disable=SC2317  # called by the EXIT trap
unmount_all() {
	stop_mounts "$mnts" "$pids"
}
trap 'unmount_all; cleanup' EXIT
trap 'exit 1' INT TERM HUP

# sums DIR: "NAME CKSUM SIZE" of each fsx.* file in DIR, one a line
sums() {
	local f
	for f in "$1"/fsx.*; do
		[ -e "$f" ] || continue
		echo "$(basename "$f") $(cksum <"$f")"
	done
}

# fsx NAME RC REGEX SECONDS ARGS...: expect for nvfs_fsx ARGS under a
# timeout of SECONDS (a hung file system must not hang the test), then its
# progress and result lines shown
fsx() {
	local name=$1 rc=$2 re=$3 secs=$4
	shift 4
	expect "$name" "$rc" "$re" timeout -k 5 "$secs" "$X" "$@"
	grep -E '^nvfs_fsx: ([0-9]+ ops|counts:|seed|op [0-9]+: .*disabled)' \
		"$T/.out" | sed 's/^/       : /'
}

# ---- usage ------------------------------------------------------------------
expect_err1 "no DIR: usage error" 2 "missing DIR argument.*usage: nvfs_fsx" "$X"
expect_err1 "unknown option" 2 "unknown option '-q'" "$X" -q "$T"
expect_err1 "-N not a number" 2 "^nvfs_fsx: -N: 'x' is not a number" "$X" -N x "$T"
expect_err1 "MAXOPLEN above MAXLEN" 2 "MAXOPLEN 8192 is larger than MAXLEN 4096" \
	"$X" -l 4k -o 8k "$T"
expect_err1 "-X past the last op" 2 "-X 11 is past the last op" "$X" -N 10 -X 11 "$T"
expect_err1 "DIR missing" 2 "^nvfs_fsx: $(re_quote "$T")/none: No such file or directory" "$X" "$T/none"

# ---- (a) the native file system ----------------------------------------------
N=$T/native
mkdir -p "$N"
fsx "native ($(stat -f -c %T "$N")): 20000 ops pass" 0 "^nvfs_fsx: 20000 ops, seed [0-9]+, OK$" \
	60 -N 20000 "$N"
shows "  ... the seed is printed first" "^nvfs_fsx: seed [0-9]+, 20000 ops, 2 file\(s\) in "
shows "  ... per-op counts" "^nvfs_fsx: counts: read [1-9][0-9]* write [1-9][0-9]* append [1-9]"
shows "  ... a progress line every 5000 ops" "^nvfs_fsx: 5000 ops, " "^nvfs_fsx: 20000 ops, "
assert "  ... the files are left in DIR" test -f "$N/fsx.0" -a -f "$N/fsx.1"

# ---- (b) a corrupted model is a mismatch ----------------------------------------
fsx "-X 500: the model corrupted at op 500 fails the run" 1 \
	"^nvfs_fsx: MISMATCH: fsx\.[01] first differing byte at offset 0x[0-9a-f]+: expected 0x[0-9a-f]{2}, actual 0x[0-9a-f]{2}" \
	60 -N 20000 -S 7 -X 500 "$N"
shows "  ... at op 500, with the seed" "^nvfs_fsx: FAILED at op 500 of 20000, seed 7, "
shows "  ... the last 30 ops, the culprit marked" "^nvfs_fsx: the last 30 ops, oldest first" \
	"^\*    500 corrupt  fsx\.[01] "
shows "  ... how to reproduce" "^nvfs_fsx: reproduce: .*nvfs_fsx -N 500 -S 7 -l 262144 -o 65536 -f 2 -X 500 $(re_quote "$N")$"
lacks "  ... no OK" "OK$"
cp "$T/.all" "$T/x500.all"
fsx "  ... the reproduction fails the same way" 1 "^nvfs_fsx: FAILED at op 500 of 500, seed 7, " \
	60 -N 500 -S 7 -l 262144 -o 65536 -f 2 -X 500 "$N"
assert "  ... with the same first difference" test \
	"$(grep '^nvfs_fsx: MISMATCH' "$T/.all")" = "$(grep '^nvfs_fsx: MISMATCH' "$T/x500.all")"

# ---- (c) through an nvfs mount --------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "skip (c), (d): mounting needs root"
	finish
fi
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip (c), (d): needs /dev/fuse and fusermount3"
	finish
fi
S=$T/src
M=$T/mnt
P=$T/p.pmem
mkdir -p "$S" "$M"
export NVFS_STATE_DIR=$T/state   # never /var/lib/nvfs
if ! start_fs "$M" "$T/mount.log" "$S" "$M" -o pmem="$P",pmem_size=32M; then
	fail "mount.nvfs -f did not mount $M within 10 s"
	finish
fi
ok "mount.nvfs -f mounts SOURCE at MOUNTPOINT"
echo "info seed $SEED (set NVFS_FSX_SEED to change it)"
fsx "nvfs mount: 100000 ops, seed $SEED, pass" 0 "^nvfs_fsx: 100000 ops, seed $SEED, OK$" \
	100 -N 100000 -S "$SEED" "$M"
sums "$M" >"$T/sums.mnt"
assert "  ... files seen through the mount" test "$(wc -l <"$T/sums.mnt")" = 2

# ---- (d) SOURCE after the unmount ------------------------------------------------
stop_fs "$M" "$pid" fusermount
assert "fusermount3 -u: mount.nvfs exits 0" test "$stopped" = 0
assert "  ... unmounted" test "$(grep -c " $M " /proc/mounts)" = 0
sums "$S" >"$T/sums.src"
if cmp -s "$T/sums.mnt" "$T/sums.src"; then
	ok "SOURCE holds what the mount showed (cksum and size of each file)"
else
	fail "SOURCE differs from what the mount showed:"
	diff "$T/sums.mnt" "$T/sums.src" | sed 's/^/       | /'
fi
expect "  ... and the pmem is clean, its journal empty (fsck -n)" 0 ", 0 entries to replay$" \
	"$FSCK" -n "$P"

finish
